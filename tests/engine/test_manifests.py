"""Reading manifests: files, directories, multi-document YAML, Lists, owners, notes, lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.engine import ManifestError, build_cluster, load_documents, load_paths, load_yaml_text

from .builders import deployment, namespace, netpol, pod


def write(path: Path, docs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def test_directories_are_read_recursively_with_yaml_yml_and_json(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", [namespace("shop")])
    write(tmp_path / "sub" / "b.yml", [pod("shop", "x", {"a": "b"})])
    (tmp_path / "sub" / "deep").mkdir()
    (tmp_path / "sub" / "deep" / "c.json").write_text(json.dumps(netpol("shop", "p")))
    (tmp_path / "notes.txt").write_text("not a manifest: {")
    inv = load_paths([tmp_path])
    assert sorted(o["kind"] for o in inv.objects) == ["Namespace", "NetworkPolicy", "Pod"]


def test_kind_list_is_flattened(tmp_path: Path) -> None:
    f = write(
        tmp_path / "list.yaml",
        [{"apiVersion": "v1", "kind": "List", "items": [pod("a", "x"), pod("a", "y")]}],
    )
    assert [o["metadata"]["name"] for o in load_paths([f]).objects] == ["x", "y"]


def test_typed_lists_like_pod_list_are_flattened() -> None:
    inv = load_documents([{"kind": "PodList", "items": [pod("a", "x")]}])
    assert len(inv.objects) == 1


def test_other_kinds_are_skipped_with_one_note_per_kind(tmp_path: Path) -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}
    f = write(tmp_path / "x.yaml", [svc, svc, {"kind": "Ingress", "metadata": {"name": "i"}}])
    notes = load_paths([f]).notes
    assert len(notes) == 2
    assert notes[0].startswith("skipped 1 Ingress object")
    assert notes[1].startswith("skipped 2 Service objects")


def test_broken_yaml_reports_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: {a: b\n")
    with pytest.raises(ManifestError) as info:
        load_paths([f])
    (err,) = info.value.errors
    assert err.file == str(f)
    assert err.line >= 5
    assert str(err).startswith(f"{f}:{err.line}: invalid YAML")


def test_semantic_error_points_at_the_field_line(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\n  namespace: team-a\n"
        "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80\n      endPort: 70\n"
    )
    with pytest.raises(ManifestError) as info:
        build_cluster(load_paths([f]))
    (err,) = info.value.errors
    assert (
        str(err)
        == f"{f}:15: NetworkPolicy team-a/web: spec.ingress[0].ports[0].endPort 70 is below port 80"
    )


def test_load_yaml_text_parses_pasted_multi_document_yaml() -> None:
    docs = load_yaml_text("kind: A\n---\nkind: B\n", "pasted")
    assert [d["kind"] for d in docs] == ["A", "B"]
    with pytest.raises(ManifestError) as info:
        load_yaml_text("a: [", "pasted")
    assert str(info.value.errors[0]).startswith("pasted:")


def test_missing_path_is_an_error() -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_paths(["/nonexistent/x.yaml"])


def test_pod_names_its_top_most_owner_found_in_the_input() -> None:
    objs = [
        deployment("a", "web", {"app": "web"}),
        {
            "kind": "ReplicaSet",
            "metadata": {
                "name": "web-123",
                "namespace": "a",
                "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": True}],
            },
        },
        pod("a", "web-123-x", {"app": "web"}, owner=("ReplicaSet", "web-123")),
        {"kind": "CronJob", "metadata": {"name": "nightly", "namespace": "a"}, "spec": {}},
        {
            "kind": "Job",
            "metadata": {
                "name": "nightly-1",
                "namespace": "a",
                "ownerReferences": [{"kind": "CronJob", "name": "nightly", "controller": True}],
            },
        },
        pod("a", "nightly-1-x", {"job": "n"}, owner=("Job", "nightly-1")),
    ]
    assert sorted(w.key for w in build_cluster(objs).workloads) == [
        "a/nightly[CronJob]",
        "a/web[Deployment]",
    ]


def test_owner_missing_from_input_shows_the_direct_owner() -> None:
    objs = [pod("a", "web-123-x", {"app": "web"}, owner=("ReplicaSet", "web-123"))]
    assert [w.key for w in build_cluster(objs).workloads] == ["a/web-123[ReplicaSet]"]


def test_pods_of_a_controller_reference_without_kind_are_one_pod_endpoint() -> None:
    kindless = [{"name": "internal-security", "controller": True}]
    objs = [
        {
            "kind": "Pod",
            "metadata": {"name": f"pod-{i}", "namespace": "a", "ownerReferences": kindless},
        }
        for i in (1, 2)
    ]
    (w,) = build_cluster(objs).workloads
    assert (w.key, [p.name for p in w.pods]) == ("a/internal-security[Pod]", ["pod-1", "pod-2"])


def test_an_owner_reference_not_marked_controller_does_not_make_a_workload() -> None:
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "settings", "uid": "c1"}
    objs = [
        {"kind": "Pod", "metadata": {"name": "job-x", "namespace": "a", "ownerReferences": [ref]}}
    ]
    assert [w.key for w in build_cluster(objs).workloads] == ["a/job-x[Pod]"]


def test_bare_pod_and_node_owned_static_pod_are_pods() -> None:
    objs = [pod("a", "bare", {}), pod("kube-system", "etcd-node1", {}, owner=("Node", "node1"))]
    assert sorted(w.key for w in build_cluster(objs).workloads) == [
        "a/bare[Pod]",
        "kube-system/etcd-node1[Pod]",
    ]


def test_pods_of_one_workload_are_one_endpoint() -> None:
    objs = [pod("a", f"web-{i}", {"app": "web"}, owner=("DaemonSet", "web")) for i in range(3)]
    (w,) = build_cluster(objs).workloads
    assert [p.name for p in w.pods] == ["web-0", "web-1", "web-2"]


def test_duplicate_policy_keeps_the_later_and_notes_it() -> None:
    cluster = build_cluster([netpol("a", "p", policy_types=["Egress"]), netpol("a", "p")])
    assert cluster.policies[0].policy_types == ("Ingress",)
    assert any("defined twice" in n for n in cluster.notes)



def test_pods_with_equal_labels_or_ports_of_other_types_keep_their_own() -> None:
    # build_cluster builds each distinct label map and port list once: True == 1 == 1.0
    # (with one hash) must still give three label values and one named port.
    objs = [
        pod("a", "p-true", {"v": True}, ports=[("http", "TCP", True)]),  # type: ignore[dict-item,list-item]
        pod("a", "p-one", {"v": 1}, ports=[("http", "TCP", 1)]),  # type: ignore[dict-item]
        pod("a", "p-float", {"v": 1.0}, ports=[("http", "TCP", 1.0)]),  # type: ignore[dict-item,list-item]
        pod("a", "p-text", {"v": "1"}, ports=[("http", "TCP", 1)]),
        pod("a", "p-true-again", {"v": True}, ports=[("http", "TCP", True)]),  # type: ignore[dict-item,list-item]
    ]
    pods = {p.name: p for p in build_cluster(objs).pods}
    assert {n: dict(p.labels) for n, p in pods.items()} == {
        "p-true": {"v": "true"},
        "p-one": {"v": "1"},
        "p-float": {"v": "1.0"},
        "p-text": {"v": "1"},
        "p-true-again": {"v": "true"},
    }
    assert {n: p.named_ports for n, p in pods.items()} == {
        "p-true": (),
        "p-one": (("http", "TCP", 1),),
        "p-float": (),
        "p-text": (("http", "TCP", 1),),
        "p-true-again": (),
    }


def test_policies_sharing_a_spec_keep_their_own_names_and_errors() -> None:
    # build_cluster checks and parses each distinct spec once: policies of one spec keep
    # their names in errors, and specs equal under == but of other types stay apart.
    def ports(port: object) -> dict[str, Any]:
        return {"ingress": [{"ports": [{"port": port}]}]}

    objs = [
        netpol("a", "one", **ports(1)),
        netpol("b", "one", **ports(1)),
        netpol("a", "true", **ports(True)),
        netpol("b", "true", **ports(True)),
        netpol("a", "float", **ports(1.0)),
        netpol("a", "text", **ports("1")),
    ]
    cluster = build_cluster(objs, strict=False)
    assert [p.key for p in cluster.policies] == ["a/one", "b/one"]
    assert [p.ingress[0].ports[0].port for p in cluster.policies] == [1, 1]
    assert [(key, [str(e) for e in errors]) for key, errors in cluster.invalid_policies] == [
        ("a/true", ["NetworkPolicy a/true: spec.ingress[0].ports[0].port True must be a number or a port name"]),
        ("b/true", ["NetworkPolicy b/true: spec.ingress[0].ports[0].port True must be a number or a port name"]),
        ("a/float", ["NetworkPolicy a/float: spec.ingress[0].ports[0].port 1.0 must be a number or a port name"]),
        (
            "a/text",
            ['NetworkPolicy a/text: spec.ingress[0].ports[0].port "1" is not a valid port name: '
             "it must contain at least one letter"],
        ),
    ]

UNSTORABLE = [
    (
        {"kind": "Pod", "metadata": {"name": "x" * 254}},
        ("metadata.name", "is longer than 253 characters"),
    ),
    (
        {"kind": "Pod", "metadata.name": "x" * 254},
        ("metadata.name", "is longer than 253 characters"),
    ),
    ({"kind": "Pod", "metadata": {"name": "a", "labels": {"k": "x" * 300}}}, None),
    (
        {"kind": "Pod", "spec": {"ports": [1, 2, 2**63]}},
        ("spec.ports[2]", "is a number too large for a 64-bit integer"),
    ),
    ({"kind": "Pod", "spec": {"ports": [-(2**63), 2**63 - 1]}}, None),
    (
        {"kind": "Pod", "spec": {"x": [{"y": float("nan")}]}},
        ("spec.x[0].y", "is not a finite number"),
    ),
    ({"kind": "Pod", "spec": {"x": 1.5, "y": True, "z": None}}, None),
    ({"kind": "Pod", "spec": {"a\x00b": 1}}, ("spec.'a\\x00b'", "has a NUL character in a key")),
    (
        {"kind": "Pod", "spec": {"args": ["ok", "a\x00"]}},
        ("spec.args[1]", "contains a NUL character"),
    ),
    ({"kind": "Pod", "spec": {1: "a", None: [True]}}, None),
]


@pytest.mark.parametrize(("obj", "found"), UNSTORABLE)
def test_unstorable_values_are_found_by_the_quick_walk_as_by_the_full_one(
    obj: dict, found: object
) -> None:
    from policies.engine.manifests import _unstorable, unstorable_value

    assert unstorable_value(obj) == found
    assert _unstorable(obj) == found


@pytest.mark.parametrize(("obj", "found"), UNSTORABLE)
@pytest.mark.parametrize("form", ["json", "yaml"])
def test_read_text_refuses_what_the_walk_finds_whichever_reader_reads_it(
    obj: dict, found: object, form: str
) -> None:
    # The JSON and block-YAML readers vouch for their values (the walk is then skipped):
    # what they read must be refused exactly where the walk would refuse it.
    import json

    import yaml

    from policies.engine import ManifestError, load_text

    doc = {"apiVersion": "v1", "metadata": {"name": "a"}, **obj}
    if isinstance(doc.get("spec"), dict):
        doc["spec"] = {str(k): v for k, v in doc["spec"].items()}  # JSON keys are strings
    text = json.dumps(doc) if form == "json" else yaml.safe_dump(doc)
    if found is None:
        assert load_text(text).objects
        return
    with pytest.raises(ManifestError) as raised:
        load_text(text)
    path, message = found  # type: ignore[misc]
    assert f"{path} {message}" in str(raised.value)


@pytest.mark.parametrize("pods", [0, 1])
def test_labels_that_are_not_a_map_are_an_input_error_naming_the_object(pods: int) -> None:
    # A template's `labels: true` ended in AttributeError (a traceback from the CLI, a 500
    # from an upload), with or without the workload's pods; a pod's was named "None default/None".
    from policies.engine import ManifestError, build_cluster, load_text

    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, uid: u1}\n"
        "spec:\n  template:\n    metadata:\n      labels: true\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  namespace: shop\n  labels: [1]\n"
    )
    if pods:
        text += (
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  namespace: shop\n"
            "  ownerReferences: [{kind: Deployment, name: web, controller: true}]\n"
        )
    with pytest.raises(ManifestError) as raised:
        build_cluster(load_text(text))
    said = str(raised.value)
    assert "Deployment shop/web: spec.template.metadata.labels must be a map of label keys to values" in said
    assert "Pod shop/b: metadata.labels must be a map of label keys to values" in said
    assert said.count("spec.template.metadata.labels must be") == 1
