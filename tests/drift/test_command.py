"""`manage.py drift CLUSTER [--fail-on-drift]`: the printed report and the exit codes
CI relies on (0 in sync, 1 drift with --fail-on-drift, 2 bad source or unknown cluster)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from policies.models import DriftReport, NetworkPolicy

from .conftest import ROOT, demo_policies, git_source, policy

pytestmark = pytest.mark.django_db


def drift_command(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("drift", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_in_sync_exits_0_even_with_fail_on_drift(demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo)
    code, out = drift_command("demo", "--fail-on-drift")
    assert code == 0
    assert "0 missing, 0 changed, 0 extra" in out
    assert DriftReport.objects.filter(cluster=demo_cluster).count() == 1  # stored in the history


def test_drift_exits_1_with_fail_on_drift_and_0_without(demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo)
    NetworkPolicy.objects.filter(cluster=demo_cluster, name="allow-dns").delete()
    NetworkPolicy.objects.create(cluster=demo_cluster, uid="x", namespace="team-a", name="by-hand",
                                 obj=policy("team-a", "by-hand", {"podSelector": {}}))
    demo_cluster.bump_state_version()
    code, out = drift_command("demo", "--fail-on-drift")
    assert code == 1
    assert "+ missing  shop/allow-dns  (policies/demo.yaml:" in out
    assert "- extra    team-a/by-hand" in out
    assert "demo differs from the desired state: 1 missing, 0 changed, 1 extra" in out
    assert "desired only: shop/frontend[Deployment] => kube-system/coredns[Deployment] : TCP 53,UDP 53" in out
    assert drift_command("demo")[0] == 0


def test_a_changed_policy_prints_its_normalized_diff(demo_cluster, demo_repo):
    docs = demo_policies()
    docs[1]["spec"]["ingress"][0]["ports"][0]["port"] = 8443  # frontend-policy
    demo_repo.write_docs("policies/demo.yaml", docs)
    demo_repo.commit()
    git_source(demo_cluster, demo_repo)
    code, out = drift_command("demo")
    assert code == 0
    assert "~ changed  shop/frontend-policy" in out
    assert "    -      port: 8443" in out
    assert "    +      port: 80" in out


def test_unknown_cluster_exits_2(db):
    code, out = drift_command("nowhere")
    assert code == 2
    assert "unknown cluster 'nowhere'" in out


def test_a_cluster_without_source_exits_2(demo_cluster):
    code, out = drift_command("demo")
    assert code == 2
    assert "cluster demo has no desired-state source" in out


def test_a_bad_source_exits_2_and_says_why(demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo, branch="no-such-branch")
    code, out = drift_command("demo", "--fail-on-drift")
    assert code == 2
    assert (
        f"error: [repository …/{demo_repo.path.name}@no-such-branch (policies/)] cannot fetch the Git repository "
        f"…/{demo_repo.path.name} (branch 'no-such-branch')"
    ) in out
    assert "not compared" in out


def test_an_invalid_policy_in_the_source_exits_2(demo_cluster, demo_repo):
    docs = demo_policies()
    docs[0]["spec"]["policyTypes"] = ["Sideways"]
    demo_repo.write_docs("policies/demo.yaml", docs)
    demo_repo.commit()
    git_source(demo_cluster, demo_repo)
    code, out = drift_command("demo")
    assert code == 2
    assert "policies/demo.yaml:" in out
    assert "NetworkPolicy shop/default-deny-all: spec.policyTypes" in out


def test_a_one_off_directory_is_compared_without_storing(demo_cluster, tmp_path):
    (tmp_path / "want.yaml").write_text(
        "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: deny, namespace: team-a}\n"
        "spec: {podSelector: {}}\n"
    )
    code, out = drift_command("demo", "--directory", str(tmp_path), "--namespaces", "team-a", "--fail-on-drift")
    assert code == 1
    assert "+ missing  team-a/deny  (want.yaml:1)" in out
    assert "- extra    team-a/allow-specific-pods" in out
    assert "shop/" not in out.split("reachability:")[0]  # out of scope
    assert not DriftReport.objects.exists()


def test_json_output(demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo)
    NetworkPolicy.objects.filter(cluster=demo_cluster, name="allow-dns").delete()
    demo_cluster.bump_state_version()
    code, out = drift_command("demo", "--json", "--no-store")
    assert code == 0
    data = json.loads(out)
    assert data["counts"]["missing"] == 1
    assert [(i["kind"], i["namespace"], i["name"]) for i in data["items"]] == [("missing", "shop", "allow-dns")]
    assert data["report"] is None  # --no-store
    assert not DriftReport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_exit_codes_of_the_real_process(demo_cluster, demo_repo, tmp_path):
    """The process CI runs: its exit status, stdout and stderr."""
    git_source(demo_cluster, demo_repo)
    from django.db import connection

    env_db = connection.settings_dict
    if env_db["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{env_db['NAME']}"
    else:
        database_url = (
            f"postgres://{env_db['USER']}:{env_db['PASSWORD'] or ''}@{env_db['HOST']}:{env_db['PORT'] or 5432}/{env_db['NAME']}"
        )
    # Its own data directory, so its Git checkouts stay in this test's tmp_path.
    env = {"DATABASE_URL": database_url, "NETPOLUI_ENV": "test", "NETPOLUI_DATA_DIR": str(tmp_path / "data"),
           "DJANGO_SETTINGS_MODULE": "netpolui.test_settings", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "manage.py", "drift", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    ok = run("demo", "--fail-on-drift", "--no-store")
    assert ok.returncode == 0, ok.stderr
    NetworkPolicy.objects.filter(cluster=demo_cluster, name="allow-dns").delete()
    demo_cluster.bump_state_version()
    drifted = run("demo", "--fail-on-drift", "--no-store")
    assert drifted.returncode == 1
    assert "missing  shop/allow-dns" in drifted.stdout
    assert "differs from the desired state" in drifted.stderr
    unknown = run("nowhere")
    assert unknown.returncode == 2
    assert "unknown cluster 'nowhere'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


@pytest.mark.parametrize(
    ("path", "words"),
    [("/dev/zero", "file is larger than the 1 MB limit for one file"), ("latin1.yaml", "file is not UTF-8 text (byte 7)"),
     ("missing.yaml", "No such file or directory")],
)
def test_a_file_given_to_the_command_is_read_within_the_caps(demo_cluster, tmp_path, settings, path, words):
    """`--file /dev/zero` read until the process ran out of memory."""
    settings.NETPOLUI_SOURCE_FILE_MB = 1
    (tmp_path / "latin1.yaml").write_bytes(b"a: caf\xe9\n")
    target = path if path.startswith("/") else str(tmp_path / path)
    code, out = drift_command("demo", "--no-store", "--file", target)
    assert code == 2
    assert out.strip().splitlines()[-1] == f"{target}: {words}"
