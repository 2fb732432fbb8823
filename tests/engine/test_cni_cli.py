"""`netpolui analyze|explain|lint` with CNI policies in the manifests (golden outputs in
tests/engine/golden/calico_tiers and cilium_deny, also checked by test_golden.py)."""

from __future__ import annotations

import json

from .test_cli import GOLDEN, run

CALICO = GOLDEN / "calico_tiers" / "input"
CILIUM = GOLDEN / "cilium_deny" / "input"


def test_analyze_detects_the_cni_from_its_objects() -> None:
    res = run("analyze", CALICO)
    assert res.returncode == 0
    assert res.stdout == (GOLDEN / "calico_tiers" / "expected.txt").read_text()
    assert "policies enforced by CNI calico (only calico policy objects present)" in res.stderr


def test_analyze_with_another_cni_lists_but_does_not_apply() -> None:
    res = run("analyze", CALICO, "--cni", "none")
    assert res.returncode == 0
    assert "shop/web[Deployment] => shop/api[Deployment] : All Connections" in res.stdout
    assert "2 CNI policies of another CNI listed, not applied" in res.stderr


def test_explain_names_the_cni_rule() -> None:
    res = run("explain", CALICO, "--src", "ops/monitor", "--dst", "shop/db", "--port", "5432")
    assert res.returncode == 0, res.stderr
    assert "DENIED" in res.stdout
    assert (
        "denied (TCP 5432) by security tier calico:GlobalNetworkPolicy:security.quarantine "
        "ingress rule #0 (Deny)" in res.stdout
    )
    res = run("explain", CILIUM, "--src", "app/client", "--dst", "app/server", "--port", "81", "-o", "json")
    data = json.loads(res.stdout)
    assert data["allowed"] is True
    assert data["egress"]["tier_matches"][0]["policy"] == "cilium:CiliumNetworkPolicy:app/client-egress"
    assert data["ingress"]["tier_matches"] == []  # the deny names TCP 80 only; the v1 policy allows


def test_lint_reports_cni_findings_as_json() -> None:
    res = run("lint", CALICO, "--cni", "cilium", "-o", "json")
    assert res.returncode == 0
    codes = {f["code"] for f in json.loads(res.stdout)}
    assert "cni-policy-not-enforced" in codes


def test_unknown_cni_is_a_clear_error() -> None:
    res = run("analyze", CALICO, "--cni", "weave")
    assert res.returncode != 0
    assert "invalid choice: 'weave'" in res.stderr
    assert "Traceback" not in res.stderr


def test_invalid_cni_policy_is_named_with_file_and_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: projectcalico.org/v3\n"
        "kind: GlobalNetworkPolicy\n"
        "metadata: {name: broken}\n"
        "spec:\n"
        "  selector: app == 'db\n"
        "  ingress: [{action: Deny}]\n"
    )
    res = run("analyze", CALICO, bad)
    assert res.returncode == 0
    assert (
        f"{bad}:5: calico:GlobalNetworkPolicy:broken: spec.selector unterminated string at position 7 "
        "of \"app == 'db\"; the policy is left out"
    ) in res.stderr, res.stderr
    assert res.stdout == (GOLDEN / "calico_tiers" / "expected.txt").read_text()


def test_json_list_input_reads_cni_objects(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A `kubectl get -o json` List (the JSON reader) carries CNI objects too."""
    import yaml

    docs = list(yaml.safe_load_all((CILIUM / "all.yaml").read_text()))
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    res = run("analyze", dump)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (GOLDEN / "cilium_deny" / "expected.txt").read_text()
