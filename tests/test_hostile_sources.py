"""Manifests directories, drift sources and the CLI fed values the Kubernetes API server
would refuse and JSON cannot carry, in CNI and cluster-scoped objects (and v1 policies):
NaN/infinite numbers, integers beyond 64 bits, NUL characters, 5,000-character names,
generations that are not numbers. Each is refused with file:line and the field, never a
database error or a traceback in the worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from policies.mirror import load_snapshot
from policies.models import Cluster, ClusterPolicy, CniObject, DesiredSource
from policies.services import drift, sync

pytestmark = pytest.mark.django_db

NS = "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n---\n"
CNP = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
GNP = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
ACNP = "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\n"
SUBJECT = "tier: Admin, subject: {namespaces: {}}"

REFUSED = {
    "ClusterNetworkPolicy priority beyond 64 bits": (
        CNP + f"metadata: {{name: a}}\nspec: {{{SUBJECT},\n  priority: {'9' * 30}}}\n",
        "a.yaml:9: ClusterNetworkPolicy: spec.priority is a number too large for a 64-bit integer"),
    "Calico order of 400 digits": (
        GNP + f"metadata: {{name: g}}\nspec:\n  order: {'9' * 400}\n",
        "a.yaml:9: GlobalNetworkPolicy: spec.order is a number too large for a 64-bit integer"),
    "Calico order .nan": (GNP + "metadata: {name: g}\nspec:\n  order: .nan\n",
                          "a.yaml:9: GlobalNetworkPolicy: spec.order is not a finite number"),
    "Antrea priority .inf": (ACNP + "metadata: {name: g}\nspec:\n  priority: .inf\n",
                             "a.yaml:9: ClusterNetworkPolicy: spec.priority is not a finite number"),
    "NaN deep in a v1 NetworkPolicy": (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n, namespace: web}\n"
        "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: .nan\n",
        "a.yaml:12: NetworkPolicy: spec.ingress[0].ports[0].port is not a finite number"),
    "NUL in an Antrea name": (ACNP + 'metadata: {name: "x\\0y"}\nspec: {priority: 1}\n',
                              "ClusterNetworkPolicy: metadata.name contains a NUL character"),
    "NUL in a label key": (CNP + 'metadata: {name: a, labels: {"a\\0": b}}\n' + f"spec: {{{SUBJECT}, priority: 1}}\n",
                           "has a NUL character in a key"),
    "100-character namespace of a Calico policy": (
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: g, namespace: " + "n" * 100 + "}\nspec: {}\n",
        "a.yaml:7: NetworkPolicy: metadata.namespace is longer than 63 characters"),
    "100-character Namespace name": (
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + "n" * 100 + "}\n",
        "a.yaml:7: Namespace: metadata.name is longer than 63 characters"),
    "100-character uid": (CNP + "metadata: {name: a, uid: " + "u" * 100 + "}\n" + f"spec: {{{SUBJECT}, priority: 1}}\n",
                          "a.yaml:7: ClusterNetworkPolicy: metadata.uid is longer than 64 characters"),
    "100-character resourceVersion": (
        GNP + "metadata: {name: g, resourceVersion: " + "1" * 100 + "}\nspec: {}\n",
        "a.yaml:7: GlobalNetworkPolicy: metadata.resourceVersion is longer than 64 characters"),
    "100-character apiVersion": (
        "apiVersion: projectcalico.org/" + "v" * 100 + "\nkind: GlobalNetworkPolicy\nmetadata: {name: g}\nspec: {}\n",
        "a.yaml:5: GlobalNetworkPolicy: apiVersion is longer than 64 characters"),
    "5,000-character name": (ACNP + "metadata: {name: " + "x" * 5000 + "}\nspec: {priority: 1}\n",
                             "ClusterNetworkPolicy: metadata.name is longer than 253 characters"),
}


def _write(tmp_path, text: str):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "a.yaml").write_text(NS + text)
    return folder


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_manifests_cluster_refuses_unstorable_values_with_file_line_and_field(tmp_path, case):
    text, words = REFUSED[case]
    folder = _write(tmp_path, text)
    cluster = Cluster.objects.create(name="m", source=Cluster.Source.MANIFESTS, manifests_dir=str(folder))
    with pytest.raises(sync.ClusterSetupError) as caught:
        sync.load_manifests(cluster)
    assert words in str(caught.value)
    cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.FAILING
    assert words in cluster.last_error
    assert not CniObject.objects.exists()
    assert not ClusterPolicy.objects.exists()


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_drift_directory_source_reports_unstorable_values_and_the_report_is_made(tmp_path, case):
    text, words = REFUSED[case]
    folder = _write(tmp_path, text)
    cluster = Cluster.objects.create(name="c", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path / "none"))
    DesiredSource.objects.create(cluster=cluster, kind="directory", location=str(folder))
    state = drift.read_desired_state(cluster)
    assert any(words in str(p) for p in state.problems), [str(p) for p in state.problems]
    drift.compute_drift(cluster)  # stored without a database error


@pytest.mark.parametrize("case", ["Calico order .nan", "ClusterNetworkPolicy priority beyond 64 bits"])
def test_the_cli_exits_2_with_file_line_on_unstorable_values(tmp_path, case):
    text, words = REFUSED[case]
    folder = _write(tmp_path, text)
    for command in ("analyze", "lint"):
        done = subprocess.run(
            [sys.executable, "-m", "policies.engine.cli", command, str(folder / "a.yaml")],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert done.returncode == 2, done.stderr
        assert words in done.stderr
        assert "Traceback" not in done.stderr


def test_the_mirror_keeps_columns_storable_whatever_a_watched_object_says(tmp_path):
    """Objects reach the mirror from the API server too (CRDs without validation): columns
    take what fits; the object itself is kept as written."""
    cluster = Cluster.objects.create(name="w", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path))
    load_snapshot(cluster, [
        {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
         "metadata": {"name": "big", "generation": "abc"},
         "spec": {"tier": "Admin", "priority": 2**40, "subject": {"namespaces": {}}}},
        {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
         "metadata": {"name": "neg", "generation": -1},
         "spec": {"tier": "Admin", "priority": 7, "subject": {"namespaces": {}}}},
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
         "metadata": {"name": "g", "generation": True}, "spec": {"order": 2**62}},
    ])
    rows = {p.name: (p.priority, p.generation) for p in ClusterPolicy.objects.filter(cluster=cluster)}
    assert rows == {"big": (None, 0), "neg": (7, 0)}
    g = CniObject.objects.get(cluster=cluster, name="g")
    assert (g.order, g.generation) == (float(2**62), 0)
    assert ClusterPolicy.objects.get(name="big").obj["spec"]["priority"] == 2**40


MALFORMED = (Path(__file__).parent / "hostile_cni_docs.yaml")


def test_drift_with_malformed_cni_and_cluster_wide_documents_reports_and_renders(tmp_path, client_for):
    """Documents of the right shape for YAML but the wrong one for their kind, in the
    source and in the mirror: the report is made, problems name file:line, every page
    of the report and of the objects answers."""
    from policies import engine

    folder = tmp_path / "src"
    folder.mkdir()
    text = MALFORMED.read_text()
    (folder / "a.yaml").write_text(text)
    cluster = Cluster.objects.create(name="c", source=Cluster.Source.MANIFESTS,
                                     manifests_dir=str(tmp_path / "none"), cni="calico")
    docs = engine.load_yaml_text(text)
    load_snapshot(cluster, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}},
                            *[d for d in docs if d["metadata"].get("name") != "y"]])
    DesiredSource.objects.create(cluster=cluster, kind="directory", location=str(folder))
    problems = [str(p) for p in drift.read_desired_state(cluster).problems]
    assert "a.yaml:24: ClusterNetworkPolicy c: spec must be an object" in problems
    assert any(p.startswith("a.yaml:29: AdminNetworkPolicy a: spec.priority") for p in problems)
    report = drift.compute_drift(cluster)
    assert report is not None
    viewer, editor = client_for("viewer"), client_for("editor")
    for url in (f"/clusters/{cluster.pk}/drift/", f"/clusters/{cluster.pk}/drift/reports/{report.pk}/",
                f"/clusters/{cluster.pk}/drift/history/", f"/clusters/{cluster.pk}/cni-policies/",
                f"/clusters/{cluster.pk}/cluster-policies/", f"/clusters/{cluster.pk}/"):
        assert viewer.get(url).status_code == 200, url
    assert editor.get(f"/clusters/{cluster.pk}/drift/export/reconcile/").status_code == 200
    rows = [*CniObject.objects.filter(cluster=cluster), *ClusterPolicy.objects.filter(cluster=cluster)]
    assert len(rows) == 7
    for row in rows:
        base = "cni-policies" if isinstance(row, CniObject) else "cluster-policies"
        for suffix in ("", "yaml/"):
            assert viewer.get(f"/{base}/{row.pk}/{suffix}").status_code == 200, (row.name, suffix)
