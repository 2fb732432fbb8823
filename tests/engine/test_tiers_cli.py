"""The `netpolui` command on cluster-wide policies: analyze (netpol-analyzer's output on
its ANP/BANP demo, see golden/README.md), explain, lint, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli import GOLDEN, run

BLOG_DEMO = GOLDEN / "upstream_anp_banp_blog_demo" / "input"


def test_analyze_matches_netpol_analyzer_on_anp_and_banp() -> None:
    res = run("analyze", BLOG_DEMO)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (GOLDEN / "upstream_anp_banp_blog_demo" / "expected.txt").read_text()
    assert "not used for NetworkPolicy analysis" not in res.stderr


def test_explain_names_the_deciding_tier_rules() -> None:
    res = run("explain", BLOG_DEMO, "--src", "monitoring/mymonitoring", "--dst", "bar/mybar")
    assert res.returncode == 0, res.stderr
    assert res.stdout == (
        "monitoring/mymonitoring[Pod] => bar/mybar[Pod] (any connection): DENIED\n"
        "  egress from monitoring/mymonitoring[Pod]: allowed\n"
        "    not isolated for egress: no policy selects it with Egress in policyTypes, so everything is allowed\n"
        "  ingress to bar/mybar[Pod]: denied\n"
        '    passed (All Connections) by Admin tier AdminNetworkPolicy pass-monitoring ingress rule #0 "pass-ingress-from-monitoring" (Pass); '
        'denied (All Connections) by Baseline tier BaselineAdminNetworkPolicy default ingress rule #0 "deny-ingress-from-all-namespaces" (Deny)\n'
    )
    res = run("explain", BLOG_DEMO, "--src", "monitoring/mymonitoring", "--dst", "foo/myfoo", "--port", "80", "-o", "json")
    ingress = json.loads(res.stdout)["ingress"]
    assert [(m["tier"], m["policy"], m["action"]) for m in ingress["tier_matches"]] == [
        ("Admin", "AdminNetworkPolicy/pass-monitoring", "Pass")
    ]
    assert ingress["allowed"] is True
    assert "NetworkPolicy tier (TCP 80): allowed by foo/allow-monitoring" in ingress["summary"]


def test_lint_reports_tier_findings() -> None:
    res = run("lint", BLOG_DEMO, "-o", "json")
    found = {(f["code"], f["object_kind"], f["object_name"]) for f in json.loads(res.stdout)}
    assert ("pass-without-network-policy", "AdminNetworkPolicy", "pass-monitoring") in found


def test_invalid_cluster_policy_exits_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "cnp.yaml"
    bad.write_text(
        "apiVersion: policy.networking.k8s.io/v1alpha2\n"
        "kind: ClusterNetworkPolicy\n"
        "metadata: {name: bad}\n"
        "spec:\n"
        "  tier: Admin\n"
        "  priority: 5000\n"
        "  subject: {namespaces: {}}\n"
    )
    res = run("analyze", bad)
    assert res.returncode == 2
    assert res.stderr.strip() == f"{bad}:6: ClusterNetworkPolicy bad: spec.priority 5000 must be between 0 and 1000"


FAIL_CLOSED = """\
apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: v1
kind: Namespace
metadata: {name: db}
---
apiVersion: v1
kind: Pod
metadata: {name: front, namespace: web, labels: {app: front}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pg, namespace: db, labels: {app: pg}}
spec: {containers: [{name: c}]}
---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: future}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: db}}}
  ingress:
  - name: pass-sa
    action: Pass
    from:
    - serviceAccounts: {namespace: web, name: front}
    protocols: [{tcp: {destinationPort: {number: 1}}}]
"""


def test_a_peer_of_an_unknown_type_fails_closed_in_analyze_explain_and_lint(tmp_path: Path) -> None:
    path = tmp_path / "future.yaml"
    path.write_text(FAIL_CLOSED)
    res = run("analyze", path)
    assert res.returncode == 0, res.stderr
    # Nothing reaches pg, from inside or outside the cluster, on any port.
    assert res.stdout == (
        "0.0.0.0-255.255.255.255[External] => web/front[Pod] : All Connections\n"
        "db/pg[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
        "db/pg[Pod] => web/front[Pod] : All Connections\n"
        "web/front[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
    )
    res = run("explain", path, "--src", "web/front", "--dst", "db/pg", "--port", "5432")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == (
        '    denied (TCP 5432) by Admin tier ClusterNetworkPolicy future ingress rule #0 "pass-sa" (Deny) '
        "[fails closed: unknown peer field serviceAccounts]"
    )
    res = run("lint", path, "-o", "json")
    assert res.returncode == 0, res.stderr
    [finding] = [f for f in json.loads(res.stdout) if f["code"] == "cluster-policy-unknown-peer"]
    assert finding["object_name"] == "future"
    assert finding["message"].startswith("ingress rule #0 'pass-sa' (Pass): from[0] sets only serviceAccounts")
