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

# A run of scheme characters followed by `://`, found from the run's first character only
# (the look-behind): a URL starts at the first letter of the run that begins a word, as
# `\b[a-z][a-z0-9+.-]*://` would match it. That pattern itself was tried from every
# word start of a run (`a+a+a+...`) to the run's end: quadratic, 0.7 s for 10,000
# characters and more than 10 s for 100,000.
_SCHEME_RUN = re.compile(r"(?i)(?<![a-z0-9+.-])[a-z0-9+.-]++://")
_SCHEME_START = re.compile(r"(?i)\b[a-z]")
_SPACE = re.compile(r"\s")
_AUTHORITY_END = re.compile(r"[/?#\\]")
HIDDEN = "***"


def _scheme_start(text: str, run_start: int, run_end: int) -> int | None:
    """Where the URL of the scheme run text[run_start:run_end] starts, or None."""
    for i in range(run_start, run_end):
        if _SCHEME_START.match(text, i):  # \b sees text[i - 1], as in a search
            return i
    return None


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
    """`text` with the credentials of every URL in it replaced by ***.

    One pass from left to right, in time linear in the text: a URL inside another's path
    or query (`?mirror=https://u:p@h/`) is met by the same loop, not by a call for the
    rest of the URL (a thousand nested URLs were a RecursionError)."""
    if "://" not in text:
        return text
    out: list[str] = []
    done = 0  # text[:done] is in out
    at = 0
    # A URL in another's path ends where the outer one does; each is looked up once.
    url_end = next_at_sign = -1
    while (run := _SCHEME_RUN.search(text, at)) is not None:
        rest = run.end()  # after the scheme's `://`
        start = _scheme_start(text, run.start(), rest - 3)
        if start is None:
            at = rest
            continue
        if rest > url_end:
            space = _SPACE.search(text, rest)
            url_end = space.start() if space else len(text)
        end_match = _AUTHORITY_END.search(text, rest, url_end)
        end = end_match.start() if end_match else url_end
        authority = text[rest:end]
        out.append(text[done:rest])
        if "@" in authority:
            out.append(f"{HIDDEN}@{authority.rsplit('@', 1)[1]}")
        else:
            if next_at_sign < end:
                next_at_sign = text.find("@", end, url_end)
                next_at_sign = url_end if next_at_sign < 0 else next_at_sign
            if next_at_sign < url_end and not _is_host(authority):
                # user:pa/ss@host: where the password ends is unknowable, hide the rest
                out.append(HIDDEN)
                done = at = url_end
                continue
            out.append(authority)
        done = at = end  # the path and query may hold another URL
    out.append(text[done:])
    return "".join(out)
