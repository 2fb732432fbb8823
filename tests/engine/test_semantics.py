"""One test per rule and pitfall of docs/semantics.md (networking.k8s.io/v1)."""

from __future__ import annotations

from typing import Any

from policies.engine import ConnSet, analyze, build_cluster, explain

from .builders import deployment, labels_sel, namespace, netpol, pod

ALL = "All Connections"


def conns(
    objs: list[dict[str, Any]],
    src: str,
    dst: str,
    *,
    level: str = "workload",
    direction: str = "combined",
) -> str:
    reach = analyze(build_cluster(objs), level=level, direction=direction)  # type: ignore[arg-type]
    return str(reach.conns_between(src, dst))


def two_pods(ns: str = "shop") -> list[dict[str, Any]]:
    return [
        pod(ns, "web", {"app": "web"}, ports=[("http", "TCP", 8080)]),
        pod(ns, "db", {"app": "db"}, ports=[("pg", "TCP", 5432)]),
    ]


WEB, DB = "shop/web[Pod]", "shop/db[Pod]"


# -- pods and namespaces ----------------------------------------------------------------


def test_every_namespace_gets_the_metadata_name_label_even_without_namespace_object() -> None:
    objs = [
        *two_pods(),
        pod("other", "client", {"app": "client"}),
        netpol(
            "shop",
            "from-other",
            policy_types=["Ingress"],
            ingress=[
                {
                    "from": [
                        {
                            "namespaceSelector": labels_sel(
                                **{"kubernetes.io/metadata.name": "other"}
                            )
                        }
                    ]
                }
            ],
        ),
    ]
    cluster = build_cluster(objs)
    assert cluster.namespaces["other"]["kubernetes.io/metadata.name"] == "other"
    assert conns(objs, "other/client[Pod]", WEB) == ALL
    assert conns(objs, DB, WEB) == "No Connections"


def test_namespace_object_keeps_its_labels_and_gains_the_name_label() -> None:
    cluster = build_cluster([namespace("shop", team="a"), *two_pods()])
    assert dict(cluster.namespaces["shop"]) == {"team": "a", "kubernetes.io/metadata.name": "shop"}


def test_object_without_namespace_lives_in_default() -> None:
    p = pod("x", "lonely", {"a": "b"})
    del p["metadata"]["namespace"]
    cluster = build_cluster([p])
    assert cluster.pods[0].namespace == "default"
    assert cluster.workloads[0].key == "default/lonely[Pod]"


def test_workload_without_pods_stands_for_pods_with_template_labels_and_ports() -> None:
    objs = [
        deployment("shop", "api", {"app": "api"}, ports=[("http", "TCP", 8080)]),
        deployment("shop", "job", {"app": "job"}, kind="CronJob"),
        netpol(
            "shop",
            "api",
            podSelector=labels_sel(app="api"),
            ingress=[{"ports": [{"port": "http"}]}],
        ),
    ]
    assert conns(objs, "shop/job[CronJob]", "shop/api[Deployment]") == "TCP 8080"


def test_host_network_pods_are_listed_and_marked() -> None:
    objs = [pod("shop", "node-agent", {"app": "agent"}, host_network=True), *two_pods()]
    reach = analyze(build_cluster(objs))
    agent = reach.node("shop/node-agent[Pod]")
    assert agent is not None
    assert agent.host_network
    assert reach.conns_between("shop/node-agent[Pod]", WEB).is_all


def test_explain_never_claims_a_policy_protects_a_host_network_pod() -> None:
    objs = [
        pod("shop", "node-agent", {"app": "agent"}, host_network=True),
        *two_pods(),
        netpol("shop", "deny", policy_types=["Ingress"]),
    ]
    result = explain(build_cluster(objs), WEB, "shop/node-agent[Pod]")
    assert any("hostNetwork" in n and "CNI" in n for n in result.notes)


# -- isolation -----------------------------------------------------------------------------


def test_pod_not_selected_by_any_policy_allows_everything() -> None:
    objs = [*two_pods(), netpol("shop", "db-only", podSelector=labels_sel(app="db"))]
    assert conns(objs, DB, WEB) == ALL


def test_empty_pod_selector_selects_every_pod_in_its_namespace_only() -> None:
    objs = [*two_pods(), pod("other", "x", {"app": "web"}), netpol("shop", "deny-all")]
    assert conns(objs, DB, WEB) == "No Connections"
    assert conns(objs, WEB, "other/x[Pod]") == ALL


def test_isolation_is_per_direction() -> None:
    objs = [*two_pods(), netpol("shop", "deny-egress", policy_types=["Egress"])]
    assert conns(objs, "shop/web[Pod]", DB) == "No Connections"
    assert conns(objs, WEB, DB, direction="ingress") == ALL
    assert conns(objs, WEB, DB, direction="egress") == "No Connections"


def test_policy_types_absent_means_ingress_only_without_egress_rules() -> None:
    objs = [*two_pods(), pod("other", "x", {}), netpol("shop", "p", ingress=[])]
    assert conns(objs, WEB, "other/x[Pod]") == ALL  # egress untouched
    assert conns(objs, "other/x[Pod]", WEB) == "No Connections"


def test_policy_types_absent_with_egress_rules_isolates_egress_too() -> None:
    objs = [
        *two_pods(),
        pod("other", "x", {}),
        netpol("shop", "p", egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}]),
    ]
    assert conns(objs, WEB, "other/x[Pod]") == "UDP 53"
    assert conns(objs, "other/x[Pod]", WEB) == "No Connections"


def test_empty_egress_list_does_not_turn_egress_isolation_on() -> None:
    objs = [*two_pods(), pod("other", "x", {}), netpol("shop", "p", egress=[])]
    assert conns(objs, WEB, "other/x[Pod]") == ALL
    assert conns(objs, "other/x[Pod]", WEB) == "No Connections"  # still Ingress


def test_empty_policy_types_list_is_defaulted_like_a_missing_one() -> None:
    objs = [*two_pods(), pod("other", "x", {}), netpol("shop", "p", policy_types=[], egress=[])]
    assert conns(objs, WEB, "other/x[Pod]") == ALL
    assert conns(objs, "other/x[Pod]", WEB) == "No Connections"


def test_explicit_policy_types_win_and_rules_of_unlisted_directions_are_ignored() -> None:
    objs = [*two_pods(), netpol("shop", "p", policy_types=["Egress"], ingress=[], egress=[{}])]
    assert conns(objs, DB, WEB) == ALL  # the empty ingress list does not isolate


def test_policies_are_additive() -> None:
    objs = [
        *two_pods(),
        netpol(
            "shop", "a", podSelector=labels_sel(app="db"), ingress=[{"ports": [{"port": 5432}]}]
        ),
        netpol(
            "shop",
            "b",
            podSelector=labels_sel(app="db"),
            ingress=[{"ports": [{"port": 5433, "protocol": "UDP"}]}],
        ),
    ]
    assert conns(objs, WEB, DB) == "TCP 5432,UDP 5433"


def test_connection_needs_egress_of_source_and_ingress_of_destination() -> None:
    objs = [
        *two_pods(),
        netpol(
            "shop",
            "web-egress",
            podSelector=labels_sel(app="web"),
            policy_types=["Egress"],
            egress=[{"ports": [{"port": 5432}, {"port": 6000}]}],
        ),
        netpol(
            "shop",
            "db-ingress",
            podSelector=labels_sel(app="db"),
            ingress=[{"ports": [{"port": 5432}, {"port": 7000}]}],
        ),
    ]
    assert conns(objs, WEB, DB) == "TCP 5432"


# -- rules and peers --------------------------------------------------------------------------


def test_missing_ingress_list_under_ingress_isolation_denies_all_ingress() -> None:
    objs = [
        *two_pods(),
        netpol("shop", "p", podSelector=labels_sel(app="db"), policy_types=["Ingress"]),
    ]
    assert conns(objs, WEB, DB) == "No Connections"


def test_rule_list_with_one_empty_rule_allows_all() -> None:
    objs = [*two_pods(), netpol("shop", "p", ingress=[{}], egress=[{}])]
    assert conns(objs, WEB, DB) == ALL


def test_empty_from_list_means_every_source_including_addresses() -> None:
    objs = [
        *two_pods(),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[{"from": [], "ports": [{"port": 5432}]}],
        ),
    ]
    reach = analyze(build_cluster(objs))
    assert str(reach.conns_between(WEB, DB)) == "TCP 5432"
    assert str(reach.conns_between("0.0.0.0-255.255.255.255[External]", DB)) == "TCP 5432"


def test_empty_ports_list_means_every_port_and_protocol() -> None:
    objs = [
        *two_pods(),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[{"from": [{"podSelector": {}}], "ports": []}],
        ),
    ]
    assert conns(objs, WEB, DB) == ALL


def test_pod_selector_peer_alone_means_pods_of_the_policy_namespace() -> None:
    objs = [
        *two_pods(),
        pod("other", "web", {"app": "web"}),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[{"from": [{"podSelector": labels_sel(app="web")}]}],
        ),
    ]
    assert conns(objs, WEB, DB) == ALL
    assert conns(objs, "other/web[Pod]", DB) == "No Connections"


def test_namespace_selector_peer_alone_means_all_pods_of_matching_namespaces() -> None:
    objs = [
        *two_pods(),
        namespace("other", team="x"),
        pod("other", "a", {"app": "a"}),
        pod("third", "b", {"app": "b"}),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[{"from": [{"namespaceSelector": labels_sel(team="x")}]}],
        ),
    ]
    assert conns(objs, "other/a[Pod]", DB) == ALL
    assert conns(objs, "third/b[Pod]", DB) == "No Connections"
    assert conns(objs, WEB, DB) == "No Connections"


def test_both_selectors_in_one_peer_are_an_and() -> None:
    objs = [
        *two_pods(),
        namespace("other", team="x"),
        pod("other", "web", {"app": "web"}),
        pod("other", "api", {"app": "api"}),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[
                {
                    "from": [
                        {
                            "namespaceSelector": labels_sel(team="x"),
                            "podSelector": labels_sel(app="web"),
                        }
                    ]
                }
            ],
        ),
    ]
    assert conns(objs, "other/web[Pod]", DB) == ALL
    assert conns(objs, "other/api[Pod]", DB) == "No Connections"
    assert conns(objs, WEB, DB) == "No Connections"


def test_two_separate_peers_are_an_or() -> None:
    objs = [
        *two_pods(),
        namespace("other", team="x"),
        pod("other", "api", {"app": "api"}),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[
                {
                    "from": [
                        {"namespaceSelector": labels_sel(team="x")},
                        {"podSelector": labels_sel(app="web")},
                    ]
                }
            ],
        ),
    ]
    assert conns(objs, "other/api[Pod]", DB) == ALL
    assert conns(objs, WEB, DB) == ALL


def test_empty_selectors_select_all() -> None:
    objs = [
        *two_pods(),
        pod("other", "x", {}),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[{"from": [{"namespaceSelector": {}, "podSelector": {}}]}],
        ),
    ]
    assert conns(objs, "other/x[Pod]", DB) == ALL


def _ipblock_objs(direction: str, block: dict[str, Any]) -> list[dict[str, Any]]:
    rule_key = "from" if direction == "ingress" else "to"
    return [
        *two_pods(),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            policy_types=[direction.capitalize()],
            **{direction: [{rule_key: [{"ipBlock": block}]}]},
        ),
    ]


def test_ipblock_except_removes_ranges_for_ipv4() -> None:
    reach = analyze(
        build_cluster(_ipblock_objs("ingress", {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}))
    )
    listed = {c.src.key for c in reach.connections if c.dst.key == DB}
    assert listed == {"10.0.0.0-10.0.255.255[External]", "10.2.0.0-10.255.255.255[External]"}


def test_ipblock_except_removes_ranges_for_ipv6() -> None:
    objs = _ipblock_objs("egress", {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]})
    reach = analyze(build_cluster(objs))
    listed = {c.dst.key for c in reach.connections if c.src.key == DB}
    assert listed == {
        "2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff[External]",
        "2001:db8:2::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff[External]",
    }
    cluster = build_cluster(objs)
    assert explain(cluster, DB, "2001:db8:5::1").allowed
    assert not explain(cluster, DB, "2001:db8:1::1").allowed


def test_ipblocks_never_match_pod_ips() -> None:
    objs = [
        pod("shop", "web", {"app": "web"}, ip="10.0.0.5"),
        pod("shop", "db", {"app": "db"}, ip="10.0.0.6"),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
        ),
    ]
    assert conns(objs, WEB, DB) == "No Connections"
    assert not explain(build_cluster(objs), "10.0.0.5", DB).allowed  # the IP is the pod's


def test_without_ipblocks_the_outside_is_one_range() -> None:
    reach = analyze(build_cluster(two_pods()))
    assert [n.key for n in reach.nodes if n.is_external] == ["0.0.0.0-255.255.255.255[External]"]


def test_match_expressions_in_and_not_in() -> None:
    objs = [
        pod("shop", "a", {"tier": "web"}),
        pod("shop", "b", {"tier": "db"}),
        pod("shop", "c", {}),
        pod("shop", "t", {"app": "t"}),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="t"),
            ingress=[
                {
                    "from": [
                        {
                            "podSelector": {
                                "matchExpressions": [
                                    {"key": "tier", "operator": "NotIn", "values": ["db"]}
                                ]
                            }
                        }
                    ]
                }
            ],
        ),
    ]
    assert conns(objs, "shop/a[Pod]", "shop/t[Pod]") == ALL
    assert conns(objs, "shop/b[Pod]", "shop/t[Pod]") == "No Connections"
    assert conns(objs, "shop/c[Pod]", "shop/t[Pod]") == ALL  # NotIn matches pods lacking the key


def test_match_expressions_exists_and_does_not_exist() -> None:
    objs = [
        pod("shop", "a", {"tier": "web"}),
        pod("shop", "c", {}),
        pod("shop", "t", {"app": "t"}),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="t"),
            ingress=[
                {
                    "from": [
                        {
                            "podSelector": {
                                "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]
                            }
                        }
                    ]
                }
            ],
        ),
    ]
    assert conns(objs, "shop/a[Pod]", "shop/t[Pod]") == "No Connections"
    assert conns(objs, "shop/c[Pod]", "shop/t[Pod]") == ALL
    objs[-1]["spec"]["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["operator"] = (
        "Exists"
    )
    assert conns(objs, "shop/a[Pod]", "shop/t[Pod]") == ALL
    assert conns(objs, "shop/c[Pod]", "shop/t[Pod]") == "No Connections"


def test_match_labels_and_match_expressions_are_an_and() -> None:
    objs = [
        pod("shop", "a", {"app": "x", "tier": "web"}),
        pod("shop", "b", {"app": "x", "tier": "db"}),
        pod("shop", "t", {"app": "t"}),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="t"),
            ingress=[
                {
                    "from": [
                        {
                            "podSelector": {
                                "matchLabels": {"app": "x"},
                                "matchExpressions": [
                                    {"key": "tier", "operator": "In", "values": ["web"]}
                                ],
                            }
                        }
                    ]
                }
            ],
        ),
    ]
    assert conns(objs, "shop/a[Pod]", "shop/t[Pod]") == ALL
    assert conns(objs, "shop/b[Pod]", "shop/t[Pod]") == "No Connections"


# -- ports ---------------------------------------------------------------------------------


def test_protocol_defaults_to_tcp() -> None:
    objs = [
        *two_pods(),
        netpol(
            "shop", "p", podSelector=labels_sel(app="db"), ingress=[{"ports": [{"port": 5432}]}]
        ),
    ]
    assert conns(objs, WEB, DB) == "TCP 5432"


def test_protocol_without_port_allows_every_port_of_that_protocol() -> None:
    objs = [
        *two_pods(),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[{"ports": [{"protocol": "UDP"}]}],
        ),
    ]
    assert conns(objs, WEB, DB) == "UDP 1-65535"


def test_sctp_is_a_protocol_of_its_own() -> None:
    objs = [
        *two_pods(),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[
                {
                    "ports": [
                        {"protocol": "SCTP", "port": 9003},
                        {"port": 80},
                        {"port": 8080, "endPort": 8090},
                        {"protocol": "UDP", "port": 53},
                    ]
                }
            ],
        ),
    ]
    assert conns(objs, WEB, DB) == "SCTP 9003,TCP 80,8080-8090,UDP 53"


def test_end_port_makes_a_range() -> None:
    objs = [
        *two_pods(),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[{"ports": [{"port": 5000, "endPort": 5010}]}],
        ),
    ]
    assert conns(objs, WEB, DB) == "TCP 5000-5010"


def test_all_three_protocols_on_every_port_print_as_all_connections() -> None:
    full = [{"protocol": p, "port": 1, "endPort": 65535} for p in ("TCP", "UDP", "SCTP")]
    objs = [
        *two_pods(),
        netpol("shop", "p", podSelector=labels_sel(app="db"), ingress=[{"ports": full}]),
    ]
    assert conns(objs, WEB, DB) == ALL


def test_named_port_resolves_on_destination_pod() -> None:
    objs = [
        pod("shop", "web", {"app": "web"}, ports=[("http", "TCP", 8080)]),
        pod("shop", "db", {"role": "srv"}, ports=[("http", "TCP", 9000)]),
        pod("shop", "db2", {"role": "srv"}, ports=[("http", "TCP", 9100)]),
        netpol(
            "shop", "p", podSelector=labels_sel(role="srv"), ingress=[{"ports": [{"port": "http"}]}]
        ),
    ]
    assert conns(objs, WEB, DB) == "TCP 9000"
    assert conns(objs, WEB, "shop/db2[Pod]") == "TCP 9100"


def test_named_port_needs_the_same_protocol_on_the_destination() -> None:
    objs = [
        pod("shop", "web", {"app": "web"}),
        pod("shop", "dns", {"app": "dns"}, ports=[("dns", "UDP", 53)]),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="dns"),
            ingress=[{"ports": [{"port": "dns"}, {"port": "dns", "protocol": "UDP"}]}],
        ),
    ]
    assert conns(objs, WEB, "shop/dns[Pod]") == "UDP 53"


def test_pod_without_the_named_port_is_not_reachable_through_that_rule_but_others_apply() -> None:
    objs = [
        pod("shop", "web", {"app": "web"}),
        pod("shop", "db", {"app": "db"}),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="db"),
            ingress=[{"ports": [{"port": "http"}]}, {"ports": [{"port": 22}]}],
        ),
    ]
    assert conns(objs, WEB, DB) == "TCP 22"


def test_named_port_in_egress_resolves_on_the_destination_not_the_source() -> None:
    objs = [
        pod("shop", "web", {"app": "web"}, ports=[("http", "TCP", 8080)]),
        pod("shop", "db", {"app": "db"}, ports=[("http", "TCP", 5432)]),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="web"),
            policy_types=["Egress"],
            egress=[{"ports": [{"port": "http"}]}],
        ),
    ]
    assert conns(objs, WEB, DB) == "TCP 5432"


def test_named_port_to_an_ipblock_matches_nothing() -> None:
    objs = [
        *two_pods(),
        netpol(
            "shop",
            "p",
            podSelector=labels_sel(app="web"),
            policy_types=["Egress"],
            egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": "http"}]}],
        ),
    ]
    reach = analyze(build_cluster(objs))
    assert not any(c.src.key == WEB and c.dst.is_external for c in reach.connections)


def test_replies_need_no_rule() -> None:
    # Only web -> db is allowed; the reply db -> web is not a new connection.
    objs = [
        *two_pods(),
        netpol("shop", "deny", policy_types=["Ingress", "Egress"]),
        netpol(
            "shop",
            "out",
            podSelector=labels_sel(app="web"),
            policy_types=["Egress"],
            egress=[{"to": [{"podSelector": labels_sel(app="db")}]}],
        ),
        netpol(
            "shop",
            "in",
            podSelector=labels_sel(app="db"),
            ingress=[{"from": [{"podSelector": labels_sel(app="web")}]}],
        ),
    ]
    assert conns(objs, WEB, DB) == ALL
    assert conns(objs, DB, WEB) == "No Connections"


def test_connset_text_and_json_round_trip() -> None:
    c = ConnSet({"TCP": [(80, 80), (8080, 8090)], "UDP": [(53, 53)]})
    assert str(c) == "TCP 80,8080-8090,UDP 53"
    assert ConnSet.from_json(c.to_json()) == c
    assert ConnSet.all().to_json() == "all"
    assert str(ConnSet.none()) == "No Connections"
