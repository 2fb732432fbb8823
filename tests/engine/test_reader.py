"""The tolerant reader: what kubectl, Helm and the API server write is read; exit 2 stays
for what makes an answer impossible. Every input file is made by the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.engine import (
    Analyzer,
    ManifestError,
    analyze,
    build_cluster,
    load_paths,
    load_text,
    load_yaml_text,
    validate_network_policy,
)
from policies.engine.cli import main

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  containers: [{name: c, image: i}]
"""

DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


# -- empty documents ------------------------------------------------------------------------


def test_empty_documents_and_trailing_separators_are_skipped_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    helm = (
        "---\n# Source: chart/templates/unused.yaml\n---\n\n---\n"
        + POD
        + "---\n# Source: chart/templates/deny.yaml\n"
        + DENY
        + "---\n---\n"
    )
    write(tmp_path, "rendered.yaml", helm)
    code, out, err = run(capsys, "analyze", tmp_path)
    assert code == 0
    assert err == ""
    assert out == "shop/web[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"


def test_a_line_number_still_points_at_the_field_after_empty_documents(tmp_path: Path) -> None:
    bad = DENY.replace("policyTypes: [Ingress]", "policyTypes: [Sideways]")
    path = write(tmp_path, "p.yaml", "---\n# nothing\n---\n" + POD + "---\n" + bad)
    with pytest.raises(ManifestError) as caught:
        build_cluster(load_paths([path]))
    lines = path.read_text().splitlines()
    (error,) = caught.value.errors
    assert lines[error.line - 1].strip() == "policyTypes: [Sideways]"
    assert str(error).startswith(f"{path}:{error.line}: NetworkPolicy shop/deny: spec.policyTypes")


# -- typed lists ------------------------------------------------------------------------------


def test_typed_lists_give_their_items_the_lists_kind(tmp_path: Path) -> None:
    write(
        tmp_path,
        "namespaces.json",
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "NamespaceList",
                "items": [{"metadata": {"name": "shop", "labels": {"team": "a"}}}],
            }
        ),
    )
    write(
        tmp_path,
        "pods.yaml",
        "apiVersion: v1\nkind: PodList\nmetadata: {resourceVersion: '1'}\nitems:\n"
        "- metadata: {name: web, namespace: shop, labels: {app: web}}\n"
        "  spec: {containers: [{name: c, image: i}]}\n",
    )
    write(
        tmp_path,
        "deployments.yaml",
        "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n"
        "- metadata: {name: api, namespace: shop}\n"
        "  spec:\n"
        "    selector: {matchLabels: {app: api}}\n"
        "    template:\n"
        "      metadata: {labels: {app: api}}\n"
        "      spec: {containers: [{name: c, image: i}]}\n",
    )
    write(
        tmp_path,
        "policies.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n"
        "- metadata: {name: deny, namespace: shop}\n"
        "  spec: {podSelector: {}, policyTypes: [Ingress]}\n",
    )
    inventory = load_paths([tmp_path])
    kinds = sorted((o["kind"], o["apiVersion"], o["metadata"]["name"]) for o in inventory.objects)
    assert kinds == [
        ("Deployment", "apps/v1", "api"),
        ("Namespace", "v1", "shop"),
        ("NetworkPolicy", "networking.k8s.io/v1", "deny"),
        ("Pod", "v1", "web"),
    ]
    cluster = build_cluster(inventory)
    assert cluster.namespaces["shop"]["team"] == "a"
    keys = {n.key for n in analyze(cluster).nodes if not n.is_external}
    assert keys == {"shop/api[Deployment]", "shop/web[Pod]"}


def test_a_kind_list_keeps_its_items_kinds_and_an_item_without_kind_is_an_error(
    tmp_path: Path,
) -> None:
    good = write(tmp_path, "list.yaml", "apiVersion: v1\nkind: List\nitems:\n" + _indent_item(POD))
    assert [o["kind"] for o in load_paths([good]).objects] == ["Pod"]
    bad = write(
        tmp_path / "bad",
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: x}\n",
    )
    with pytest.raises(ManifestError, match="object has no kind") as caught:
        load_paths([bad])
    assert caught.value.errors[0].line == 4


def _indent_item(doc: str) -> str:
    lines = doc.splitlines()
    return "\n".join(["- " + lines[0], *("  " + line for line in lines[1:])]) + "\n"


def test_an_error_in_a_typed_list_item_points_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "policies.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n"
        "- metadata: {name: ok, namespace: shop}\n"
        "  spec: {podSelector: {}}\n"
        "- metadata: {name: broken, namespace: shop}\n"
        "  spec:\n"
        "    podSelector: {}\n"
        "    ingress:\n"
        "    - ports:\n"
        "      - {port: 80, endPort: 70}\n",
    )
    with pytest.raises(ManifestError) as caught:
        build_cluster(load_paths([path]))
    (error,) = caught.value.errors
    assert error.line == 11
    assert "endPort 70 is below port 80" in str(error)


# -- files with no Kubernetes object in a directory walk ----------------------------------------


def test_files_without_objects_are_skipped_with_one_note_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "app/pod.yaml", POD)
    write(tmp_path, "app/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    write(tmp_path, "app/values.yaml", "replicaCount: 2\nimage: {tag: latest}\n")
    write(tmp_path, "app/report.json", json.dumps([{"src": "a", "dst": "b"}]))
    write(tmp_path, "app/empty.yaml", "# nothing here\n")
    write(
        tmp_path,
        "app/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [pod.yaml]\n",
    )
    code, out, err = run(capsys, "analyze", tmp_path)
    assert code == 0
    assert out == (
        "0.0.0.0-255.255.255.255[External] => shop/web[Pod] : All Connections\n"
        "shop/web[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
    )
    notes = err.splitlines()
    for name in ("Chart.yaml", "values.yaml", "report.json", "empty.yaml"):
        assert [n for n in notes if f"app/{name}:" in n] == [
            f"netpolui: note: skipped {tmp_path}/app/{name}: it holds no Kubernetes object "
            "(no document with a kind)"
        ]
    assert any("kind Kustomization is not used" in n for n in notes)


def test_a_directory_with_no_kubernetes_object_at_all_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "values.yaml", "replicaCount: 2\n")
    code, out, err = run(capsys, "analyze", tmp_path)
    assert (code, out) == (2, "")
    assert "no Kubernetes object found" in err
    assert "Traceback" not in err


def test_a_named_file_without_objects_or_a_stray_document_is_still_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = write(tmp_path, "values.yaml", "replicaCount: 2\n")
    assert run(capsys, "analyze", values)[0] == 2
    mixed = write(tmp_path / "mixed", "m.yaml", POD + "---\n- just\n- a list\n")
    code, _, err = run(capsys, "analyze", mixed.parent)
    assert code == 2
    assert f"{mixed}:" in err
    assert "must be a Kubernetes object" in err


def test_unreadable_yaml_and_policies_that_cannot_be_understood_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "a", "pod.yaml", POD)
    write(tmp_path / "a", "broken.yaml", "kind: Pod\nmetadata: [\n")
    code, _, err = run(capsys, "analyze", tmp_path / "a")
    assert code == 2
    assert "broken.yaml:" in err
    assert "invalid YAML" in err
    write(tmp_path / "b", "pod.yaml", POD)
    write(tmp_path / "b", "p.yaml", DENY.replace("policyTypes: [Ingress]", "policyTypes: Ingress"))
    code, _, err = run(capsys, "analyze", tmp_path / "b")
    assert code == 2
    assert "p.yaml:8: NetworkPolicy shop/deny: spec.policyTypes" in err


# -- odd metadata names ----------------------------------------------------------------------------


def test_odd_metadata_names_in_files_warn_and_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "pod.yaml", POD.replace("namespace: shop", "namespace: team_a"))
    write(
        tmp_path,
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team_a\n  labels: {env: prod}\n",
    )
    write(
        tmp_path,
        "p.yaml",
        DENY.replace("name: deny", "name: deny_all").replace("namespace: shop", "namespace: team_a"),
    )
    code, out, err = run(capsys, "analyze", tmp_path)
    assert code == 0
    assert out == "team_a/web[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
    warnings = [line for line in err.splitlines() if "the API server would refuse it" in line]
    assert len(warnings) == 3
    assert any(f"{tmp_path}/p.yaml:5: NetworkPolicy team_a/deny_all: metadata.namespace" in w for w in warnings)
    assert any(f"{tmp_path}/p.yaml:4: NetworkPolicy team_a/deny_all: metadata.name" in w for w in warnings)
    assert any(f"{tmp_path}/ns.yaml:4: Namespace team_a: metadata.name" in w for w in warnings)


def test_the_editor_and_the_api_keep_validating_names_strictly() -> None:
    policy = load_yaml_text(DENY.replace("name: deny", "name: deny_all"))[0]
    assert [e.path for e in validate_network_policy(policy)] == ["metadata.name"]
    analyzer = Analyzer(build_cluster(load_yaml_text(POD)))
    with pytest.raises(ValueError, match="metadata.name"):
        analyzer.replace_policy(policy)


# -- one reader for every source -----------------------------------------------------------------


def test_load_text_of_a_walked_file_without_objects_is_a_note() -> None:
    inventory = load_text("replicaCount: 2\n", "values.yaml", skip_without_objects=True)
    assert (inventory.objects, len(inventory.notes)) == ([], 1)
    with pytest.raises(ManifestError, match="object has no kind"):
        load_text("replicaCount: 2\n", "values.yaml")


def test_pasted_yaml_reads_typed_lists_and_skips_empty_documents() -> None:
    text = (
        "---\n# empty\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n"
        "- metadata: {name: deny, namespace: shop}\n  spec: {podSelector: {}}\n---\n"
    )
    (policy,) = load_yaml_text(text)
    assert (policy["kind"], policy["apiVersion"]) == ("NetworkPolicy", "networking.k8s.io/v1")
    assert validate_network_policy(policy) == []


def test_json_is_read_by_the_json_parser_with_the_same_objects_and_error_lines(tmp_path: Path) -> None:
    items = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}}},
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "broken", "namespace": "shop"},
            "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80, "endPort": 70}]}]},
        },
    ]
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2)
    as_json = write(tmp_path, "a.json", text)
    # A leading comment makes the same text YAML only: it goes through the YAML loader.
    as_yaml = write(tmp_path, "b.yaml", "# the same objects\n" + text)
    assert load_paths([as_json]).objects == load_paths([as_yaml]).objects
    line_of_end_port = 1 + text.splitlines().index('                "endPort": 70')
    for path, shift in ((as_json, 0), (as_yaml, 1)):
        with pytest.raises(ManifestError) as caught:
            build_cluster(load_paths([path]))
        (error,) = caught.value.errors
        assert error.line == line_of_end_port + shift
        assert "endPort 70 is below port 80" in str(error)
