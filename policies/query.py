"""Query parameters read by hand (pages and a few API actions): strict parsers that turn
garbage into a sentence naming the parameter, never into an ORM lookup or a number the
database cannot hold."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_ID = 2**63 - 1  # the largest bigint primary key
MAX_IDS = 500
_DIGITS = re.compile(r"^[0-9]{1,19}$")


class BadParameter(ValueError):
    """`name` has a value we cannot use; `message` says why in words."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        super().__init__(f"{name}: {message}")


def parse_id(value: str | None) -> int | None:
    """A database id (1 .. 2**63-1) written in ASCII digits, or None."""
    text = (value or "").strip()
    if not _DIGITS.match(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def parse_ids(values: Iterable[str], name: str = "ids") -> list[int]:
    """`?ids=1,2&ids=3` -> [1, 2, 3]; BadParameter for anything but ids."""
    raw = [v.strip() for item in values for v in item.split(",") if v.strip()]
    if len(raw) > MAX_IDS:
        raise BadParameter(name, f"at most {MAX_IDS} ids")
    ids = []
    for text in raw:
        number = parse_id(text)
        if number is None:
            raise BadParameter(name, f"{text[:40]!r} is not an id (a whole number from 1)")
        ids.append(number)
    return ids
