"""A fake kube-apiserver on 127.0.0.1 for tests, spoken to by the official `kubernetes` client.

    with FakeKubeApiServer(token="t0k3n") as fake:
        fake.put(objects.namespace("team-a"))
        client = kubernetes.config.new_client_from_config(
            config_file=str(fake.write_kubeconfig(tmp_path / "kubeconfig")), context="fake")
        kubernetes.client.CoreV1Api(client).list_namespace()

Real HTTP/1.1 (keep-alive, chunked watch streams), optional TLS, bearer-token
authentication, RBAC denials, list paging with continue tokens, watches with bookmarks,
timeouts and 410 after compaction, create/replace/patch/server-side apply/delete with
dryRun, and fault injection (errors, 429 Retry-After, cut streams, slowness, outage).
The semantics behind each verb live in api.py; storage and watch fan-out in store.py.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import socketserver
import ssl
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from .api import Api
from .resources import (
    RESOURCES,
    Resource,
    cni_resources,
    groups,
    policy_api_resources,
    resource_at,
    resource_for,
)
from .selectors import make_filter
from .status import ApiError, forbidden, method_not_allowed, options_invalid, unauthorized
from .store import Event, Store
from .tls import Certificates, shared_certificates

DEFAULT_USER = "system:serviceaccount:netpolui:netpolui"
PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version")
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass
class RequestRecord:
    """One request as the server saw it; `status` is filled in once answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    started: float
    status: int | None = None
    watch: bool = False
    body: bytes = b""


@dataclass
class _Fault:
    remaining: int
    status: int
    retry_after: int | None
    path_contains: str | None
    method: str | None
    message: str | None
    watch: bool | None


@dataclass
class _Cut:
    after_events: int
    path_contains: str | None


@dataclass(frozen=True)
class _Denial:
    verb: str
    resource: str
    namespace: str | None


@dataclass
class _Watch:
    record: RequestRecord
    connection: Any
    started: float = field(default_factory=time.monotonic)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube-apiserver"
    sys_version = ""
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _dispatch(self) -> None:
        self.server.fake._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # a sync opens many watches at once

    def __init__(self, address: tuple[str, int], fake: FakeKubeApiServer,
                 ssl_context: ssl.SSLContext | None) -> None:
        self.fake = fake
        self.ssl_context = ssl_context
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup we do not need.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is not None:
            # The handshake runs here, in the connection's own thread, not in the accept loop.
            request.settimeout(10)
            request = self.ssl_context.wrap_socket(request, server_side=True)
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # handshake failures and dropped peers are part of the tests


class FakeKubeApiServer:
    """An in-process Kubernetes API server; see the module docstring."""

    def __init__(
        self,
        *,
        token: str | None = None,
        tls: bool = False,
        user: str = DEFAULT_USER,
        bookmark_interval: float = 1.0,
        watch_timeout: float | None = None,
        start_resource_version: int = 1000,
        history_limit: int | None = None,
        version: tuple[str, str] = ("1", "33"),
        policy_api: bool = False,
        cni_api: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
        cluster_network_policy_versions: tuple[str, ...] = ("v1alpha2",),
    ) -> None:
        self.token = token
        # policy_api: also serve Nodes and the policy.networking.k8s.io kinds
        # (ClusterNetworkPolicy in cluster_network_policy_versions, AdminNetworkPolicy and
        # BaselineAdminNetworkPolicy v1alpha1), as a cluster with those CRDs does.
        self.served: tuple[Resource, ...] = (
            (*RESOURCES, *policy_api_resources(cluster_network_policy_versions)) if policy_api else RESOURCES
        ) + cni_resources(cni_api)
        self.tls = tls
        self.user = user
        self.bookmark_interval = bookmark_interval
        self.watch_timeout = watch_timeout
        self.version = version
        self.store = Store(start_resource_version, history_limit)
        self.api = Api(self.store)
        self.certificates: Certificates | None = shared_certificates() if tls else None
        self.host = "127.0.0.1"
        self.port = 0
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        self._state = threading.Lock()
        self._paused = False
        self._connections: set[Any] = set()
        self._requests: list[RequestRecord] = []
        self._faults: list[_Fault] = []
        self._cuts: list[_Cut] = []
        self._slow: dict[str | None, float] = {}
        self._denials: set[_Denial] = set()
        self._watches: dict[int, _Watch] = {}
        self._watches_started = 0
        self.errors: list[str] = []  # unexpected exceptions inside the fake (should stay empty)

    def __repr__(self) -> str:
        state = "paused" if self._paused else "running" if self._httpd else "stopped"
        return f"<FakeKubeApiServer {self.url} {state} rv={self.store.rv}>"

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeKubeApiServer:
        with self._lifecycle:
            if self._httpd is None:
                self._listen(self.port)
        return self

    def stop(self) -> None:
        with self._lifecycle:
            self._close_listener()
            self._paused = False
        self.store.end_watches("abort")
        self._drop_connections()

    def __enter__(self) -> FakeKubeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ca_file(self) -> Path | None:
        return self.certificates.ca_file if self.certificates else None

    def pause(self) -> None:
        """The server becomes unreachable: connections are refused, open streams are cut."""
        with self._lifecycle:
            if self._httpd is None:
                return
            self._close_listener()
            self._paused = True
        self.store.end_watches("abort")
        self._drop_connections()

    def resume(self) -> None:
        """Listens again on the same port; stored objects and history are kept."""
        with self._lifecycle:
            if self._paused:
                self._listen(self.port)
                self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def _listen(self, port: int) -> None:
        context = None
        if self.certificates is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.certificates.cert_file, self.certificates.key_file)
        deadline = time.monotonic() + 5
        while True:
            try:
                self._httpd = _HttpServer((self.host, port), self, context)
                break
            except OSError:
                if port == 0 or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"fake-k8s:{self.port}", daemon=True)
        self._thread.start()

    def _close_listener(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _track(self, connection: Any, opened: bool) -> None:
        with self._state:
            if opened:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _drop_connections(self) -> None:
        with self._state:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    # --- kubeconfig ----------------------------------------------------------------------

    def write_kubeconfig(self, path: str | Path, context: str = "fake", token: str | None = None,
                         ca_file: str | Path | None = None, insecure: bool = False,
                         namespace: str = "default") -> Path:
        """A kubeconfig for `kubernetes.config.load_kube_config(config_file=, context=)`.

        token=None uses the server's token and "" writes none; ca_file=None uses the
        server's CA (with TLS) and "" writes none, so verification uses the system store."""
        cluster: dict[str, Any] = {"server": self.url}
        if insecure:
            cluster["insecure-skip-tls-verify"] = True
        else:
            ca = self.ca_file if ca_file is None else ca_file
            if ca and self.tls:
                cluster["certificate-authority"] = str(ca)
        user: dict[str, Any] = {}
        bearer = self.token if token is None else token
        if bearer:
            user["token"] = bearer
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": cluster}],
            "users": [{"name": context, "user": user}],
            "contexts": [{"name": context,
                          "context": {"cluster": context, "user": context,
                                      "namespace": namespace}}],
            "current-context": context,
            "preferences": {},
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(config, sort_keys=False))
        return target

    # --- control API: the cluster's state ------------------------------------------------

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Creates or replaces obj as a controller would: defaults applied, no validation,
        status and a given uid kept. A different uid for an existing name means the object
        was deleted and recreated. Emits ADDED/MODIFIED; returns the stored object."""
        from .resources import resource_for_object

        if resource_for_object(obj) not in self.served:
            raise KeyError(f"this fake API server does not serve {obj.get('apiVersion')} "
                           f"{obj.get('kind')} (start it with policy_api=True or cni_api=...)")
        return _copy(self.api.put(obj))

    upsert = put

    def put_all(self, objs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.put(obj) for obj in objs]

    def delete(self, kind: str, namespace: str | None, name: str, *,
               cascade: bool = True) -> dict[str, Any] | None:
        """Deletes now and emits DELETED; dependents (ownerReferences, or everything in a
        deleted namespace) follow unless cascade=False. None if it did not exist."""
        resource = resource_for(kind)
        return _copy(self.api.remove(resource, namespace, name, cascade=cascade))

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        resource = resource_for(kind)
        return _copy(self.store.get(resource, self.api.key(resource, namespace, name)))

    def objects(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """The current objects of a kind (plural, Kind or short name), sorted as lists are."""
        resource = resource_for(kind)
        state = self.store.snapshot(resource)
        return [_copy(state[k]) for k in sorted(state)
                if namespace is None or state[k]["metadata"].get("namespace") == namespace]

    def load_manifests(self, sources: str | Path | dict[str, Any]
                       | Iterable[str | Path | dict[str, Any]]) -> list[dict[str, Any]]:
        """put() every object from YAML/JSON files, directories (recursive), multi-document
        YAML, `kind: List`, or dicts. Namespaces are stored first."""
        objs = list(_manifest_objects(sources))
        objs.sort(key=lambda o: o.get("kind") != "Namespace")
        return [self.put(obj) for obj in objs]

    def compact(self) -> int:
        """Drops the event history, as etcd compaction does: watches and continue tokens
        from an older resourceVersion now get 410 Expired. Returns the compaction RV."""
        return self.store.compact()

    @property
    def resource_version(self) -> str:
        """The current global resourceVersion, as a list would report it."""
        return str(self.store.rv)

    # --- control API: RBAC ---------------------------------------------------------------

    def deny(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """Requests with this verb on this resource get 403 Forbidden. verb or resource may be
        "*". With a namespace, requests in that namespace and cluster-wide requests (which
        would need access to it too) are denied; other namespaces stay allowed."""
        plural = resource if resource == "*" else resource_for(resource).plural
        with self._state:
            self._denials.add(_Denial(verb, plural, namespace))

    def allow(self, verb: str, resource: str, namespace: str | None = None) -> None:
        plural = resource if resource == "*" else resource_for(resource).plural
        with self._state:
            self._denials.discard(_Denial(verb, plural, namespace))

    def allow_all(self) -> None:
        with self._state:
            self._denials.clear()

    # --- control API: faults -------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, retry_after: int | None = None,
                  path_contains: str | None = None, method: str | None = None,
                  message: str | None = None, watch: bool | None = None) -> None:
        """The next n matching requests get `status` with a Status body (429: reason
        TooManyRequests; retry_after adds the Retry-After header and details).
        watch=True only matches watch requests, watch=False only the others."""
        with self._state:
            self._faults.append(_Fault(n, status, retry_after, path_contains,
                                       method.upper() if method else None, message, watch))

    def cut_next_watch(self, after_events: int = 0, path_contains: str | None = None) -> None:
        """The next matching watch writes `after_events` complete event lines (bookmarks
        count), then half of the following line, then drops the connection. A watch that
        ends before getting that far leaves the cut for the next one."""
        with self._state:
            self._cuts.append(_Cut(after_events, path_contains))

    def slow(self, seconds: float, path_contains: str | None = None) -> None:
        """Delay every matching response by `seconds` (0 removes the delay)."""
        with self._state:
            if seconds > 0:
                self._slow[path_contains] = seconds
            else:
                self._slow.pop(path_contains, None)

    def close_watches(self) -> None:
        """End every open watch cleanly, as an API server does when a watch times out."""
        self.store.end_watches("graceful")

    def expire_watches(self) -> int:
        """Compact, and end every open watch with an ERROR event (410 Expired), as when a
        watcher falls behind the compaction. Returns the compaction resourceVersion."""
        compacted = self.store.compact()
        self.store.end_watches("expire")
        return compacted

    def clear_faults(self) -> None:
        with self._state:
            self._faults.clear()
            self._cuts.clear()
            self._slow.clear()

    # --- observation ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        with self._state:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._state:
            self._requests.clear()

    def find_requests(self, method: str | None = None, path_contains: str | None = None,
                      watch: bool | None = None, **query: str) -> list[RequestRecord]:
        """Requests matching all given filters, e.g. find_requests("GET", "/pods", limit="500")."""
        return [r for r in self.requests
                if (method is None or r.method == method.upper())
                and (path_contains is None or path_contains in r.path)
                and (watch is None or r.watch == watch)
                and all(r.query.get(k) == v for k, v in query.items())]

    def watch_count(self, path_contains: str | None = None) -> int:
        """Watch streams open right now."""
        with self._state:
            return sum(1 for w in self._watches.values()
                       if path_contains is None or path_contains in w.record.path)

    @property
    def watches_started(self) -> int:
        return self._watches_started

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0,
                 message: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"fake k8s: timed out after {timeout}s waiting for {message}")
            time.sleep(0.02)

    def wait_for_watches(self, count: int = 1, timeout: float = 5.0,
                         path_contains: str | None = None) -> None:
        self.wait_for(lambda: self.watch_count(path_contains) >= count, timeout,
                      f"{count} open watch(es) on {path_contains or 'any path'}")

    # --- request handling ----------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() in ("user-agent", "content-type", "accept")}
        record = RequestRecord(h.command, parts.path, query, headers, time.monotonic())
        with self._state:
            self._requests.append(record)
        try:
            length = int(h.headers.get("Content-Length") or 0)
            record.body = h.rfile.read(length) if length else b""
            self._delay(parts.path)
            self._inject_fault(h.command, parts.path, _is_watch(parts.path, query))
            self._route(h, record)
        except ApiError as error:
            self._send_json(h, record, error.code, error.body, error.headers)
        except OSError:  # the peer went away, or pause()/stop() shut the socket
            h.close_connection = True
        except Exception:  # a bug in the fake: answer like the apiserver does, and remember it
            self.errors.append(traceback.format_exc())
            error = ApiError(500, "Internal error occurred: fake k8s bug, see server.errors")
            with contextlib.suppress(OSError):
                self._send_json(h, record, 500, error.body)

    def _delay(self, path: str) -> None:
        with self._state:
            delay = next((s for key, s in self._slow.items() if key and key in path),
                         self._slow.get(None, 0))
        if delay:
            time.sleep(delay)

    def _inject_fault(self, method: str, path: str, watch: bool) -> None:
        with self._state:
            for fault in self._faults:
                if (fault.remaining > 0
                        and (fault.path_contains is None or fault.path_contains in path)
                        and (fault.method is None or fault.method == method)
                        and (fault.watch is None or fault.watch == watch)):
                    fault.remaining -= 1
                    break
            else:
                return
            self._faults = [f for f in self._faults if f.remaining > 0]
        headers = {}
        details = None
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
            details = {"retryAfterSeconds": fault.retry_after}
        raise ApiError(fault.status, fault.message, None, details, headers)

    def _authenticate(self, h: _Handler, path: str) -> None:
        if self.token is None:
            return
        header = h.headers.get("Authorization", "")
        if not header:
            if path in PUBLIC_PATHS:
                return  # system:public-info-viewer lets anonymous callers read these
            raise unauthorized()
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not _constant_time_equal(value.strip(), self.token):
            raise unauthorized()

    def _route(self, h: _Handler, record: RequestRecord) -> None:
        path = record.path.rstrip("/") or "/"
        self._authenticate(h, path)
        if path in ("/healthz", "/livez", "/readyz"):
            self._send_raw(h, record, 200, b"ok", "text/plain; charset=utf-8")
            return
        if path == "/version":
            self._send_json(h, record, 200, self._version())
            return
        if h.command == "GET" and (discovery := self._discovery(path)) is not None:
            self._send_json(h, record, 200, discovery)
            return
        self._serve_resource(h, record, path)

    def _version(self) -> dict[str, Any]:
        major, minor = self.version
        return {"major": major, "minor": minor, "emulationMajor": major,
                "emulationMinor": minor, "gitVersion": f"v{major}.{minor}.0",
                "gitCommit": "0" * 40, "gitTreeState": "clean",
                "buildDate": "2025-04-23T00:00:00Z", "goVersion": "go1.24.2",
                "compiler": "gc", "platform": "linux/amd64"}

    def _discovery(self, path: str) -> dict[str, Any] | None:
        by_gv = groups(self.served)
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                    "serverAddress": f"{self.host}:{self.port}"}]}
        named: dict[str, list[str]] = {}
        for gv in by_gv:
            if "/" in gv:
                named.setdefault(gv.split("/")[0], []).append(gv)

        def group_doc(name: str) -> dict[str, Any]:
            # Newest version first, and preferred, as the API server orders them.
            versions = [{"groupVersion": gv, "version": gv.split("/")[1]}
                        for gv in sorted(named[name], reverse=True)]
            return {"name": name, "versions": versions, "preferredVersion": versions[0]}

        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1",
                    "groups": [group_doc(name) for name in named]}
        segments = path.strip("/").split("/")
        if segments[0] == "apis" and len(segments) == 2 and segments[1] in named:
            return {"kind": "APIGroup", "apiVersion": "v1", **group_doc(segments[1])}
        gv = ("v1" if segments == ["api", "v1"]
              else "/".join(segments[1:]) if segments[0] == "apis" and len(segments) == 3
              else None)
        if gv not in by_gv:
            return None
        resources = []
        for r in by_gv[gv]:
            resources.append({"name": r.plural, "singularName": r.singular,
                              "namespaced": r.namespaced, "kind": r.kind, "verbs": _VERBS,
                              **({"shortNames": list(r.short_names)} if r.short_names else {})})
            if r.has_status:
                resources.append({"name": f"{r.plural}/status", "singularName": "",
                                  "namespaced": r.namespaced, "kind": r.kind,
                                  "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                "resources": resources}

    def _parse(self, path: str) -> tuple[Resource, str | None, str | None, str | None, bool]:
        not_found = ApiError(404, None, "NotFound")
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 2 and segments[0] == "api":
            group, version, rest = "", segments[1], segments[2:]
        elif len(segments) >= 3 and segments[0] == "apis":
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            raise not_found
        legacy_watch = bool(rest) and rest[0] == "watch"
        if legacy_watch:
            rest = rest[1:]
        namespace = None
        if (len(rest) >= 3 and rest[0] == "namespaces"
                and resource_at(group, version, rest[2], self.served) is not None):
            namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise not_found
        resource = resource_at(group, version, rest[0], self.served)
        if resource is None or (namespace is not None and not resource.namespaced):
            raise not_found
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if subresource not in (None, "status") or (subresource and not resource.has_status):
            raise not_found
        return resource, namespace, name, subresource, legacy_watch

    def _serve_resource(self, h: _Handler, record: RequestRecord, path: str) -> None:
        resource, namespace, name, subresource, legacy_watch = self._parse(path)
        query = record.query
        method = h.command
        watch = legacy_watch or _is_watch(path, query)
        if name is None:
            verb = {"GET": "watch" if watch else "list", "POST": "create",
                    "DELETE": "deletecollection"}.get(method)
            if verb is None or (verb == "create" and resource.namespaced and namespace is None):
                raise method_not_allowed()
        else:
            verb = {"GET": "get", "PUT": "update", "PATCH": "patch",
                    "DELETE": "delete"}.get(method)
            if verb is None:
                raise method_not_allowed()
        self._authorize(verb, resource, namespace, name, subresource)
        dry_run = _dry_run(query)
        manager = query.get("fieldManager") or h.headers.get("User-Agent", "").split("/")[0]
        body = record.body
        if verb == "watch":
            record.watch = True
            self._serve_watch(h, record, resource, namespace)
        elif verb == "list":
            self._send_json(h, record, 200, self.api.list(resource, namespace, query))
        elif verb == "get":
            self._send_json(h, record, 200, self.api.get(resource, namespace, name or ""))
        elif verb == "create":
            created = self.api.create(resource, namespace, _json(body), manager=manager,
                                      dry_run=dry_run)
            self._send_json(h, record, 201, created)
        elif verb == "update":
            updated = self.api.replace(resource, namespace, name or "", _json(body),
                                       manager=manager, dry_run=dry_run, subresource=subresource)
            self._send_json(h, record, 200, updated)
        elif verb == "patch":
            force = query.get("force")
            patched, created = self.api.patch(
                resource, namespace, name or "", body, h.headers.get("Content-Type", ""),
                manager=query.get("fieldManager") or (
                    None if "apply-patch" in h.headers.get("Content-Type", "") else manager),
                force=None if force is None else force.lower() in ("true", "1"),
                dry_run=dry_run, subresource=subresource)
            self._send_json(h, record, 201 if created else 200, patched)
        elif verb == "delete":
            options = _json(body) if body else {}
            if "propagationPolicy" in query:
                options = {**options, "propagationPolicy": query["propagationPolicy"]}
            self._send_json(h, record, 200, self.api.delete(resource, namespace, name or "",
                                                            options, dry_run=dry_run))
        else:
            self._send_json(h, record, 200, self.api.delete_collection(resource, namespace, query,
                                                                       dry_run=dry_run))

    def _authorize(self, verb: str, resource: Resource, namespace: str | None,
                   name: str | None, subresource: str | None) -> None:
        # For /api/v1/namespaces/{name} the request's namespace is the namespace itself.
        scope = name if resource.kind == "Namespace" and name else namespace
        with self._state:
            denials = list(self._denials)
        for denial in denials:
            if (denial.verb in (verb, "*") and denial.resource in (resource.plural, "*")
                    and (denial.namespace is None or scope is None or denial.namespace == scope)):
                raise forbidden(resource, name, verb, self.user, scope, subresource)

    # --- watch ---------------------------------------------------------------------------

    def _serve_watch(self, h: _Handler, record: RequestRecord, resource: Resource,
                     namespace: str | None) -> None:
        query = record.query
        _check_watch_options(query)
        keep = make_filter(query.get("labelSelector"), query.get("fieldSelector"),
                           resource.plural)

        def visible(obj: dict[str, Any] | None) -> bool:
            if obj is None:
                return False
            in_scope = namespace is None or obj["metadata"].get("namespace") == namespace
            return in_scope and keep(obj)

        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        send_initial = query.get("sendInitialEvents") in ("true", "1")
        rv = query.get("resourceVersion") or ""
        timeout = float(query["timeoutSeconds"]) if query.get("timeoutSeconds") else \
            self.watch_timeout
        since = None if send_initial or rv in ("", "0") else _watch_rv(rv)
        try:
            watcher, initial, initial_rv = self.store.open_watch(resource, since, visible)
        except ApiError as error:
            # The watch cache answers an expired resourceVersion inside a 200 stream.
            self._start_stream(h, record)
            self._write_chunk(h, _event_line("ERROR", error.body))
            self._write_chunk(h, b"")
            return
        with self._state:
            cut = next((c for c in self._cuts
                        if c.path_contains is None or c.path_contains in record.path), None)
            if cut is not None:
                self._cuts.remove(cut)
            self._watches[id(record)] = _Watch(record, h.connection)
            self._watches_started += 1
        written = 0
        cut_done = False
        last_rv = since or initial_rv

        def emit(line: bytes, rv: int) -> bool:
            nonlocal written, cut_done, last_rv
            if cut is not None and written >= cut.after_events:
                self._write_chunk(h, line[: max(1, len(line) // 2)])
                cut_done = True
                h.close_connection = True
                with contextlib.suppress(OSError):
                    h.connection.shutdown(socket.SHUT_RDWR)
                return False
            self._write_chunk(h, line)
            written += 1
            last_rv = max(last_rv, rv)
            return True

        def bookmark(at: int, initial_end: bool = False) -> bytes:
            metadata: dict[str, Any] = {"resourceVersion": str(at)}
            if initial_end:
                metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
            return _event_line("BOOKMARK", {"kind": resource.kind,
                                            "apiVersion": resource.api_version,
                                            "metadata": metadata})

        try:
            self._start_stream(h, record)
            deadline = time.monotonic() + timeout if timeout else None
            for event in initial:
                line = _translate(event, visible)
                if line is not None and not emit(line, event.rv):
                    return
            end_of_initial = bookmark(initial_rv, initial_end=True)
            if send_initial and bookmarks and not emit(end_of_initial, initial_rv):
                return
            last_bookmark = time.monotonic()
            while True:
                now = time.monotonic()
                if watcher.closing == "abort":
                    h.close_connection = True
                    return
                if watcher.closing == "expire":
                    expired = ApiError(410, f"too old resource version: {last_rv} "
                                            f"({self.store.compacted_rv})", "Expired")
                    self._write_chunk(h, _event_line("ERROR", expired.body))
                    break
                if watcher.closing == "graceful" or (deadline is not None and now >= deadline):
                    break
                wait = 0.1 if deadline is None else max(0.0, min(0.1, deadline - now))
                events, current_rv = self.store.drain(watcher, wait)
                for event in events:
                    line = _translate(event, visible)
                    if line is not None and not emit(line, event.rv):
                        return
                if _peer_closed(h.connection):
                    h.close_connection = True
                    return
                if bookmarks and time.monotonic() - last_bookmark >= self.bookmark_interval:
                    at = max(current_rv, last_rv)  # never behind what the client asked for
                    if not emit(bookmark(at), at):
                        return
                    last_bookmark = time.monotonic()
            self._write_chunk(h, b"")
        except OSError:
            h.close_connection = True
        finally:
            self.store.close_watch(watcher)
            with self._state:
                self._watches.pop(id(record), None)
                if cut is not None and not cut_done:
                    self._cuts.insert(0, cut)

    def _start_stream(self, h: _Handler, record: RequestRecord) -> None:
        record.status = 200
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Cache-Control", "no-cache, private")
        h.send_header("Audit-Id", str(uuid.uuid4()))
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

    @staticmethod
    def _write_chunk(h: _Handler, data: bytes) -> None:
        h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        h.wfile.flush()

    # --- responses -----------------------------------------------------------------------

    def _send_json(self, h: _Handler, record: RequestRecord, code: int, body: Any,
                   headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self._send_raw(h, record, code, data, "application/json", headers)

    def _send_raw(self, h: _Handler, record: RequestRecord, code: int, data: bytes,
                  content_type: str, headers: dict[str, str] | None = None) -> None:
        record.status = code
        h.send_response(code)
        h.send_header("Content-Type", content_type)
        h.send_header("Cache-Control", "no-cache, private")
        h.send_header("Audit-Id", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


# --- helpers ------------------------------------------------------------------------------


def _copy(obj: Any) -> Any:
    return None if obj is None else json.loads(json.dumps(obj))


def _constant_time_equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as exc:
        raise ApiError(400, f"the body of the request was not valid JSON: {exc}",
                       "BadRequest") from None


def _dry_run(query: dict[str, str]) -> bool:
    value = query.get("dryRun")
    if value in (None, ""):
        return False
    if value != "All":
        raise options_invalid("CreateOptions", [{
            "reason": "FieldValueNotSupported", "field": "dryRun",
            "message": f'Unsupported value: "{value}": supported values: "All"'}])
    return True


def _is_watch(path: str, query: dict[str, str]) -> bool:
    return query.get("watch") in ("1", "true", "True") or "/watch/" in path


def _watch_rv(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f'invalid resource version "{value}"', "BadRequest") from None


def _check_watch_options(query: dict[str, str]) -> None:
    rv_match = query.get("resourceVersionMatch") or ""
    if "sendInitialEvents" in query:
        if rv_match != "NotOlderThan":
            raise options_invalid("ListOptions", [{
                "reason": "FieldValueForbidden", "field": "resourceVersionMatch",
                "message": "Forbidden: sendInitialEvents requires setting resourceVersionMatch "
                           "to NotOlderThan"}])
    elif rv_match:
        raise options_invalid("ListOptions", [{
            "reason": "FieldValueForbidden", "field": "resourceVersionMatch",
            "message": "Forbidden: resourceVersionMatch is forbidden for watch unless "
                       "sendInitialEvents is provided"}])
    if query.get("continue"):
        raise ApiError(400, "the continue parameter is not supported for watch", "BadRequest")


def _event_line(event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _translate(event: Event, visible: Callable[[dict[str, Any] | None], bool]) -> bytes | None:
    """The line one watcher sees for a store event, given its namespace and selectors: an
    object that starts matching arrives as ADDED, one that stops matching as DELETED
    (with its previous content at the event's resourceVersion), as the watch cache does."""
    now_visible = visible(event.obj)
    if event.type == "ADDED":
        return _event_line("ADDED", event.obj) if now_visible else None
    was_visible = visible(event.prev)
    if event.type == "DELETED":
        return _event_line("DELETED", event.obj) if was_visible else None
    if now_visible and was_visible:
        return _event_line("MODIFIED", event.obj)
    if now_visible:
        return _event_line("ADDED", event.obj)
    if was_visible and event.prev is not None:
        gone = {**event.prev, "metadata": {**event.prev["metadata"],
                                           "resourceVersion": str(event.rv)}}
        return _event_line("DELETED", gone)
    return None


def _peer_closed(connection: Any) -> bool:
    """During a watch the client never sends anything, so readable means it hung up."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _manifest_objects(sources: Any) -> Iterable[dict[str, Any]]:
    if isinstance(sources, dict | str | Path):
        sources = [sources]
    for source in sources:
        if isinstance(source, dict):
            yield from _expand(source)
            continue
        path = Path(source)
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json")) \
            if path.is_dir() else [path]
        for file in files:
            for document in yaml.safe_load_all(file.read_text()):
                if document:
                    yield from _expand(document)


def _expand(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    if document.get("kind", "").endswith("List") and "items" in document:
        for item in document["items"] or []:
            yield from _expand(item)
    else:
        yield document


__all__ = ["DEFAULT_USER", "RESOURCES", "FakeKubeApiServer", "RequestRecord"]
