"""Hiding credentials in URLs before any text reaches a page, a payload, a log line or
the audit trail.

``redact_credentials(text)`` parses every ``scheme://`` URL in the text: the userinfo is
everything up to the LAST ``@`` of the authority (a password may hold ``@``), so
``https://user:p@ss@host/x.git`` becomes ``https://***@host/x.git``. An authority that
cannot be a host (``https://user:pa/ss@host``, a password with an unescaped ``/``)
hides everything after the scheme, since where the password ends is unknowable.
"""

from __future__ import annotations

import re

_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)(\S*)")
_AUTHORITY_END = re.compile(r"[/?#\\]")
HIDDEN = "***"


def _redact_url(match: re.Match[str]) -> str:
    scheme, rest = match.group(1), match.group(2)
    end_match = _AUTHORITY_END.search(rest)
    end = end_match.start() if end_match else len(rest)
    authority, after = rest[:end], rest[end:]
    if "@" in authority:
        authority = f"{HIDDEN}@{authority.rsplit('@', 1)[1]}"
    elif "@" in after and not _is_host(authority):
        return f"{scheme}{HIDDEN}"
    # A URL may carry another in its path or query (`?mirror=https://u:p@h/`).
    return f"{scheme}{authority}{redact_credentials(after)}"


def _is_host(authority: str) -> bool:
    """host, host:port or [v6]:port -- not user:password cut short by a `/`."""
    if authority.startswith("["):
        _, _, tail = authority.partition("]")
        return tail == "" or (tail.startswith(":") and tail[1:].isascii() and tail[1:].isdigit())
    if ":" not in authority:
        return True
    port = authority.rsplit(":", 1)[1]
    return port == "" or (port.isascii() and port.isdigit())


def redact_credentials(text: str) -> str:
    """`text` with the credentials of every URL in it replaced by ***."""
    if "://" not in text:
        return text
    return _URL.sub(_redact_url, text)
