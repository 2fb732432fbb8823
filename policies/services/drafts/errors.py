"""Why a draft operation was refused: the exceptions drafts raise and the field errors they report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ... import engine


class DraftError(Exception):
    """A draft operation was refused; the message says why, in words."""


class DraftInvalid(DraftError):
    """The policy would be rejected by the API server (or cannot be read)."""

    def __init__(self, errors: Sequence[engine.FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


class DraftConflict(DraftError):
    """Another draft has that name, or the draft changed since the caller read it."""


class ApplyRefused(DraftError):
    """Apply is off, the cluster has no API server, or no dry run preceded it."""


class ApplyFailed(DraftError):
    """The API server refused the apply or could not be reached; `status` is its HTTP
    status (None when unreachable), `conflict` a field manager conflict."""

    def __init__(self, message: str, *, status: int | None, conflict: bool) -> None:
        super().__init__(message)
        self.status = status
        self.conflict = conflict


# The field errors drafts report (path, message), for pages and API to name in signatures.
FieldError = engine.FieldError


def error_dicts(errors: Iterable[engine.FieldError]) -> list[dict[str, str]]:
    return [{"path": e.path, "message": e.message, "text": str(e)} for e in errors]
