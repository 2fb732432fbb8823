"""explain, diff, findings, normalize/clean/dump, group_reachability and the Analyzer."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from policies.engine import (
    Analyzer,
    ConnSet,
    UnknownEndpoint,
    analyze,
    build_cluster,
    clean_policy,
    diff_reachability,
    dump_yaml,
    explain,
    findings,
    group_reachability,
    load_paths,
    normalize_policy,
)

from .builders import deployment, labels_sel, netpol, pod

THREE_TIER = Path(__file__).parent / "golden" / "three_tier" / "input"


def three_tier():  # type: ignore[no-untyped-def]
    return build_cluster(load_paths([THREE_TIER]))


# -- explain ------------------------------------------------------------------------------


def test_explain_allowed_names_every_allowing_rule_per_direction() -> None:
    ex = explain(three_tier(), "shop/backend", "shop/database", port=5432)
    assert ex.allowed
    assert [str(m) for m in ex.egress.matches] == [
        "shop/backend-policy egress rule #0 (peer #0; TCP 5432)"
    ]
    assert [str(m) for m in ex.ingress.matches] == [
        "shop/database-policy ingress rule #0 (peer #0; TCP 5432)"
    ]
    assert ex.egress.isolated
    assert ex.to_dict()["ingress"]["matches"][0]["rule_index"] == 0


def test_explain_denial_lists_isolating_policies_and_no_match() -> None:
    ex = explain(three_tier(), "shop/frontend", "shop/database", port=5432)
    assert not ex.allowed
    assert ex.ingress.policies == ("shop/database-policy", "shop/default-deny")
    assert "none of their ingress rules match" in ex.ingress.summary()
    assert "DENIED" in ex.render_text()


def test_explain_non_isolated_direction_says_so() -> None:
    ex = explain(three_tier(), "shop/frontend", "kube-system/coredns", port=53, protocol="UDP")
    assert ex.allowed
    assert not ex.ingress.isolated
    assert "not isolated for ingress" in ex.ingress.summary()


def test_explain_named_port_query_resolves_on_destination() -> None:
    ex = explain(three_tier(), "shop/frontend", "shop/backend", port="http")
    assert ex.allowed
    assert ex.conns == ConnSet.of("TCP", 8080)


def test_explain_external_address_source() -> None:
    ex = explain(three_tier(), "8.8.8.8", "kube-system/coredns")
    assert ex.allowed
    assert "outside the cluster" in ex.egress.summary()


def test_explain_unknown_endpoint_is_a_value_error_with_suggestions() -> None:
    with pytest.raises(UnknownEndpoint, match="did you mean"):
        explain(three_tier(), "shop/backnd", "shop/frontend")
    assert issubclass(UnknownEndpoint, ValueError)


def test_explain_every_connection_when_no_port_given() -> None:
    ex = explain(three_tier(), "shop/frontend", "kube-system/coredns")
    assert str(ex.conns) == "TCP 53,UDP 53"


# -- diff ---------------------------------------------------------------------------------


def test_diff_added_removed_changed() -> None:
    old_objs = [
        pod("a", "x", {"app": "x"}),
        pod("a", "y", {"app": "y"}),
        pod("a", "z", {"app": "z"}),
        netpol("a", "p", podSelector=labels_sel(app="y"), ingress=[{"ports": [{"port": 80}]}]),
    ]
    new_objs = copy.deepcopy(old_objs)
    new_objs[-1]["spec"]["ingress"][0]["ports"][0]["port"] = 81
    new_objs.append(
        netpol(
            "a",
            "q",
            podSelector=labels_sel(app="z"),
            ingress=[{"from": [{"podSelector": labels_sel(app="x")}]}],
        )
    )
    d = diff_reachability(analyze(build_cluster(old_objs)), analyze(build_cluster(new_objs)))
    assert [(c.src, c.dst, str(c.old_conns), str(c.new_conns)) for c in d.changed] == [
        ("0.0.0.0-255.255.255.255[External]", "a/y[Pod]", "TCP 80", "TCP 81"),
        ("a/x[Pod]", "a/y[Pod]", "TCP 80", "TCP 81"),
        ("a/z[Pod]", "a/y[Pod]", "TCP 80", "TCP 81"),
    ]
    assert {(c.src.key, c.dst.key) for c in d.removed} == {
        ("0.0.0.0-255.255.255.255[External]", "a/z[Pod]"),
        ("a/y[Pod]", "a/z[Pod]"),
    }
    assert d.added == []
    assert not d.is_empty
    assert d.to_dict()["counts"] == {"changed": 3, "added": 0, "removed": 2}
    assert d.to_dict()["diff"][0]["ref2"] == "TCP 81"
    assert d.render_text().splitlines()[0] == "Connectivity diff:"


def test_diff_of_identical_inputs_is_empty() -> None:
    r = analyze(three_tier())
    assert diff_reachability(r, r).is_empty


# -- findings -------------------------------------------------------------------------------


def test_findings_cover_the_review_checklist() -> None:
    objs = [
        pod("open", "x", {"app": "x"}),
        pod("shop", "web", {"app": "web"}),
        pod("shop", "agent", {"app": "agent"}, host_network=True),
        netpol(
            "shop",
            "egress-only",
            podSelector=labels_sel(app="web"),
            policy_types=["Egress"],
            egress=[
                {"to": [{"podSelector": labels_sel(app="ghost")}], "ports": [{"port": "nope"}]}
            ],
        ),
        netpol("shop", "nothing", podSelector=labels_sel(app="ghost")),
        netpol("shop", "agent", podSelector=labels_sel(app="agent")),
    ]
    codes = {(f.code, f.object_name) for f in findings(build_cluster(objs))}
    assert ("namespace-without-policy", "open") in codes
    assert ("ingress-not-isolated", "web") in codes
    assert ("egress-not-isolated", "agent") in codes
    assert ("policy-selects-nothing", "nothing") in codes
    assert ("peer-matches-nothing", "egress-only") in codes
    assert ("named-port-unresolved", "egress-only") in codes
    assert ("egress-without-dns", "web") in codes
    assert ("host-network-selected", "agent") in codes
    severities = [f.severity for f in findings(build_cluster(objs))]
    assert severities == sorted(severities, key={"high": 0, "medium": 1, "low": 2}.__getitem__)


def test_three_tier_has_dns_so_no_dns_finding() -> None:
    assert not [f for f in findings(three_tier()) if f.code == "egress-without-dns"]


# -- normalize, clean, dump -------------------------------------------------------------------


def test_normalize_applies_defaults_and_ignores_order() -> None:
    a = netpol(
        "a",
        "p",
        podSelector={"matchLabels": {}},
        ingress=[
            {
                "from": [
                    {"podSelector": labels_sel(x="1")},
                    {"namespaceSelector": {}, "podSelector": {}},
                ],
                "ports": [{"port": 80}, {"port": 443}],
            }
        ],
    )
    b = netpol(
        "a",
        "p",
        policy_types=["Ingress"],
        egress=[],
        ingress=[
            {
                "ports": [{"port": 443, "protocol": "TCP"}, {"port": 80}],
                "from": [{"namespaceSelector": {}}, {"podSelector": labels_sel(x="1")}],
            }
        ],
    )
    b["metadata"].update(uid="123", resourceVersion="9")
    assert normalize_policy(a) == normalize_policy(b)


def test_normalize_distinguishes_semantic_differences() -> None:
    base = netpol("a", "p", ingress=[{"ports": [{"port": 80}]}])
    assert normalize_policy(base) != normalize_policy(
        netpol("a", "p", ingress=[{"ports": [{"port": 81}]}])
    )
    assert normalize_policy(base) != normalize_policy(
        netpol("a", "p", ingress=[{"ports": [{"port": 80}]}], egress=[{}])
    )
    # egress: [] does not enable Egress; an explicit Egress type does.
    assert normalize_policy(netpol("a", "p", egress=[])) != normalize_policy(
        netpol("a", "p", policy_types=["Ingress", "Egress"])
    )


def test_clean_policy_strips_server_fields() -> None:
    obj = netpol("a", "p")
    obj["metadata"].update(
        uid="u",
        resourceVersion="1",
        generation=2,
        creationTimestamp="t",
        managedFields=[{}],
        labels={"team": "x"},
        annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}", "owner": "me"},
    )
    obj["status"] = {}
    assert clean_policy(obj) == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "p",
            "namespace": "a",
            "labels": {"team": "x"},
            "annotations": {"owner": "me"},
        },
        "spec": {"podSelector": {}},
    }


def test_dump_yaml_uses_canonical_field_order_and_round_trips() -> None:
    obj = {
        "spec": {
            "ingress": [
                {
                    "ports": [{"port": 80, "protocol": "TCP"}],
                    "from": [{"ipBlock": {"except": ["10.1.0.0/16"], "cidr": "10.0.0.0/8"}}],
                }
            ],
            "policyTypes": ["Ingress"],
            "podSelector": {},
        },
        "metadata": {"namespace": "a", "name": "p"},
        "kind": "NetworkPolicy",
        "apiVersion": "networking.k8s.io/v1",
    }
    text = dump_yaml([obj, obj])
    assert text.startswith(
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: a\nspec:\n  podSelector: {}\n  policyTypes:"
    )
    assert text.index("from:") < text.index("ports:")
    assert text.index("cidr:") < text.index("except:")
    assert text.index("protocol: TCP") < text.index("port: 80")
    assert list(yaml.safe_load_all(text)) == [obj, obj]


# -- grouping, analyzer -----------------------------------------------------------------------


def test_group_reachability_unions_members_and_keeps_group_self_pairs() -> None:
    reach = analyze(three_tier())
    by_ns = group_reachability(reach, lambda e: e.namespace or "external")
    pairs = {(c.src.key, c.dst.key): str(c.conns) for c in by_ns.connections}
    assert pairs[("shop", "kube-system")] == "TCP 53,UDP 53"
    assert pairs[("shop", "shop")] == "TCP 5432,8080"
    shop = next(n for n in by_ns.nodes if n.key == "shop")
    assert shop.kind == "Group"
    assert shop.ingress_isolated


def test_analyzer_replace_and_remove_policy_match_fresh_analysis() -> None:
    analyzer = Analyzer(three_tier())
    analyzer.analyze().connections  # noqa: B018
    widened = netpol(
        "shop",
        "database-policy",
        podSelector=labels_sel(tier="database"),
        policy_types=["Ingress"],
        ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": 5432}]}],
    )
    derived = analyzer.replace_policy(widened)
    assert (
        str(
            derived.analyze().conns_between(
                "shop/frontend[Deployment]", "shop/database[StatefulSet]"
            )
        )
        == "No Connections"
    )
    removed = derived.remove_policy("shop", "default-deny")
    fresh = analyze(removed.cluster)
    assert [(c.src.key, c.dst.key, c.conns) for c in removed.analyze().connections] == [
        (c.src.key, c.dst.key, c.conns) for c in fresh.connections
    ]
    with pytest.raises(ValueError, match="endPort"):
        analyzer.replace_policy(
            netpol("shop", "bad", ingress=[{"ports": [{"port": 9, "endPort": 1}]}])
        )


def test_cluster_queries() -> None:
    cluster = build_cluster(
        [
            deployment("a", "web", {"app": "web"}),
            netpol("a", "p", podSelector=labels_sel(app="web")),
        ]
    )
    assert cluster.policies_selecting("a", "web") == ["a/p"]
    assert [p.name for p in cluster.pods_selected_by("a/p")] == ["web"]
    iso = cluster.isolation(cluster.pods[0])
    assert iso.ingress
    assert not iso.egress
