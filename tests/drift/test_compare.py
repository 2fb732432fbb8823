"""Desired against live, per policy: missing, extra, changed -- and the cases that look
different but mean the same thing, which are never drift."""

from __future__ import annotations

import copy

import pytest

from policies.services.drift import DesiredPolicy, compare, semantically_equal

from .conftest import by_name, demo_policies, policy

BACKEND = {"matchLabels": {"tier": "backend"}}
FRONTEND = {"podSelector": {"matchLabels": {"tier": "frontend"}}}
MONITORING = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}


def key(obj):
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


def run(desired, live, **kwargs):
    diffs, in_sync = compare(
        {key(d): DesiredPolicy(d, f"test:{i}") for i, d in enumerate(desired)},
        {key(obj): obj for obj in live},
        **kwargs,
    )
    return {(d.kind, d.key) for d in diffs}, in_sync


# --- the same meaning, written differently: no drift ------------------------------------------------


def test_reordered_peers_and_ports_are_not_drift():
    desired = policy("shop", "web", {
        "podSelector": BACKEND,
        "ingress": [{"from": [FRONTEND, MONITORING], "ports": [{"port": 80}, {"protocol": "UDP", "port": 53}]}],
    })
    live = policy("shop", "web", {
        "podSelector": BACKEND,
        "ingress": [{"from": [MONITORING, FRONTEND], "ports": [{"protocol": "UDP", "port": 53}, {"port": 80}]}],
    })
    assert run([desired], [live]) == (set(), 1)


def test_reordered_rules_and_match_expression_values_are_not_drift():
    rule_a = {"from": [FRONTEND], "ports": [{"port": 80}]}
    rule_b = {"from": [{"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["b", "a"]}]}}]}
    desired = policy("shop", "web", {"podSelector": BACKEND, "ingress": [rule_a, rule_b]})
    rule_b_sorted = copy.deepcopy(rule_b)
    rule_b_sorted["from"][0]["podSelector"]["matchExpressions"][0]["values"] = ["a", "b"]
    live = policy("shop", "web", {"podSelector": BACKEND, "ingress": [rule_b_sorted, rule_a]})
    assert run([desired], [live]) == (set(), 1)


def test_policy_types_omitted_equals_the_api_servers_default():
    # The API server sets Ingress always, and Egress only when there are egress rules.
    ingress_only = {"podSelector": BACKEND, "ingress": [{"from": [FRONTEND]}]}
    both = {**ingress_only, "egress": [{"to": [FRONTEND]}]}
    assert run([policy("shop", "a", ingress_only)], [policy("shop", "a", {**ingress_only, "policyTypes": ["Ingress"]})])[0] == set()
    assert run([policy("shop", "b", both)], [policy("shop", "b", {**both, "policyTypes": ["Ingress", "Egress"]})])[0] == set()


def test_protocol_omitted_equals_tcp():
    desired = policy("shop", "web", {"podSelector": BACKEND, "ingress": [{"ports": [{"port": 8080}]}]})
    live = policy("shop", "web", {"podSelector": BACKEND, "policyTypes": ["Ingress"],
                                 "ingress": [{"ports": [{"protocol": "TCP", "port": 8080}]}]})
    assert run([desired], [live]) == (set(), 1)


def test_empty_from_equals_a_missing_from():
    desired = policy("shop", "web", {"podSelector": BACKEND, "ingress": [{"from": [], "ports": [{"port": 80}]}]})
    live = policy("shop", "web", {"podSelector": BACKEND, "ingress": [{"ports": [{"port": 80}]}]})
    assert run([desired], [live]) == (set(), 1)


def test_labels_annotations_and_server_fields_are_not_drift():
    desired = policy("shop", "web", {"podSelector": BACKEND})
    live = copy.deepcopy(desired)
    live["metadata"].update({
        "uid": "1234", "resourceVersion": "99", "generation": 3, "labels": {"owner": "someone"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
    })
    assert run([desired], [live]) == (set(), 1)


def test_every_demo_policy_equals_itself_as_the_api_server_stores_it():
    for doc in demo_policies():
        stored = copy.deepcopy(doc)
        spec = stored["spec"]
        spec.setdefault("policyTypes", ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                for port in rule.get("ports") or []:
                    port.setdefault("protocol", "TCP")
        assert semantically_equal(doc, stored), doc["metadata"]["name"]


# --- real differences ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "description"),
    [
        (lambda s: s["ingress"][0]["ports"][0].update(port=5433), "another port"),
        (lambda s: s["ingress"][0]["ports"][0].update(protocol="UDP"), "another protocol"),
        (lambda s: s["ingress"][0]["from"].append(MONITORING), "one more peer"),
        (lambda s: s["ingress"][0]["from"][0]["podSelector"]["matchLabels"].update(tier="frontend"), "another selector"),
        (lambda s: s.update(policyTypes=["Ingress", "Egress"]), "egress isolation added"),
        (lambda s: s["ingress"][0].pop("from"), "a rule opened to every source"),
        (lambda s: s["ingress"].append({}), "an allow-all rule"),
        (lambda s: s.update(ingress=[]), "every rule removed"),
    ],
)
def test_a_change_of_meaning_is_drift(change, description):
    desired = by_name(demo_policies(), "database-policy")
    live = copy.deepcopy(desired)
    change(live["spec"])
    assert run([desired], [live]) == ({("changed", "shop/database-policy")}, 0), description


def test_missing_extra_and_changed_are_told_apart():
    docs = demo_policies()
    desired = [d for d in docs if d["metadata"]["name"] != "allow-dns"]
    desired.append(policy("team-a", "deny-all", {"podSelector": {}}))
    live = copy.deepcopy(docs)
    by_name(live, "backend-policy")["spec"]["ingress"][0]["ports"][0]["port"] = 9090
    found, in_sync = run(desired, live)
    assert found == {
        ("missing", "team-a/deny-all"),
        ("extra", "shop/allow-dns"),
        ("changed", "shop/backend-policy"),
    }
    assert in_sync == len(docs) - 2


def test_a_policy_without_namespace_is_compared_as_default():
    desired = policy("default", "web", {"podSelector": {}})
    del desired["metadata"]["namespace"]
    live = policy("default", "web", {"podSelector": {}})
    diffs, in_sync = compare({"default/web": DesiredPolicy(desired, "x")}, {"default/web": live})
    assert (diffs, in_sync) == ([], 1)


def test_extra_policies_outside_the_scope_are_not_reported():
    live = [policy("shop", "a", {"podSelector": {}}), policy("payments", "b", {"podSelector": {}})]
    found, _ = run([], live, covers=lambda namespace: namespace == "shop")
    assert found == {("extra", "shop/a")}


def test_ignored_keys_are_neither_missing_nor_extra():
    live = [policy("shop", "broken-in-git", {"podSelector": {}})]
    assert run([], live, ignored={"shop/broken-in-git"}) == (set(), 0)


def test_differences_come_missing_then_changed_then_extra():
    desired = [policy("a", "missing", {"podSelector": {}}), policy("b", "changed", {"podSelector": {}})]
    live = [policy("b", "changed", {"podSelector": BACKEND}), policy("0", "extra", {"podSelector": {}})]
    diffs, _ = compare({key(d): DesiredPolicy(d, "") for d in desired}, {key(obj): obj for obj in live})
    assert [d.kind for d in diffs] == ["missing", "changed", "extra"]
    assert diffs[1].desired["spec"] == {"podSelector": {}}
    assert diffs[1].live["spec"] == {"podSelector": BACKEND}
