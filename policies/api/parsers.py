"""Request-body parsing with a nesting limit: json.loads recurses, so a body of a
million `[` would end in RecursionError (a 500), and a few hundred levels would reach
code that walks objects recursively. Kubernetes objects need ~20 levels."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from ..web import JsonTooDeep, check_json_nesting


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return check_json_nesting(super().parse(stream, media_type, parser_context))
        except (RecursionError, JsonTooDeep):
            raise ParseError(f"JSON parse error - {JsonTooDeep()}") from None
