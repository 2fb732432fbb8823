"""Endpoint keys: the connection-list names of reachability endpoints, built and read here.

- an object of the cluster: ``namespace/name[Kind]`` (``shop/backend[Deployment]``,
  ``shop/web-0[Pod]``);
- an address range outside the cluster: ``first-last[External]``
  (``0.0.0.0-255.255.255.255[External]``, a single address is ``a.b.c.d-a.b.c.d``);
- a group (tier, namespace): any other text (``shop/app=web``, ``shop``).
"""

from __future__ import annotations

EXTERNAL = "External"
_EXTERNAL_SUFFIX = "[External]"


def object_key(namespace: str, name: str, kind: str) -> str:
    """``shop/backend[Deployment]``."""
    return f"{namespace}/{name}[{kind}]"


def external_key(ip_range: str) -> str:
    """``10.0.0.0-10.255.255.255[External]`` for the range text ``first-last``."""
    return f"{ip_range}{_EXTERNAL_SUFFIX}"


def parse_object_key(key: str) -> tuple[str, str, str] | None:
    """``ns/name[Kind]`` -> (namespace, name, kind); None for address ranges and groups."""
    if not key.endswith("]") or "[" not in key:
        return None
    body, _, kind = key[:-1].rpartition("[")
    namespace, sep, name = body.partition("/")
    if not sep or not kind.isalpha() or kind == EXTERNAL:
        return None
    return namespace, name, kind


def external_range(key: str) -> str | None:
    """``first-last[External]`` -> ``first-last``; None for any other key."""
    return key[: -len(_EXTERNAL_SUFFIX)] if key.endswith(_EXTERNAL_SUFFIX) else None
