"""Why drift could not run or a source cannot be used.
"""

from __future__ import annotations

from collections.abc import Mapping


class SourceUnreadable(Exception):
    """The source could not be read at all; the message says why, in words."""


class NoSources(Exception):
    """The cluster has no enabled desired-state source."""


class SourceInvalid(ValueError):
    """A source's settings cannot be used; `errors` maps field names to sentences."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))
