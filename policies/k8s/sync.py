"""List + watch of every mirrored resource of one cluster, written into a MirrorStore.

Three layers, as kopf and client-go write a watch loop:
1. `ClusterSync.run` starts one worker per resource and a heartbeat, until stopped.
2. `_run_resource` reconnects forever with capped, jittered backoff (honouring
   Retry-After); on 410 Gone it re-lists, never retrying the expired version.
3. `_list` pages through the resource and hands the whole set to the store, which diffs
   it against stored rows so deletions missed while the watch was down are applied;
   `_watch` streams events from the list's resourceVersion with bookmarks, a server-side
   timeout and a client read timeout.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from .client import RESOURCES, Resource, SyncFailure, describe_failure, server_url

log = logging.getLogger(__name__)


class MirrorStore(Protocol):
    """Where a sync writes; implemented over the Django models in policies.mirror."""

    def resource_version(self, resource: Resource) -> str: ...

    def replace_all(self, resource: Resource, items: list[dict[str, Any]], resource_version: str) -> None: ...

    def replace_listed(self, resource: Resource, pages: Iterable[ListPage]) -> int: ...

    def apply_event(self, resource: Resource, event_type: str, obj: dict[str, Any], resource_version: str) -> None: ...

    def bookmark(self, resource: Resource, resource_version: str) -> None: ...

    def heartbeat(self, *, live: bool) -> None: ...

    def record_failure(self, resource: Resource | None, failure: SyncFailure) -> None: ...

    def clear_failure(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ListPage:
    """One page of a paged list. `first` starts a list: after a restart (the continue
    token expired) the pages before it no longer count."""

    items: list[dict[str, Any]]
    resource_version: str  # the list's, as its first page said
    first: bool


class Gone(Exception):
    """The resourceVersion we watched from has been compacted away: re-list."""


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter; Retry-After overrides the draw."""

    base: float = 0.5
    cap: float = 30.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self, retry_after: float | None = None) -> float:
        self.attempt += 1
        if retry_after is not None:
            return min(retry_after, self.cap * 4)
        ceiling = min(self.cap, self.base * (2 ** (self.attempt - 1)))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.attempt = 0


@dataclass(frozen=True)
class SyncOptions:
    page_size: int = 500
    watch_timeout_seconds: int = 300  # the server ends each watch after this long
    read_timeout_seconds: float = 60.0  # no byte for this long (bookmarks included): reconnect
    connect_timeout_seconds: float = 10.0
    heartbeat_seconds: float = 10.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0


class ClusterSync:
    """Keeps a MirrorStore equal to one cluster's API server state."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        store_factory: Callable[[], MirrorStore],
        *,
        options: SyncOptions | None = None,
        resources: tuple[Resource, ...] = RESOURCES,
        on_progress: Callable[[str], None] | None = None,
        heartbeat_hook: Callable[[], None] | None = None,
    ) -> None:
        self.api_client = api_client
        self.store_factory = store_factory
        self.options = options or SyncOptions()
        self.resources = resources
        self.server = server_url(api_client)
        self.stop_event = threading.Event()
        self._progress = on_progress or (lambda message: log.info("%s", message))
        self._heartbeat_hook = heartbeat_hook
        self._failed: dict[str, SyncFailure] = {}
        self._failed_lock = threading.Lock()
        self._watching: set[str] = set()

    # --- entry points -------------------------------------------------------------------

    def list_once(self) -> bool:
        """One list pass over every resource; True when all of them succeeded."""
        store = self.store_factory()
        try:
            ok = True
            for resource in self.resources:
                try:
                    count = self._list(store, resource)
                    self._progress(f"listed {count} {resource.key}")
                except Exception as exc:  # reported on the cluster, never a traceback
                    failure = describe_failure(exc, resource=resource, server=self.server)
                    store.record_failure(resource, failure)
                    self._progress(f"{resource.key}: {failure.message}")
                    ok = False
            if ok:
                store.clear_failure()
            store.heartbeat(live=False)
            return ok
        finally:
            store.close()

    def run(self, *, duration: float | None = None) -> None:
        """List then watch every resource until stop() or `duration` seconds pass."""
        deadline = time.monotonic() + duration if duration is not None else None
        threads = [
            threading.Thread(
                target=self._run_resource, args=(resource, deadline), name=f"sync-{resource.key}", daemon=True
            )
            for resource in self.resources
        ]
        for thread in threads:
            thread.start()
        store = self.store_factory()
        last_beat = 0.0
        last_health: bool | None = None
        try:
            # Beat every heartbeat_seconds, and at once when health changes (all watches
            # up, or one failing), so the status shown follows the sync within a second.
            while not self.stop_event.wait(self._wait_time(deadline, 0.5)):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                health = self._healthy()
                if health != last_health or time.monotonic() - last_beat >= self.options.heartbeat_seconds:
                    self._beat(store, health)
                    last_beat, last_health = time.monotonic(), health
            self._beat(store, self._healthy())
        finally:
            self.stop_event.set()
            for thread in threads:
                thread.join(timeout=self.options.read_timeout_seconds + 5)
            store.close()

    def stop(self) -> None:
        self.stop_event.set()

    def _healthy(self) -> bool:
        with self._failed_lock:
            return not self._failed and len(self._watching) == len(self.resources)

    def _beat(self, store: MirrorStore, healthy: bool) -> None:
        store.heartbeat(live=healthy)
        if self._heartbeat_hook:
            self._heartbeat_hook()

    @staticmethod
    def _wait_time(deadline: float | None, interval: float) -> float:
        if deadline is None:
            return interval
        return max(0.0, min(interval, deadline - time.monotonic()))

    # --- layer 1: reconnect forever -------------------------------------------------------

    def _run_resource(self, resource: Resource, deadline: float | None) -> None:
        store = self.store_factory()
        backoff = Backoff(self.options.backoff_base, self.options.backoff_cap)
        resource_version = store.resource_version(resource)
        try:
            while not self._stopping(deadline):
                try:
                    if not resource_version:
                        self._set_watching(resource, False)
                        count = self._list(store, resource)
                        resource_version = store.resource_version(resource)
                        self._progress(f"listed {count} {resource.key}")
                    self._mark_ok(store, resource)
                    self._set_watching(resource, True)
                    resource_version = self._watch(store, resource, resource_version, deadline, backoff)
                except Gone:
                    self._progress(f"{resource.key}: watch expired (410 Gone), listing again")
                    resource_version = ""
                except Exception as exc:
                    failure = describe_failure(exc, resource=resource, server=self.server)
                    if failure.kind == "gone":
                        resource_version = ""
                        continue
                    self._set_watching(resource, False)
                    # Resume from the last event the store applied, not the last list.
                    resource_version = store.resource_version(resource)
                    self._mark_failed(store, resource, failure)
                    delay = backoff.next_delay(failure.retry_after)
                    if not failure.retryable_soon:
                        delay = max(delay, min(self.options.backoff_cap, 5.0))
                    self._progress(f"{resource.key}: {failure.message}; retrying in {delay:.1f}s")
                    self.stop_event.wait(self._wait_time(deadline, delay))
        finally:
            self._set_watching(resource, False)
            store.close()

    def _stopping(self, deadline: float | None) -> bool:
        return self.stop_event.is_set() or (deadline is not None and time.monotonic() >= deadline)

    def _set_watching(self, resource: Resource, watching: bool) -> None:
        with self._failed_lock:
            if watching:
                self._watching.add(resource.key)
            else:
                self._watching.discard(resource.key)

    def _mark_failed(self, store: MirrorStore, resource: Resource, failure: SyncFailure) -> None:
        with self._failed_lock:
            self._failed[resource.key] = failure
        store.record_failure(resource, failure)

    def _mark_ok(self, store: MirrorStore, resource: Resource) -> None:
        with self._failed_lock:
            was_failed = self._failed.pop(resource.key, None) is not None
            all_ok = not self._failed
        if was_failed and all_ok:
            store.clear_failure()

    # --- layer 2: list -----------------------------------------------------------------------

    def _list(self, store: MirrorStore, resource: Resource) -> int:
        """Page through the resource, each page handed to the store as it arrives (a
        100,000-object cluster is never held in memory at once)."""
        return store.replace_listed(resource, list_pages(resource.lister(self.api_client), resource, self.options))

    # --- layer 3: watch ----------------------------------------------------------------------

    def _watch(
        self,
        store: MirrorStore,
        resource: Resource,
        resource_version: str,
        deadline: float | None,
        backoff: Backoff,
    ) -> str:
        """Stream events until the server ends the watch; returns the version reached."""
        timeout = self.options.watch_timeout_seconds
        if deadline is not None:
            timeout = max(1, min(timeout, int(deadline - time.monotonic()) + 1))
        response = resource.lister(self.api_client)(
            watch=True,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=timeout,
            _preload_content=False,
            _request_timeout=(self.options.connect_timeout_seconds, self.options.read_timeout_seconds),
        )
        try:
            for line in _lines(response):
                if self.stop_event.is_set():
                    break
                event = json.loads(line)
                event_type = event.get("type")
                obj = event.get("object") or {}
                if event_type == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone(obj.get("message", "resource version too old"))
                    raise ApiException(status=obj.get("code") or 500, reason=obj.get("message") or obj.get("reason"))
                new_version = str((obj.get("metadata") or {}).get("resourceVersion") or resource_version)
                if event_type == "BOOKMARK":
                    store.bookmark(resource, new_version)
                elif event_type in {"ADDED", "MODIFIED", "DELETED"}:
                    store.apply_event(resource, event_type, resource.slim(obj), new_version)
                resource_version = new_version
                backoff.reset()
        finally:
            response.close()
            response.release_conn()
        return resource_version


def list_resource(
    lister: Callable[..., Any],
    resource: Resource,
    options: SyncOptions,
    *,
    slim: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """Every item of one list call, paged, slimmed, with the list's resourceVersion.

    `lister` is a cluster-wide or a namespaced list method of the official client;
    `slim` replaces slim_object for kinds it does not know."""
    items: list[dict[str, Any]] = []
    list_version = ""
    for page in list_pages(lister, resource, options, slim=slim):
        if page.first:
            items = []
        items.extend(page.items)
        list_version = page.resource_version
    return items, list_version


def list_pages(
    lister: Callable[..., Any],
    resource: Resource,
    options: SyncOptions,
    *,
    slim: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Iterator[ListPage]:
    """The pages of one list call (`limit` = options.page_size, then `continue`),
    slimmed, as they arrive. When the continue token expires (410) between pages the
    list starts over: the next page says `first` again."""
    keep = slim or resource.slim
    for _attempt in range(3):
        continue_token: str | None = None
        list_version = ""
        first = True
        try:
            while True:
                kwargs: dict[str, Any] = {
                    "limit": options.page_size,
                    "_preload_content": False,
                    "_request_timeout": (
                        options.connect_timeout_seconds,
                        options.read_timeout_seconds,
                    ),
                }
                if continue_token:
                    kwargs["_continue"] = continue_token
                response = lister(**kwargs)
                page = json.loads(response.data)
                metadata = page.get("metadata") or {}
                if not list_version:
                    list_version = str(metadata.get("resourceVersion") or "")
                items = [keep(item) for item in page.get("items") or []]
                continue_token = metadata.get("continue") or None
                del page
                yield ListPage(items, list_version, first)
                first = False
                if not continue_token:
                    return
        except ApiException as exc:
            if exc.status == 410:  # the continue token expired: start the list over
                continue
            raise
    raise Gone(f"{resource.key}: the list kept expiring")


def _lines(response: Any) -> Iterator[str]:
    """Complete lines of a chunked watch response; a half line at a cut is dropped."""
    buffer = bytearray()
    for chunk in response.stream(amt=None, decode_content=False):
        buffer.extend(chunk)
        while (newline := buffer.find(b"\n")) != -1:
            line = bytes(buffer[:newline]).decode("utf-8", "replace").strip()
            del buffer[: newline + 1]
            if line:
                yield line
    tail = bytes(buffer).decode("utf-8", "replace").strip()
    if tail:
        # A stream that ends inside an event was cut: the partial event is not applied,
        # and the caller reconnects from the last complete event's version.
        try:
            json.loads(tail)
        except ValueError:
            log.info("watch stream ended inside an event; reconnecting")
            return
        yield tail
