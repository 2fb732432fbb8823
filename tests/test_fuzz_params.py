"""Garbage through every query parameter of every API endpoint and every page (empty,
huge integers, NUL bytes, unicode, lookup-like strings, 5,000 characters), through the
id in every API path, and through every body: each field of every API operation's JSON
(and multipart) body, raw bodies that are not JSON or nest ~1,000 levels, every form
field and file of every page. Nothing may answer 5xx; a bad value is a 4xx (or is
ignored); every answer carries the CSP, and API errors are JSON."""

from __future__ import annotations

import io
import re
from typing import Any, ClassVar

import django.core.handlers.wsgi
import pytest
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver

from policies import engine
from policies.models import DesiredSource, DriftReport, Namespace, NetworkPolicy, Pod, Workload
from policies.services import drafts, drift

pytestmark = pytest.mark.django_db

GARBAGE = [
    "",
    "0",
    "-1",
    "99999999999999999999",
    "1e309",
    "a\x00b",
    "é☃𝄞",
    "²",
    "isnull=x",
    "a__b=1",
    "regex=(",
    "../../etc/passwd",
    "1,2,abc",
    "x" * 5000,
]



class RecordingQueryDict(QueryDict):
    """Query parameters that remember which names a view asked for."""

    asked: ClassVar[set[str]] = set()

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        return super().__getitem__(key)

    def getlist(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().getlist(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return super().__contains__(key)


def parameters_read(client: Any, url: str, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The query parameters the view behind `url` reads (forms, filtersets, request.GET)."""
    RecordingQueryDict.asked = set()
    with monkeypatch.context() as patch:
        patch.setattr(django.core.handlers.wsgi, "QueryDict", RecordingQueryDict)
        client.get(url)
        client.get(url, {"page": "1"})
    return {name for name in RecordingQueryDict.asked if isinstance(name, str)}


class Lazy:
    """A row made on first use (a drift report costs a comparison)."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._value: Any = None

    @property
    def pk(self) -> int:
        if self._value is None:
            self._value = self._make()
        return int(self._value.pk) if self._value is not None else 1


@pytest.fixture
def world(demo_cluster, users):
    """The demo cluster with one of everything a URL can name."""
    policy = NetworkPolicy.objects.filter(cluster=demo_cluster).first()
    draft = drafts.create_draft(demo_cluster, drafts.clone_live(policy) | {"metadata": {"name": "fuzz", "namespace": policy.namespace}}, actor=users["editor"])
    source = DesiredSource.objects.create(
        cluster=demo_cluster, kind="upload", yaml_text=engine.dump_yaml([policy.raw if hasattr(policy, "raw") else drafts.clone_live(policy)]), file_name="p.yaml"
    )
    from policies.models import ClusterPolicy, CniObject
    from policies.services import cnp_drafts

    gnp = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "fuzz"},
           "spec": {"order": 1, "selector": "all()", "types": ["Ingress"]}}
    cni_object = CniObject.objects.create(
        cluster=demo_cluster, uid="fuzz-gnp", name="fuzz", cni="calico", api_version=gnp["apiVersion"],
        kind=gnp["kind"], tier="default", order=1, obj=gnp,
    )
    cnp_draft = cnp_drafts.save(
        demo_cluster, cnp_drafts.TEMPLATES[sorted(cnp_drafts.TEMPLATES)[0]].build(), actor=users["editor"]
    )
    return {
        "cluster_policy": ClusterPolicy.objects.filter(cluster=demo_cluster).first(),
        "cni_object": cni_object,
        "cnp_draft": cnp_draft,
        "cluster": demo_cluster,
        "policy": policy,
        "draft": draft,
        "source": source,
        "report": Lazy(lambda: drift.compute_drift(demo_cluster)),
        "namespace": Namespace.objects.filter(cluster=demo_cluster).first(),
        "workload": Workload.objects.filter(cluster=demo_cluster).first(),
        "pod": Pod.objects.filter(cluster=demo_cluster).first(),
    }


def _check(response: Any, url: str, params: Any, failures: list[str]) -> None:
    """No 5xx, every answer under the Content-Security-Policy, and errors under /api/ in JSON."""
    if response.status_code >= 500:
        failures.append(f"{url} {params!r:.120} -> {response.status_code}")
    if "Content-Security-Policy" not in response:
        failures.append(f"{url} {params!r:.120} -> no Content-Security-Policy")
    content_type = response.get("Content-Type", "")
    if url.startswith("/api/") and response.status_code >= 400 and not content_type.startswith("application/json"):
        failures.append(f"{url} {params!r:.120} -> {response.status_code} as {content_type}")


def rotated(names: list[str], values: list[Any]) -> list[dict[str, Any]]:
    """Every parameter in every request, each with another value, so that each parameter
    gets every value once; then each parameter alone (a bad neighbour may answer 400 before
    it is read), with the values in turn."""
    if not names:
        return [{}]
    together = [{name: values[(shift + i) % len(values)] for i, name in enumerate(names)} for shift in range(len(values))]
    alone = [{name: values[i % len(values)]} for i, name in enumerate(names)]
    return together + alone


# --- API: endpoints and parameters from the OpenAPI schema -------------------------------------


def api_endpoints() -> list[tuple[str, list[str]]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for route, operations in schema["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
        found.append((route, names))
    # Outside the schema: the API root, the schema itself and its docs.
    return [*found, ("/api/", []), ("/api/schema/", ["format", "lang", "version"]), ("/api/docs/", [])]


def fill_api_path(route: str, world: dict[str, Any]) -> str:
    values = {
        "cluster_id": world["cluster"].pk,
        "namespace": world["policy"].namespace,
        "name": world["policy"].name,
    }
    kind = (route.strip("/").split("/") + [""])[1]
    objects = {"clusters": "cluster", "namespaces": "namespace", "workloads": "workload", "pods": "pod",
               "policies": "policy", "drafts": "draft", "drift-sources": "source"}
    if "/drift/" in route:
        values["id"] = world["report"].pk
    elif kind in objects:
        values["id"] = world[objects[kind]].pk
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), route)


def test_schema_lists_the_endpoints_we_fuzz(db):
    routes = [r for r, _ in api_endpoints()]
    assert "/api/clusters/{id}/reachability/" in routes or any("reachability" in r for r in routes)
    assert any(r.startswith("/api/drafts/") for r in routes)


@pytest.mark.parametrize(("route", "names"), api_endpoints())
def test_api_query_parameters_never_give_5xx(api, world, monkeypatch, route, names):
    client = api("admin")
    client.raise_request_exception = False
    failures: list[str] = []
    url = fill_api_path(route, world)
    read = parameters_read(client, url, monkeypatch)
    for params in rotated(sorted({*names, *read, "format", "a__b"}), GARBAGE):
        _check(client.get(url, params), url, params, failures)
    assert failures == []


PATH_GARBAGE = ["0", "-1", "abc", "reports", "99999999999999999999", "1.5", "%00", "a__b"]


def test_api_path_ids_never_give_5xx(api, world):
    """Garbage where a route names a row by id ({id}, {cluster_id}): a 404, never a
    failed lookup (`/drift/reports/` was taken for report id "reports")."""
    client = api("admin")
    client.raise_request_exception = False
    failures: list[str] = []
    for route, _ in api_endpoints():
        for name in re.findall(r"\{(\w*id)\}", route):
            for value in PATH_GARBAGE:
                url = fill_api_path(route.replace("{" + name + "}", value), world)
                _check(client.get(url), url, {}, failures)
    assert failures == []


# --- pages: every route of the site, every parameter a page reads ------------------------------


def page_routes(patterns: list[Any] | None = None, prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(("admin/", "api/", "static/")):
            continue
        if isinstance(entry, URLResolver):
            out.extend(page_routes(entry.url_patterns, route))
        elif isinstance(entry, URLPattern) and entry.name != "logout":
            out.append((route, entry.name or ""))
    return out


def fill_page_route(route: str, name: str, world: dict[str, Any]) -> str:
    pk_of = {
        "policy": "policy", "workload": "workload", "pod": "pod", "namespace": "namespace",
        "draft": "draft", "drift-source": "source",
        "cluster-policy": "cluster_policy", "cni-policy": "cni_object", "cnp": "cnp_draft",
    }
    pk_owner = next((obj for prefix, obj in sorted(pk_of.items(), key=lambda kv: -len(kv[0])) if name.startswith(prefix)), "policy")
    item = world["policy"]
    if name.startswith("drift-item"):  # a page of one difference in the report
        items = DriftReport.objects.get(pk=world["report"].pk).items
        item = items.filter(namespace="").first() if name == "drift-item-cluster-scoped" else items.first()
    values = {
        "cluster_id": world["cluster"].pk,
        "report_id": world["report"].pk if "report_id" in route else 1,
        "pk": world[pk_owner].pk,
        "which": "reconcile",
        "fmt": "svg",
        "namespace": item.namespace if item else "",
        "name": item.name if item else "none",
    }
    if route.startswith("^"):  # a re_path: its named groups become <name>
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route).strip("^$").replace("\\", "")
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), 1)), route)


def test_the_page_routes_are_found(db):
    names = {name for _, name in page_routes()}
    assert {"clusters", "graph", "policy-list", "draft-new", "graph-picture"} <= names


def test_every_page_route_is_filled_with_a_real_object(client_for, world):
    client = client_for("admin")
    missing = [url for url in (fill_page_route(route, name, world) for route, name in page_routes())
               if client.get(url).status_code == 404]
    assert missing == [
        f"/clusters/{world['cluster'].pk}/drift/cluster-objects/none/",  # the demo's drift has none
        f"/clusters/{world['cluster'].pk}/node/",  # 404 without ?id=
    ]


@pytest.mark.parametrize(("route", "name"), page_routes())
def test_page_query_parameters_never_give_5xx(client_for, world, monkeypatch, route, name):
    client = client_for("admin")
    client.raise_request_exception = False
    failures: list[str] = []
    url = fill_page_route(route, name, world)
    read = parameters_read(client, url, monkeypatch)
    for params in rotated(sorted(read | {"a__b"}), GARBAGE):
        _check(client.get(url, params), url, params, failures)
    assert failures == []


def test_the_discovery_sees_what_pages_read(client_for, world, monkeypatch):
    client = client_for("admin")
    read: set[str] = set()
    for route, name in page_routes():
        read |= parameters_read(client, fill_page_route(route, name, world), monkeypatch)
    assert {"label", "namespace", "clone", "ids", "level", "report"} <= read


# --- bodies: every API operation that takes one, every page that accepts a POST ------------------

def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


JSON_GARBAGE: list[Any] = [
    *GARBAGE,
    None,
    True,
    -1,
    10**20,
    1e308,
    [],
    {},
    ["x", 1, None],
    {"a__b": 1, "isnull": "x"},
    {"x": "a\x00b"},
    {"metadata": {"name": "a\x00b", "annotations": {"k": "a\x00b"}}},
    nested(50),
]

DEEP_JSON = ['{"spec": ' * 900 + "1" + "}" * 900, "[" * 990 + "]" * 990]
"""Nesting that json.loads reads but code walking it recursively does not."""

RAW_BODIES = ["", "null", "[]", '"x"', "1", "{", '{"a": NaN}', "[" * 5000, '{"a": 1e999}', *DEEP_JSON]
FORM_GARBAGE = [*GARBAGE, *DEEP_JSON]


def body_operations() -> list[tuple[str, str, list[str]]]:
    """(method, route, body field names) of every API operation that reads a body."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    found = []
    for route, operations in schema["paths"].items():
        for method in ("post", "put", "patch"):
            if method not in operations:
                continue
            content = operations[method].get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
            fields = list(components[ref.rsplit("/", 1)[1]].get("properties", {})) if ref else []
            found.append((method, route, fields))
    return found


def test_the_body_operations_are_found(db):
    operations = {(method, route) for method, route, _ in body_operations()}
    assert {("post", "/api/drafts/parse/"), ("post", "/api/drift-sources/"), ("patch", "/api/drafts/{id}/")} <= operations


@pytest.mark.parametrize(("method", "route", "fields"), body_operations())
def test_api_bodies_never_give_5xx(api, world, settings, method, route, fields):
    settings.NETPOLUI_ALLOW_APPLY = True
    client = api("admin")
    client.raise_request_exception = False
    send = getattr(client, method)
    url = fill_api_path(route, world)
    failures: list[str] = []
    for body in rotated(fields, JSON_GARBAGE):
        _check(send(url, body, format="json"), url, body, failures)
    for raw in RAW_BODIES:
        _check(send(url, raw, content_type="application/json"), url, {"raw": raw}, failures)
    _check(send(url, b'{"yaml": "caf\xe9"}', content_type="application/json"), url, {"raw": "non-UTF-8"}, failures)
    for multipart in rotated(fields, GARBAGE):
        _check(send(url, multipart), url, {"multipart": multipart}, failures)
    assert failures == []


def fields_posted(client: Any, url: str, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The form fields the view behind `url` reads from a POST."""
    import django.http
    import django.http.request

    RecordingQueryDict.asked = set()
    with monkeypatch.context() as patch:
        patch.setattr(django.http.request, "QueryDict", RecordingQueryDict)
        patch.setattr(django.http, "QueryDict", RecordingQueryDict)
        client.post(url, "a=1", content_type="application/x-www-form-urlencoded")
        client.post(url, {"a": "1"})
    return {name for name in RecordingQueryDict.asked if isinstance(name, str)}


def garbage_file(value: str) -> io.BytesIO:
    upload = io.BytesIO(value.encode() + b"\xff\xfe\x00")
    upload.name = "p.yaml"
    return upload


@pytest.mark.parametrize(("route", "name"), page_routes())
def test_page_form_bodies_never_give_5xx(client_for, world, monkeypatch, route, name):
    client = client_for("admin")
    client.raise_request_exception = False
    url = fill_page_route(route, name, world)
    names = sorted(fields_posted(client, url, monkeypatch) | {"a__b"})
    failures: list[str] = []
    for fields in rotated(names, FORM_GARBAGE):
        _check(client.post(url, fields), url, fields, failures)
    for value in GARBAGE[:8]:
        files = {field: garbage_file(value) for field in ("file", "upload")}
        _check(client.post(url, {**dict.fromkeys(names, value), **files}), url, {"files": value}, failures)
    for raw in RAW_BODIES:
        _check(client.post(url, raw, content_type="application/json"), url, {"raw": raw}, failures)
    assert failures == []


@pytest.mark.parametrize("values", [GARBAGE, JSON_GARBAGE, FORM_GARBAGE], ids=["query", "json", "form"])
def test_rotation_gives_every_parameter_every_value_and_each_parameter_alone(values):
    names = ["a", "b", "c"]
    combos = rotated(names, values)
    for name in names:
        assert sorted(map(repr, (c[name] for c in combos if len(c) == len(names)))) == sorted(map(repr, values))
        assert any(c.keys() == {name} for c in combos)
    assert len(combos) == len(values) + len(names)
    assert rotated([], values) == [{}]
