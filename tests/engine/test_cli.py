"""The `netpolui` console script, run as a subprocess: exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .builders import netpol

GOLDEN = Path(__file__).parent / "golden"
THREE_TIER = GOLDEN / "three_tier" / "input"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policies.engine.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_analyze_prints_the_connection_list() -> None:
    res = run("analyze", THREE_TIER)
    assert res.returncode == 0
    assert res.stdout == (GOLDEN / "three_tier" / "expected.txt").read_text()


def test_analyze_json_and_focus() -> None:
    res = run("analyze", THREE_TIER, "-o", "json", "--focus", "shop/database")
    assert res.returncode == 0
    pairs = {(c["src"], c["dst"]) for c in json.loads(res.stdout)["connections"]}
    assert pairs == {
        ("shop/backend[Deployment]", "shop/database[StatefulSet]"),
        ("shop/database[StatefulSet]", "kube-system/coredns[Deployment]"),
    }


def test_focus_repeats_and_keeps_pairs_of_any_focused_workload() -> None:
    focused = ("--focus", "shop/database", "--focus", "frontend")
    for extra in ((), ("--explain",)):
        res = run("analyze", THREE_TIER, *focused, *extra)
        assert res.returncode == 0, res.stderr
        pairs = [line.split(" : ")[0] for line in res.stdout.splitlines() if " => " in line]
        assert pairs == [
            "shop/backend[Deployment] => shop/database[StatefulSet]",
            "shop/database[StatefulSet] => kube-system/coredns[Deployment]",
            "shop/frontend[Deployment] => kube-system/coredns[Deployment]",
            "shop/frontend[Deployment] => shop/backend[Deployment]",
        ], extra


def test_every_focus_must_name_a_workload() -> None:
    res = run("analyze", THREE_TIER, "--focus", "frontend", "--focus", "nope")
    assert res.returncode == 2
    assert "--focus 'nope' names no workload" in res.stderr


def test_analyze_explain_annotates_each_pair() -> None:
    res = run("analyze", THREE_TIER, "--explain", "--focus", "database")
    assert res.returncode == 0
    assert "shop/database-policy ingress rule #0" in res.stdout


def test_unknown_focus_is_bad_input() -> None:
    res = run("analyze", THREE_TIER, "--focus", "nope")
    assert res.returncode == 2
    assert "names no workload" in res.stderr


def test_pod_level() -> None:
    res = run("analyze", THREE_TIER, "--level", "pod")
    assert res.returncode == 0
    assert "shop/frontend[Deployment] => shop/backend[Deployment] : TCP 8080" in res.stdout


def test_broken_yaml_exits_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\nmetadata:\n  name: [unclosed\n")
    res = run("analyze", bad)
    assert res.returncode == 2
    assert res.stderr.startswith(f"{bad}:")
    assert "invalid YAML" in res.stderr
    assert "Traceback" not in res.stderr


def test_invalid_cidr_exits_2_naming_file_line_object_and_field(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(
        yaml.safe_dump(
            netpol("team-a", "web", egress=[{"to": [{"ipBlock": {"cidr": "300.0.0.0/8"}}]}]),
            sort_keys=False,
        )
    )
    res = run("analyze", f)
    assert res.returncode == 2
    line = res.stderr.strip().splitlines()[0]
    assert line.startswith(f"{f}:")
    assert (
        'NetworkPolicy team-a/web: spec.egress[0].to[0].ipBlock.cidr "300.0.0.0/8" is not a valid CIDR'
        in line
    )
    assert "Traceback" not in res.stderr


def test_every_invalid_policy_is_reported_none_silently_dropped(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(
        yaml.safe_dump_all(
            [
                netpol("a", "p1", ingress=[{"ports": [{"port": 80, "endPort": 70}]}]),
                netpol("a", "p2", ingress=[{"ports": [{"protocol": "ICMP"}]}]),
            ]
        )
    )
    res = run("analyze", f)
    assert res.returncode == 2
    assert "a/p1" in res.stderr
    assert "a/p2" in res.stderr


def test_skipped_kinds_are_noted_on_stderr(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_text("kind: Service\nmetadata: {name: s}\n---\nkind: Pod\nmetadata: {name: p}\n")
    res = run("analyze", f)
    assert res.returncode == 0
    assert "skipped 1 Service object" in res.stderr


def test_explain_names_the_rules() -> None:
    res = run(
        "explain", THREE_TIER, "--src", "shop/frontend", "--dst", "shop/backend", "--port", "8080"
    )
    assert res.returncode == 0
    assert "ALLOWED" in res.stdout
    assert "shop/frontend-to-backend egress rule #0" in res.stdout
    assert "shop/backend-policy ingress rule #0" in res.stdout


def test_explain_denial_names_the_isolating_policies() -> None:
    res = run(
        "explain",
        THREE_TIER,
        "--src",
        "shop/frontend",
        "--dst",
        "shop/database",
        "--port",
        "5432",
        "-o",
        "json",
    )
    assert res.returncode == 0
    doc = json.loads(res.stdout)
    assert doc["allowed"] is False
    assert doc["ingress"]["policies"] == ["shop/database-policy", "shop/default-deny"]


def test_explain_unknown_endpoint_suggests_close_names() -> None:
    res = run("explain", THREE_TIER, "--src", "shop/fronted", "--dst", "shop/backend")
    assert res.returncode == 2
    assert "did you mean shop/frontend" in res.stderr


def test_diff_lists_changes_and_can_fail_on_change(tmp_path: Path) -> None:
    new = tmp_path / "new"
    new.mkdir()
    for f in THREE_TIER.iterdir():
        (new / f.name).write_text(f.read_text().replace("port: 5432}", "port: 5433}"))
    res = run("diff", THREE_TIER, new)
    assert res.returncode == 0
    assert res.stdout == (
        "Connectivity diff:\n"
        "diff-type: changed, source: shop/backend[Deployment], "
        "destination: shop/database[StatefulSet], ref1: TCP 5432, ref2: TCP 5433\n"
    )
    assert run("diff", THREE_TIER, new, "--fail-on-change").returncode == 1
    assert run("diff", THREE_TIER, THREE_TIER, "--fail-on-change").returncode == 0


def test_usage_errors_exit_2() -> None:
    assert run("analyze").returncode == 2
    assert run("frobnicate").returncode == 2


def _two_statefulsets(tmp_path: Path) -> Path:
    from .builders import deployment, namespace, pod

    objs = [
        namespace("shop"),
        deployment("shop", "db", {"app": "db"}, kind="StatefulSet"),
        deployment("shop", "web", {"app": "web"}, kind="StatefulSet"),
        pod("shop", "db-0", {"app": "db"}, owner=("StatefulSet", "db"), ip="10.0.0.1"),
        pod("shop", "db-1", {"app": "db"}, owner=("StatefulSet", "db"), ip="10.0.0.2"),
        pod("shop", "web-0", {"app": "web"}, owner=("StatefulSet", "web"), ip="10.0.0.3"),
        netpol("shop", "db", podSelector={"matchLabels": {"app": "db"}}, policyTypes=["Ingress", "Egress"],
               ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]),
        netpol("shop", "web", podSelector={"matchLabels": {"app": "web"}}, policyTypes=["Ingress", "Egress"],
               egress=[{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}]),
    ]
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump_all(objs))
    return path


@pytest.mark.parametrize("focus", ["db", "shop/db", "shop/db[StatefulSet]"])
@pytest.mark.parametrize("explain", [[], ["--explain"]], ids=["list", "explain"])
def test_pod_level_focus_on_a_workload_keeps_its_pods(tmp_path: Path, focus: str, explain: list[str]) -> None:
    res = run("analyze", _two_statefulsets(tmp_path), "--level", "pod", "--focus", focus, *explain)
    assert res.returncode == 0, res.stderr
    pairs = [line.split(" : ")[0] for line in res.stdout.splitlines() if " => " in line]
    assert pairs == [
        "shop/web-0[Pod] => shop/db-0[Pod]",
        "shop/web-0[Pod] => shop/db-1[Pod]",
    ]


def test_pod_level_focus_on_a_pod_keeps_that_pod(tmp_path: Path) -> None:
    res = run("analyze", _two_statefulsets(tmp_path), "--level", "pod", "--focus", "db-1")
    assert res.returncode == 0, res.stderr
    assert [line.split(" : ")[0] for line in res.stdout.splitlines()] == ["shop/web-0[Pod] => shop/db-1[Pod]"]


def test_the_console_script_flushes_everything_before_its_quick_exit(tmp_path: Path) -> None:
    # `netpolui` (policies.cli.run) ends with os._exit, skipping the heap's teardown: what
    # it wrote must all be out, and its exit code kept, to a file, a pipe and on errors.
    from bench.generate import generate_cluster

    cluster = tmp_path / "cluster.json"
    cluster.write_text(json.dumps({"kind": "List", "items": generate_cluster(pods=300, workloads=60, namespaces=6, policies=90, seed=3)}))
    script = [sys.executable, "-m", "policies.cli"]
    # block-buffered output, as a user's shell gives it (this machine's environment may not)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    whole = run("analyze", cluster)
    assert whole.returncode == 0
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        done = subprocess.run([*script, "analyze", str(cluster)], stdout=f, stderr=subprocess.PIPE, timeout=60, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == whole.stdout
    assert len(whole.stdout) > 16384  # more than two buffers of output
    piped = subprocess.run([*script, "analyze", str(cluster)], capture_output=True, text=True, timeout=60, check=False, env=env)
    assert (piped.returncode, piped.stdout) == (0, whole.stdout)
    # a reader that stops early: no traceback, no "Exception ignored" at exit
    head = subprocess.run(
        f"{' '.join(script)} analyze {cluster} | head -n 3", shell=True, capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert head.stdout.count("\n") == 3
    assert "Traceback" not in head.stderr
    assert "Exception ignored" not in head.stderr
    # a short answer, still in the buffer when the command returns
    question = ("explain", THREE_TIER, "--src", "shop/frontend", "--dst", "shop/backend", "--port", "8080")
    asked = subprocess.run([*script, *map(str, question)], capture_output=True, text=True, timeout=60, check=False, env=env)
    assert (asked.returncode, asked.stdout) == (0, run(*question).stdout)
    assert asked.stdout
    bad = subprocess.run([*script, "analyze", str(tmp_path / "missing")], capture_output=True, text=True, timeout=60, check=False, env=env)
    assert bad.returncode == 2
    assert "no such file or directory" in bad.stderr
