"""Page payloads kept in this process with their rendered `<script type="application/json">`
tag, keyed by a cache key that holds the cluster's state version (any sync write makes
them stale at once). A large cluster's graph or matrix payload is megabytes: unpickling
it from Django's cache, or rendering it again, would cost more than a warm page may take."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.utils.html import json_script

SIZE = 8

_items: OrderedDict[str, tuple[dict[str, Any], str]] = OrderedDict()
_lock = threading.Lock()


def page_data(key: str, element_id: str, build: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """(payload, the payload as a safe `<script id=element_id>` tag), built once per key."""
    full_key = f"{key}#{element_id}"
    with _lock:
        if full_key in _items:
            _items.move_to_end(full_key)
            return _items[full_key]
    payload = build()
    built = (payload, str(json_script(payload, element_id)))
    with _lock:
        _items[full_key] = built
        while len(_items) > SIZE:
            _items.popitem(last=False)
    return built


def clear() -> None:
    with _lock:
        _items.clear()
