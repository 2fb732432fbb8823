"""More of the editor's warnings: mistakes the API server accepts but people rarely mean.

They never block a save. Each is {path, level, message} like drafts.warnings, so the
Problems list and the field marks show them the same way.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from ..models import Cluster, Namespace, NetworkPolicy, Pod, Workload

DIRECTIONS = (("ingress", "from"), ("egress", "to"))


def known_namespaces(cluster: Cluster) -> set[str]:
    """Namespaces the cluster has: Namespace objects, and namespaces of mirrored rows."""
    names = set(Namespace.objects.filter(cluster=cluster).values_list("name", flat=True))
    for model in (Workload, Pod, NetworkPolicy):
        names |= set(model.objects.filter(cluster=cluster).values_list("namespace", flat=True).distinct())
    return names


def _selectors(spec: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "spec.podSelector", spec.get("podSelector")
    for direction, peers_key in DIRECTIONS:
        for i, rule in enumerate(spec.get(direction) or []):
            for j, peer in enumerate((rule or {}).get(peers_key) or []):
                for key in ("podSelector", "namespaceSelector"):
                    if key in (peer or {}):
                        yield f"spec.{direction}[{i}].{peers_key}[{j}].{key}", peer[key]


def extra_warnings(obj: Mapping[str, Any], cluster: Cluster | None) -> list[dict[str, str]]:
    spec = obj.get("spec") or {}
    ns = (obj.get("metadata") or {}).get("namespace") or "default"
    out: list[dict[str, str]] = []

    def add(path: str, message: str, level: str = "warning") -> None:
        out.append({"path": path, "level": level, "message": message})

    for direction, peers_key in DIRECTIONS:
        for i, rule in enumerate(spec.get(direction) or []):
            for j, peer in enumerate((rule or {}).get(peers_key) or []):
                peer = peer or {}
                path = f"spec.{direction}[{i}].{peers_key}[{j}]"
                if "podSelector" in peer and not peer["podSelector"] and "namespaceSelector" not in peer:
                    add(
                        f"{path}.podSelector",
                        f"Rule {i + 1}, peer {j + 1}: podSelector {{}} selects every pod of namespace "
                        f"{ns}. Add labels if only some pods are meant.",
                    )
                block = peer.get("ipBlock")
                if isinstance(block, Mapping):
                    for where, cidr in [("cidr", block.get("cidr")), *(
                        (f"except[{k}]", c) for k, c in enumerate(block.get("except") or [])
                    )]:
                        if not isinstance(cidr, str) or "/" not in cidr:
                            continue
                        try:
                            network = ipaddress.ip_network(cidr, strict=False)
                        except ValueError:
                            continue
                        if str(network) != cidr and ipaddress.ip_interface(cidr).ip != network.network_address:
                            add(
                                f"{path}.ipBlock.{where}",
                                f"{cidr} has host bits set: it means {network}. Write {network}, "
                                f"or /{network.max_prefixlen} for the single address.",
                            )
    for path, sel in _selectors(spec):
        labels = (sel or {}).get("matchLabels") if isinstance(sel, Mapping) else None
        for key, value in (labels or {}).items():
            if value == "":
                add(
                    f"{path}.matchLabels",
                    f"Label {key} has an empty value: only objects whose {key} label is set to the "
                    "empty string match. Was a value forgotten? (Use an Exists expression for any value.)",
                )
    if cluster is not None:
        names = known_namespaces(cluster)
        if ns not in names:
            add(
                "metadata.namespace",
                f"Namespace {ns} does not exist in cluster {cluster.name}: the policy would select no pod "
                "until it is created.",
            )
    return out
