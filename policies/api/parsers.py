"""Request-body parsing with a nesting limit: json.loads recurses, so a body of a
million `[` would end in RecursionError (a 500), and a few hundred levels would reach
code that walks objects recursively. Kubernetes objects need ~20 levels."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_NESTING = 100


def nesting_depth(value: Any, limit: int) -> int:
    """The depth of nested lists and dicts, counted without recursion, up to limit + 1."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_NESTING} levels") from None
        if nesting_depth(data, MAX_JSON_NESTING) > MAX_JSON_NESTING:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_NESTING} levels")
        return data
