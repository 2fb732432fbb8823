"""Findings for isolation in name only: an isolated workload that still accepts the
whole internet, and a peer of `namespaceSelector: {}` that admits every pod."""

from __future__ import annotations

from policies.engine import build_cluster, findings

from .builders import labels_sel, netpol, pod


def codes_for(objs):
    return {(f.code, f.object_name): f for f in findings(build_cluster(objs))}


def test_rule_without_peers_opens_the_workload_to_the_internet_on_its_ports():
    found = codes_for(
        [
            pod("shop", "web", {"tier": "frontend"}),
            netpol(
                "shop",
                "public",
                podSelector=labels_sel(tier="frontend"),
                ingress=[{"ports": [{"protocol": "TCP", "port": 443}]}],
            ),
        ]
    )
    finding = found[("open-to-internet", "web")]
    assert finding.severity == "medium"
    assert "TCP 443" in finding.message
    assert "shop/public" in finding.message


def test_whole_address_space_ip_block_on_every_port_is_high():
    found = codes_for(
        [
            pod("shop", "db", {"tier": "database"}),
            netpol(
                "shop",
                "oops",
                podSelector=labels_sel(tier="database"),
                ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
            ),
        ]
    )
    assert found[("open-to-internet", "db")].severity == "high"


def test_ip_block_with_excepts_or_pod_peers_is_not_the_internet():
    found = codes_for(
        [
            pod("shop", "db", {"tier": "database"}),
            pod("shop", "api", {"tier": "backend"}),
            netpol(
                "shop",
                "narrow",
                podSelector=labels_sel(tier="database"),
                ingress=[
                    {
                        "from": [
                            {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}},
                            {"podSelector": labels_sel(tier="backend")},
                        ]
                    }
                ],
            ),
        ]
    )
    assert ("open-to-internet", "db") not in found


def test_namespace_selector_everything_in_one_peer_is_flagged():
    found = codes_for(
        [
            pod("shop", "db", {"tier": "database"}),
            netpol(
                "shop",
                "too-broad",
                podSelector=labels_sel(tier="database"),
                ingress=[{"from": [{"namespaceSelector": {}}]}],
            ),
        ]
    )
    assert (
        "every pod in every namespace" in found[("peer-allows-all-namespaces", "too-broad")].message
    )


def test_namespace_selector_everything_with_a_pod_selector_is_not_flagged():
    found = codes_for(
        [
            pod("shop", "db", {"tier": "database"}),
            netpol(
                "shop",
                "scoped",
                podSelector=labels_sel(tier="database"),
                ingress=[
                    {
                        "from": [
                            {"namespaceSelector": {}, "podSelector": labels_sel(app="prometheus")}
                        ]
                    }
                ],
            ),
        ]
    )
    assert ("peer-allows-all-namespaces", "scoped") not in found
