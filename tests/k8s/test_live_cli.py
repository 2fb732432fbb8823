"""`netpolui analyze|explain|lint|diff --context CTX` against the fake API server: the
same answers as the same objects read from files, read-only and paged list calls, the
sync's words for every failure, and the kubectl plugin's current context."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from policies import cli
from policies.k8s.live import LiveReadError, read_cluster
from policies.k8s.sync import SyncOptions
from tests.fake_k8s import objects
from tests.fake_k8s.server import FakeKubeApiServer

KINDS = ["Namespace", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod",
         "NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy", "Node"]
BACKEND_FROM_FRONTEND = "shop/frontend[Deployment] => shop/backend[Deployment] : TCP 8080"


def seed(fake: FakeKubeApiServer) -> None:
    fake.put(objects.namespace("shop", {"team": "shop"}))
    fake.put(objects.namespace("ops"))
    fake.put_all(objects.deployment_stack("shop", "frontend", {"tier": "frontend"}, ports=[("http", 80, "TCP")], replicas=2))
    fake.put_all(objects.deployment_stack("shop", "backend", {"tier": "backend"}, ports=[("http", 8080, "TCP")], replicas=2))
    fake.put(objects.statefulset("shop", "db", {"tier": "database"}, ports=[("pg", 5432, "TCP")]))
    fake.put_all(objects.deployment_stack("ops", "monitor", {"app": "monitor"}, ports=[("metrics", 9090, "TCP")]))
    fake.put(objects.networkpolicy("shop", "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]}))
    fake.put(objects.allow_from("shop", "backend-from-frontend", {"tier": "backend"}, {"tier": "frontend"}, 8080))


def dump(fake: FakeKubeApiServer, path: Path) -> Path:
    """The fake's objects as one manifest file, with kinds as `kubectl get -o yaml` writes."""
    docs = [obj for kind in KINDS for obj in fake.objects(kind)]
    path.write_text(yaml.safe_dump_all(docs))
    return path


@pytest.fixture
def kubeconfig(fake_k8s: FakeKubeApiServer, tmp_path: Path) -> str:
    seed(fake_k8s)
    return str(fake_k8s.write_kubeconfig(tmp_path / "kubeconfig", context="fake"))


def run(capsys: pytest.CaptureFixture[str], *argv: str, plugin: bool = False) -> tuple[int, str, str]:
    code = (cli.kubectl_main if plugin else cli.main)(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_analyze_context_answers_as_the_same_objects_read_from_files(fake_k8s, kubeconfig, tmp_path, capsys):
    code, live, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 0, err
    assert BACKEND_FROM_FRONTEND in live.splitlines()
    assert "=> shop/db[StatefulSet]" not in live  # default deny in shop
    assert "ops/monitor[Deployment] => shop/" not in live
    code, from_files, _ = run(capsys, "analyze", str(dump(fake_k8s, tmp_path / "cluster.yaml")))
    assert code == 0
    assert live == from_files


def test_live_read_only_lists_and_never_writes_or_watches(fake_k8s, kubeconfig, capsys):
    fake_k8s.clear_requests()
    code, _, err = run(capsys, "lint", "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 0, err
    requests = fake_k8s.requests
    assert {r.method for r in requests} == {"GET"}
    assert not any(r.watch for r in requests)
    # API discovery (GET /apis/, once) says which cluster-wide policy kinds and CNI
    # resources the cluster serves: none here.
    assert [r.path for r in requests if r.path.rstrip("/") == "/apis"] == ["/apis/"]
    listed = {r.path.rsplit("/", 1)[-1] for r in requests if r.path.rstrip("/") != "/apis"}
    assert listed == {"namespaces", "deployments", "replicasets", "statefulsets", "daemonsets",
                      "cronjobs", "jobs", "pods", "networkpolicies", "nodes"}


def deny_frontend_to_backend() -> dict:
    """An AdminNetworkPolicy that denies what shop's NetworkPolicy allows (Admin tier first)."""
    shop = {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "freeze-backend"},
        "spec": {
            "priority": 10,
            "subject": {"pods": {"namespaceSelector": shop, "podSelector": {"matchLabels": {"tier": "backend"}}}},
            "ingress": [{"name": "no-frontend", "action": "Deny",
                         "from": [{"pods": {"namespaceSelector": shop,
                                            "podSelector": {"matchLabels": {"tier": "frontend"}}}}]}],
        },
    }


@pytest.fixture
def policy_api_kubeconfig(tmp_path) -> Iterator[tuple[FakeKubeApiServer, str]]:
    """A fake cluster that has the network-policy-api CRDs installed (and serves Nodes)."""
    with FakeKubeApiServer(policy_api=True) as fake:
        seed(fake)
        yield fake, str(fake.write_kubeconfig(tmp_path / "kubeconfig", context="fake"))


def test_cluster_wide_policies_are_read_when_the_cluster_serves_them(policy_api_kubeconfig, tmp_path, capsys):
    fake, kubeconfig = policy_api_kubeconfig
    fake.put(deny_frontend_to_backend())
    code, live, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 0, err
    assert BACKEND_FROM_FRONTEND not in live.splitlines()
    assert live == run(capsys, "analyze", str(dump(fake, tmp_path / "all.yaml")))[1]
    code, out, _ = run(capsys, "explain", "--context", "fake", "--kubeconfig", kubeconfig,
                       "--src", "shop/frontend", "--dst", "shop/backend", "--port", "8080")
    assert "freeze-backend" in out


def test_a_cluster_without_the_policy_crds_is_read_without_a_note(fake_k8s, kubeconfig, capsys):
    code, out, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 0, err
    assert BACKEND_FROM_FRONTEND in out.splitlines()
    assert "note" not in err
    assert not [r for r in fake_k8s.requests if "policy.networking.k8s.io" in r.path]


def test_cluster_wide_policies_the_role_may_not_list_are_a_note_naming_the_rule(policy_api_kubeconfig, capsys):
    fake, kubeconfig = policy_api_kubeconfig
    fake.deny("list", "adminnetworkpolicies")
    code, _out, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 0, err
    assert (
        "netpolui: note: adminnetworkpolicies: permission denied to adminnetworkpolicies (403 Forbidden)"
    ) in err
    assert 'Missing RBAC rule: apiGroups: ["policy.networking.k8s.io"], resources: ["adminnetworkpolicies"]' in err
    assert "Without them their Allow, Deny and Pass rules are left out of the answer." in err


def test_live_read_pages_through_every_list(fake_k8s, kubeconfig):
    snapshot = read_cluster("fake", kubeconfig=kubeconfig, options=SyncOptions(page_size=2))
    pods = [o for o in snapshot.objects if o["kind"] == "Pod"]
    assert len(pods) == len(fake_k8s.objects("Pod")) == 5
    pages = fake_k8s.find_requests("GET", "/pods", limit="2")
    assert len(pages) == 3
    assert sum(1 for r in pages if r.query.get("continue")) == 2


def test_namespace_option_reads_only_those_namespaces(fake_k8s, kubeconfig, capsys):
    fake_k8s.clear_requests()
    code, out, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig, "-n", "ops", "-o", "json")
    assert code == 0, err
    assert "shop/" not in out
    assert "ops/monitor[Deployment]" in out
    paths = {r.path for r in fake_k8s.requests}
    assert "/api/v1/namespaces/ops/pods" in paths
    assert "/api/v1/pods" not in paths
    assert "/api/v1/namespaces" not in paths  # only GET /api/v1/namespaces/ops
    assert not any("/namespaces/shop" in p for p in paths)
    twice = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig, "-n", "ops", "-n", "ops", "-o", "json")
    assert twice == (0, out, err)  # read once, not listed twice


def test_namespace_scoped_user_without_namespace_read_gets_a_note(fake_k8s, kubeconfig, capsys):
    fake_k8s.deny("get", "namespaces")
    code, out, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig, "--namespace", "shop")
    assert code == 0, err
    assert BACKEND_FROM_FRONTEND in out
    assert "namespace shop: its labels cannot be read (403 Forbidden)" in err


def test_unknown_namespace_is_named(fake_k8s, kubeconfig, capsys):
    code, out, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig, "-n", "nope")
    assert code == 2
    assert out == ""
    assert "context fake: namespace nope does not exist on http://127.0.0.1:" in err


def test_explain_and_lint_read_the_live_cluster(kubeconfig, capsys):
    code, out, err = run(capsys, "explain", "--context", "fake", "--kubeconfig", kubeconfig,
                         "--src", "shop/frontend", "--dst", "shop/backend", "--port", "8080", "-o", "json")
    assert code == 0, err
    assert '"backend-from-frontend"' in out or "backend-from-frontend" in out
    code, out, err = run(capsys, "lint", "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 0, err
    assert "ops" in out  # a namespace with no policy


def test_forbidden_list_gives_the_syncs_words_and_the_missing_rule(fake_k8s, kubeconfig, capsys):
    fake_k8s.deny("list", "networkpolicies")
    code, out, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 2
    assert out == ""
    assert err.startswith("netpolui: error: context fake: permission denied to networkpolicies (403 Forbidden)")
    assert 'Missing RBAC rule: apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"]' in err


def test_rejected_credentials_say_401(tmp_path, capsys):
    with FakeKubeApiServer(token="right") as fake:
        path = fake.write_kubeconfig(tmp_path / "kc", context="prod", token="wrong")
        code, _, err = run(capsys, "lint", "--context", "prod", "--kubeconfig", str(path))
    assert code == 2
    assert "context prod: " in err
    assert "rejected the credentials (401 Unauthorized)" in err


def test_untrusted_certificate_is_a_tls_failure(tmp_path, capsys):
    with FakeKubeApiServer(tls=True) as fake:
        path = fake.write_kubeconfig(tmp_path / "kc", context="tls", ca_file="")
        code, _, err = run(capsys, "analyze", "--context", "tls", "--kubeconfig", str(path))
    assert code == 2
    assert "context tls: TLS failure talking to https://127.0.0.1:" in err
    assert "certificate verify failed" in err


def test_unreachable_server_is_named(tmp_path, capsys):
    fake = FakeKubeApiServer()
    with fake:
        path = fake.write_kubeconfig(tmp_path / "kc", context="gone")
    code, _, err = run(capsys, "analyze", "--context", "gone", "--kubeconfig", str(path))
    assert code == 2
    assert f"context gone: cannot reach {fake.url}: connection refused" in err


KUBECONFIG_WITH_EXEC_PLUGIN = """\
apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: a
  context: {cluster: c, user: u}
- name: b
  context: {cluster: c, user: u}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: netpolui-no-such-credential-plugin
"""


def one_error_line(capsys: pytest.CaptureFixture[str], *argv: str, plugin: bool = False) -> str:
    code, out, err = run(capsys, *argv, plugin=plugin)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1, err
    assert err.startswith("netpolui: error: ")
    return err.strip().removeprefix("netpolui: error: ")


def test_a_file_that_is_not_a_kubeconfig_is_one_line_without_its_contents(capsys):
    error = one_error_line(capsys, "analyze", "--kubeconfig", "/etc/passwd", "--context", "x")
    assert error == "kubeconfig /etc/passwd is not a kubeconfig file (YAML with clusters, users and contexts)"


def test_an_unknown_context_lists_the_contexts_of_the_kubeconfig(tmp_path, capsys):
    path = tmp_path / "kc"
    path.write_text(KUBECONFIG_WITH_EXEC_PLUGIN)
    error = one_error_line(capsys, "analyze", "--kubeconfig", str(path), "--context", "nope")
    assert error == f"context 'nope' is not in kubeconfig {path} (contexts: a, b)"


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("missing", lambda p: None, "kubeconfig {p} does not exist"),
        ("directory", lambda p: p.mkdir(), "kubeconfig {p} is a directory, not a kubeconfig file"),
        ("empty", lambda p: p.write_text(""), "kubeconfig {p} is empty"),
        ("not-yaml", lambda p: p.write_bytes(b"\xff\xfe: [unclosed"), "kubeconfig {p} is not a kubeconfig file (YAML with clusters, users and contexts)"),
        ("a-list", lambda p: p.write_text("- a\n- b\n"), "kubeconfig {p} is not a kubeconfig file (YAML with clusters, users and contexts)"),
        ("no-contexts", lambda p: p.write_text("apiVersion: v1\nkind: Config\n"), "context 'x' is not in kubeconfig {p} (it has no contexts)"),
        ("fifo", lambda p: os.mkfifo(p), "kubeconfig {p} is not a regular file"),
    ],
)
def test_every_unusable_kubeconfig_is_one_line_in_our_words(tmp_path, capsys, name, make, expected):
    path = tmp_path / name
    make(path)
    error = one_error_line(capsys, "analyze", "--kubeconfig", str(path), "--context", "x")
    assert error == expected.format(p=path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_kubeconfig_is_one_line(tmp_path, capsys):
    path = tmp_path / "kc"
    path.write_text(KUBECONFIG_WITH_EXEC_PLUGIN)
    path.chmod(0)
    error = one_error_line(capsys, "analyze", "--kubeconfig", str(path), "--context", "a")
    assert error == f"kubeconfig {path} cannot be read: Permission denied"


def test_a_kubeconfig_without_a_current_context_asks_for_one(tmp_path, capsys):
    path = tmp_path / "kc"
    path.write_text(KUBECONFIG_WITH_EXEC_PLUGIN.replace("current-context: a\n", ""))
    error = one_error_line(capsys, "analyze", "--kubeconfig", str(path), plugin=True)
    assert error == f"kubeconfig {path} has no current context: pass --context (contexts: a, b)"


def test_a_credential_plugin_that_is_not_installed_is_named(tmp_path, capsys):
    path = tmp_path / "kc"
    path.write_text(KUBECONFIG_WITH_EXEC_PLUGIN)
    error = one_error_line(capsys, "analyze", "--kubeconfig", str(path), "--context", "b")
    assert error == (
        "context b: user u signs in with the credential plugin netpolui-no-such-credential-plugin, "
        "which is not installed (not found on PATH)"
    )


def test_kubeconfig_errors_are_one_line_from_the_installed_command(tmp_path):
    netpolui = Path(sys.executable).with_name("netpolui")
    result = subprocess.run(
        [str(netpolui), "analyze", "--kubeconfig", "/etc/passwd", "--context", "x"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "netpolui: error: kubeconfig /etc/passwd is not a kubeconfig file (YAML with clusters, users and contexts)\n"


def test_paths_and_context_together_or_neither_are_usage_errors(kubeconfig, tmp_path, capsys):
    code, _, err = run(capsys, "analyze", str(tmp_path), "--context", "fake", "--kubeconfig", kubeconfig)
    assert (code, err.strip()) == (2, "netpolui: error: give PATH... or --context, not both")
    code, _, err = run(capsys, "analyze")
    assert (code, err.strip()) == (2, "netpolui: error: give manifest PATH... or a live cluster with --context CTX")
    code, _, err = run(capsys, "analyze", str(tmp_path), "-n", "shop")
    assert (code, err.strip()) == (2, "netpolui: error: --namespace applies to a live cluster (--context) only")


# --- diff: the cluster against a directory, in both orders ---------------------------------


@pytest.fixture
def ci_dir(fake_k8s, kubeconfig, tmp_path) -> Path:
    """The cluster's objects as files, plus a policy CI has and the cluster has not."""
    directory = tmp_path / "ci"
    directory.mkdir()
    dump(fake_k8s, directory / "cluster.yaml")
    extra = objects.allow_from("shop", "db-from-backend", {"tier": "database"}, {"tier": "backend"}, 5432)
    (directory / "db.yaml").write_text(yaml.safe_dump(extra))
    return directory


@pytest.fixture
def live_dir(fake_k8s, kubeconfig, tmp_path) -> Path:
    """What the cluster holds, as files: the live side of a diff, read from disk."""
    directory = tmp_path / "live"
    directory.mkdir()
    dump(fake_k8s, directory / "cluster.yaml")
    return directory


def test_diff_context_then_dir_shows_what_applying_the_dir_would_change(kubeconfig, ci_dir, live_dir, capsys):
    code, out, err = run(capsys, "diff", "--context", "fake", "--kubeconfig", kubeconfig, str(ci_dir))
    assert code == 0, err
    assert out.splitlines() == [
        "Connectivity diff:",
        "diff-type: added, source: shop/backend[Deployment], destination: shop/db[StatefulSet], "
        "ref1: No Connections, ref2: TCP 5432",
    ]
    assert out == run(capsys, "diff", str(live_dir), str(ci_dir))[1]
    json_out = run(capsys, "diff", "--context", "fake", "--kubeconfig", kubeconfig, str(ci_dir), "-o", "json")[1]
    assert json_out == run(capsys, "diff", str(live_dir), str(ci_dir), "-o", "json")[1]


def test_diff_dir_then_context_shows_how_the_cluster_drifted(kubeconfig, ci_dir, live_dir, capsys):
    code, out, err = run(capsys, "diff", str(ci_dir), "--context", "fake", "--kubeconfig", kubeconfig, "--fail-on-change")
    assert code == 1, err
    assert out.splitlines() == [
        "Connectivity diff:",
        "diff-type: removed, source: shop/backend[Deployment], destination: shop/db[StatefulSet], "
        "ref1: TCP 5432, ref2: No Connections",
    ]
    assert out == run(capsys, "diff", str(ci_dir), str(live_dir))[1]


def test_diff_fail_on_change_exit_codes(fake_k8s, kubeconfig, tmp_path, capsys):
    same = tmp_path / "same"
    same.mkdir()
    dump(fake_k8s, same / "all.yaml")
    code, _, err = run(capsys, "diff", "--context", "fake", "--kubeconfig", kubeconfig, str(same), "--fail-on-change")
    assert code == 0, err
    fake_k8s.deny("list", "pods")
    code, _, err = run(capsys, "diff", "--context", "fake", "--kubeconfig", kubeconfig, str(same), "--fail-on-change")
    assert code == 2
    assert "permission denied to pods (403 Forbidden)" in err
    code, _, err = run(capsys, "diff", str(same), str(same), "--context", "fake")
    assert code == 2
    assert "diff with a live cluster takes one DIR" in err


# --- the kubectl plugin ----------------------------------------------------------------------


def test_plugin_diff_without_context_compares_the_current_context_with_the_dir(kubeconfig, ci_dir, live_dir, capsys):
    expected = run(capsys, "diff", str(live_dir), str(ci_dir))[1]
    assert "ref1: No Connections, ref2: TCP 5432" in expected
    plugin = Path(sys.executable).parent / "kubectl-netpolui"
    done = subprocess.run([str(plugin), "diff", str(ci_dir)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KUBECONFIG": kubeconfig})
    assert (done.returncode, done.stdout) == (0, expected), done.stderr
    code, out, err = run(capsys, "diff", str(ci_dir), "--kubeconfig", kubeconfig, "--fail-on-change", plugin=True)
    assert (code, out) == (1, expected), err  # --kubeconfig names a file, not a side


def test_plugin_without_paths_reads_the_current_context(kubeconfig, capsys):
    code, out, err = run(capsys, "analyze", "--kubeconfig", kubeconfig, plugin=True)
    assert code == 0, err
    assert BACKEND_FROM_FRONTEND in out.splitlines()


def test_plugin_with_paths_reads_files(tmp_path, fake_k8s, kubeconfig, capsys):
    path = dump(fake_k8s, tmp_path / "files.yaml")
    fake_k8s.clear_requests()
    code, out, err = run(capsys, "analyze", str(path), plugin=True)
    assert code == 0, err
    assert BACKEND_FROM_FRONTEND in out.splitlines()
    assert fake_k8s.requests == []


def test_kubectl_runs_the_installed_plugin_on_its_current_context(kubeconfig, tmp_path):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (make test installs Debian's kubernetes-client)")
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "kubectl-netpolui").exists(), "console scripts missing: run pip install -e ."
    env = {**os.environ, "KUBECONFIG": kubeconfig, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([kubectl, "netpolui", "analyze"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert BACKEND_FROM_FRONTEND in result.stdout.splitlines()
    plugins = subprocess.run([kubectl, "plugin", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert str(bin_dir / "kubectl-netpolui") in plugins.stdout


def test_kubectl_plugin_an_explicit_context_wins_over_the_current_one(kubeconfig, tmp_path):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (make test installs Debian's kubernetes-client)")
    with FakeKubeApiServer() as staging:
        staging.put(objects.namespace("blue"))
        staging.put_all(objects.deployment_stack("blue", "api", {"app": "api"}, ports=[("http", 80, "TCP")]))
        merged = yaml.safe_load(Path(kubeconfig).read_text())  # current-context: fake
        other = yaml.safe_load(staging.write_kubeconfig(tmp_path / "staging", context="staging").read_text())
        for section in ("clusters", "users", "contexts"):
            merged[section] += other[section]
        (tmp_path / "merged").write_text(yaml.safe_dump(merged))
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "KUBECONFIG": str(tmp_path / "merged"), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

        def plugin(*argv: str) -> list[str]:
            done = subprocess.run([kubectl, "netpolui", *argv], capture_output=True, text=True, env=env, timeout=120)
            assert done.returncode == 0, done.stderr
            return done.stdout.splitlines()

        assert BACKEND_FROM_FRONTEND in plugin("analyze")
        assert plugin("analyze", "--context", "staging") == [
            "0.0.0.0-255.255.255.255[External] => blue/api[Deployment] : All Connections",
            "blue/api[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections",
        ]


def test_file_only_runs_never_import_the_kubernetes_client(tmp_path, fake_k8s, kubeconfig):
    path = dump(fake_k8s, tmp_path / "files.yaml")
    code = (
        "import sys; from policies import cli; rc = cli.main(['analyze', sys.argv[1]]); "
        "assert 'kubernetes' not in sys.modules, 'kubernetes imported'; sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert BACKEND_FROM_FRONTEND in result.stdout.splitlines()


def test_reader_errors_name_the_context():
    with pytest.raises(LiveReadError, match="context c1: kubeconfig /nonexistent/kc does not exist"):
        read_cluster("c1", kubeconfig="/nonexistent/kc")
