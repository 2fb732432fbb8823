"""The fake's etcd: objects, one global resourceVersion counter, the event history, watchers.

Stored objects are never mutated in place (every write stores a fresh dict), so readers may
hold references without copying. All methods take the store lock; callers that need several
steps to be atomic (read, check, write) hold `store.lock` themselves: it is re-entrant.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .resources import Resource
from .status import ApiError, expired

CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list."
)
LIST_EXPIRED = "The resourceVersion for the provided list is too old."


def object_key(obj: dict[str, Any]) -> str:
    """The etcd key suffix: `namespace/name`, or `name` for cluster-scoped objects."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    return f"{namespace}/{metadata['name']}" if namespace else metadata["name"]


@dataclass(frozen=True)
class Event:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    resource: Resource
    obj: dict[str, Any]  # as the watch event carries it
    prev: dict[str, Any] | None  # the stored object before this event


@dataclass(eq=False)
class Watcher:
    resource: Resource
    queue: deque[Event] = field(default_factory=deque)
    closing: str | None = None  # None while open; "graceful" or "abort" once told to end


def encode_continue(rv: int, last_key: str) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": rv, "start": last_key + "\x00"}
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(400, f"continue key is not valid: {token}", "BadRequest") from None


class Store:
    def __init__(self, start_rv: int = 1000, history_limit: int | None = None) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = start_rv
        # Watches and consistent lists can start from any RV >= compacted_rv.
        self.compacted_rv = start_rv
        self.history_limit = history_limit
        self._objects: dict[str, dict[str, dict[str, Any]]] = {}
        self._history: deque[Event] = deque()
        self._watchers: dict[str, set[Watcher]] = {}

    # --- reads ---------------------------------------------------------------------------

    def get(self, resource: Resource, key: str) -> dict[str, Any] | None:
        with self.lock:
            return self._objects.get(resource.qualified, {}).get(key)

    def snapshot(self, resource: Resource, rv: int | None = None) -> dict[str, dict[str, Any]]:
        """key -> object, as of `rv` (default: now). 410 if rv is older than the compaction."""
        with self.lock:
            state = dict(self._objects.get(resource.qualified, {}))
            if rv is None or rv >= self.rv:
                return state
            if rv < self.compacted_rv:
                raise expired(LIST_EXPIRED)
            for event in reversed(self._history):
                if event.rv <= rv:
                    break
                if event.resource.qualified != resource.qualified:
                    continue
                key = object_key(event.obj)
                if event.type == "ADDED":
                    state.pop(key, None)
                elif event.prev is not None:
                    state[key] = event.prev
            return state

    def all_objects(self) -> list[tuple[str, dict[str, Any]]]:
        """(plural, object) for everything stored."""
        with self.lock:
            return [(plural, obj) for plural, objects in self._objects.items()
                    for obj in objects.values()]

    # --- writes --------------------------------------------------------------------------

    def commit(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        """Stores obj (ADDED or MODIFIED) under a new resourceVersion; returns what was stored."""
        with self.lock:
            key = object_key(obj)
            bucket = self._objects.setdefault(resource.qualified, {})
            prev = bucket.get(key)
            self.rv += 1
            stored = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.rv)}}
            bucket[key] = stored
            self._record(Event(self.rv, "MODIFIED" if prev else "ADDED", resource, stored, prev))
            return stored

    def remove(self, resource: Resource, key: str) -> dict[str, Any] | None:
        """Deletes the object; the DELETED event carries it at the deletion's resourceVersion."""
        with self.lock:
            prev = self._objects.get(resource.qualified, {}).pop(key, None)
            if prev is None:
                return None
            self.rv += 1
            final = {**prev, "metadata": {**prev["metadata"], "resourceVersion": str(self.rv)}}
            self._record(Event(self.rv, "DELETED", resource, final, prev))
            return final

    def _record(self, event: Event) -> None:
        self._history.append(event)
        if self.history_limit is not None:
            while len(self._history) > self.history_limit:
                self.compacted_rv = self._history.popleft().rv
        for watcher in self._watchers.get(event.resource.qualified, ()):
            watcher.queue.append(event)
        self.changed.notify_all()

    def compact(self) -> int:
        """Forgets the event history: older resourceVersions now answer 410 Gone."""
        with self.lock:
            self._history.clear()
            self.compacted_rv = self.rv
            return self.rv

    # --- watchers ------------------------------------------------------------------------

    def open_watch(self, resource: Resource, since: int | None,
                   keep: Callable[[dict[str, Any]], bool] = lambda o: True,
                   ) -> tuple[Watcher, list[Event], int]:
        """Registers a watcher; returns it, the events it must send first, and the RV they
        bring it to. since=None: synthetic ADDED events for the current state.
        Raises ApiError 410 when `since` is older than the compaction point."""
        with self.lock:
            if since is None:
                initial = [Event(self.rv, "ADDED", resource, obj, None)
                           for _, obj in sorted(self._objects.get(resource.qualified, {}).items())
                           if keep(obj)]
            else:
                if since < self.compacted_rv:
                    raise expired(f"too old resource version: {since} ({self.compacted_rv})")
                initial = [e for e in self._history
                           if e.rv > since and e.resource.qualified == resource.qualified]
            watcher = Watcher(resource)
            self._watchers.setdefault(resource.qualified, set()).add(watcher)
            return watcher, initial, self.rv

    def close_watch(self, watcher: Watcher) -> None:
        with self.lock:
            self._watchers.get(watcher.resource.qualified, set()).discard(watcher)
            self.changed.notify_all()

    def watchers(self) -> list[Watcher]:
        with self.lock:
            return [w for group in self._watchers.values() for w in group]

    def end_watches(self, how: str) -> None:
        with self.lock:
            for watcher in self.watchers():
                watcher.closing = how
            self.changed.notify_all()

    def drain(self, watcher: Watcher, timeout: float) -> tuple[list[Event], int]:
        """Waits up to `timeout` for events; returns them and an RV every sent event reaches."""
        with self.lock:
            if not watcher.queue and watcher.closing is None:
                self.changed.wait(timeout)
            events = list(watcher.queue)
            watcher.queue.clear()
            return events, self.rv
