"""NetworkPolicy validation mirrors the API server, with sentences naming object and field."""

from __future__ import annotations

from typing import Any

import pytest

from policies.engine import FieldError, build_cluster, validate_network_policy
from policies.engine.manifests import ManifestError

from .builders import netpol


def errors(**spec: Any) -> list[str]:
    return [str(e) for e in validate_network_policy(netpol("team-a", "web", **spec))]


def one_port(**port: Any) -> list[str]:
    return errors(ingress=[{"ports": [{"port": 80}, port]}])


def test_valid_policy_has_no_errors() -> None:
    assert (
        errors(
            ingress=[
                {
                    "from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                    "ports": [{"port": 80, "endPort": 90}, {"port": "http", "protocol": "UDP"}],
                }
            ]
        )
        == []
    )


def test_end_port_below_port_is_reported_as_a_sentence() -> None:
    assert one_port(port=80, endPort=70) == [
        "NetworkPolicy team-a/web: spec.ingress[0].ports[1].endPort 70 is below port 80"
    ]


def test_field_error_carries_path_and_message() -> None:
    (err,) = validate_network_policy(
        netpol("team-a", "web", ingress=[{"ports": [{"port": 80, "endPort": 70}]}])
    )
    assert isinstance(err, FieldError)
    assert err.path == "spec.ingress[0].ports[0].endPort"
    assert err.message == "70 is below port 80"


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_out_of_range(port: int) -> None:
    assert one_port(port=port) == [
        f"NetworkPolicy team-a/web: spec.ingress[0].ports[1].port {port} must be between 1 and 65535"
    ]


def test_end_port_with_named_port() -> None:
    assert one_port(port="http", endPort=90) == [
        'NetworkPolicy team-a/web: spec.ingress[0].ports[1].endPort may not be set when port is the named port "http"'
    ]


def test_end_port_without_port() -> None:
    assert one_port(endPort=90) == [
        "NetworkPolicy team-a/web: spec.ingress[0].ports[1].endPort may not be set when port is not set"
    ]


def test_end_port_above_65535() -> None:
    assert "must be between 1 and 65535" in one_port(port=80, endPort=70000)[0]


@pytest.mark.parametrize(
    "name", ["", "a" * 16, "HTTP", "8080", "-http", "http-", "ht--tp", "ht_tp"]
)
def test_invalid_port_names(name: str) -> None:
    (msg,) = one_port(port=name)
    assert "is not a valid port name" in msg or (name == "" and "not a valid port name" in msg)


@pytest.mark.parametrize("name", ["http", "h2c", "a-b-c", "x" * 15])
def test_valid_port_names(name: str) -> None:
    assert one_port(port=name) == []


def test_unknown_protocol() -> None:
    assert one_port(protocol="ICMP", port=1) == [
        'NetworkPolicy team-a/web: spec.ingress[0].ports[1].protocol "ICMP" is not supported: use TCP, UDP or SCTP'
    ]


def test_invalid_cidr() -> None:
    (msg,) = errors(egress=[{"to": [{"ipBlock": {"cidr": "10.0.0/8"}}]}])
    assert msg.startswith(
        'NetworkPolicy team-a/web: spec.egress[0].to[0].ipBlock.cidr "10.0.0/8" is not a valid CIDR'
    )


def test_except_outside_cidr() -> None:
    assert errors(
        egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}}]}]
    ) == [
        'NetworkPolicy team-a/web: spec.egress[0].to[0].ipBlock.except[0] "10.1.0.0/24" must be strictly inside cidr "10.0.0.0/16"'
    ]


def test_except_equal_to_cidr_is_not_strictly_inside() -> None:
    assert (
        "strictly inside"
        in errors(
            egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}}]}]
        )[0]
    )


def test_except_of_the_other_ip_family() -> None:
    assert errors(
        ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["2001:db8::/64"]}}]}]
    ) == [
        'NetworkPolicy team-a/web: spec.ingress[0].from[0].ipBlock.except[0] "2001:db8::/64" is IPv6 but cidr "10.0.0.0/8" is IPv4'
    ]


def test_ipv6_except_inside_ipv6_cidr_is_valid() -> None:
    assert (
        errors(
            ingress=[
                {"from": [{"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]}}]}
            ]
        )
        == []
    )


def test_ipblock_combined_with_selector() -> None:
    assert (
        "may not combine ipBlock"
        in errors(ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}])[0]
    )


def test_empty_peer() -> None:
    assert (
        "must specify podSelector, namespaceSelector or ipBlock"
        in errors(ingress=[{"from": [{}]}])[0]
    )


def test_bad_selector_operator() -> None:
    (msg,) = errors(
        podSelector={"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}
    )
    assert msg == (
        'NetworkPolicy team-a/web: spec.podSelector.matchExpressions[0].operator "Equals" is not a valid '
        "operator: use In, NotIn, Exists or DoesNotExist"
    )


@pytest.mark.parametrize("op", ["In", "NotIn"])
def test_in_and_not_in_need_values(op: str) -> None:
    assert errors(
        podSelector={"matchExpressions": [{"key": "a", "operator": op, "values": []}]}
    ) == [
        f"NetworkPolicy team-a/web: spec.podSelector.matchExpressions[0].values must be non-empty when operator is {op}"
    ]


@pytest.mark.parametrize("op", ["Exists", "DoesNotExist"])
def test_exists_and_does_not_exist_take_no_values(op: str) -> None:
    assert errors(
        podSelector={"matchExpressions": [{"key": "a", "operator": op, "values": ["x"]}]}
    ) == [
        f"NetworkPolicy team-a/web: spec.podSelector.matchExpressions[0].values must be empty when operator is {op}"
    ]


@pytest.mark.parametrize("key", ["-a", "a b", "example.com/", "/a", "Bad_Prefix.com/a", "a" * 64])
def test_invalid_label_keys(key: str) -> None:
    assert "key" in errors(podSelector={"matchLabels": {key: "v"}})[0]


@pytest.mark.parametrize("key", ["app", "app.kubernetes.io/name", "a_b.c-d", "x" * 63])
def test_valid_label_keys(key: str) -> None:
    assert errors(podSelector={"matchLabels": {key: "v"}}) == []


@pytest.mark.parametrize("value", ["-x", "x" * 64, "a b"])
def test_invalid_label_values(value: str) -> None:
    assert "value" in errors(podSelector={"matchLabels": {"app": value}})[0]


def test_non_string_label_value_needs_quotes() -> None:
    assert "quote it in YAML" in errors(podSelector={"matchLabels": {"version": 1.0}})[0]


def test_invalid_policy_types() -> None:
    assert errors(policy_types=["Ingress", "ingress"]) == [
        'NetworkPolicy team-a/web: spec.policyTypes[1] "ingress" is not a policy type: use Ingress or Egress'
    ]


def test_invalid_names() -> None:
    obj = netpol("Team_A", "Web!", ingress=[])
    msgs = [str(e) for e in validate_network_policy(obj)]
    assert any("metadata.name" in m for m in msgs)
    assert any("metadata.namespace" in m for m in msgs)


def test_missing_pod_selector() -> None:
    obj = netpol("a", "b")
    del obj["spec"]["podSelector"]
    assert "spec.podSelector is required" in str(validate_network_policy(obj)[0])


def test_malformed_shapes_give_errors_not_exceptions() -> None:
    assert errors(ingress="everything") == [
        "NetworkPolicy team-a/web: spec.ingress must be a list of rules"
    ]
    assert "is not a field of an ingress rule" in errors(ingress=[{"to": []}])[0]
    assert errors(ingress=[{"ports": [{"port": True}]}]) != []


def test_build_cluster_strict_raises_every_error() -> None:
    bad = [
        netpol("a", "p1", ingress=[{"ports": [{"port": 0}]}]),
        netpol("a", "p2", policy_types=["Sideways"]),
    ]
    with pytest.raises(ManifestError) as info:
        build_cluster(bad)
    assert len(info.value.errors) == 2


def test_build_cluster_lenient_keeps_invalid_policies_aside() -> None:
    good = netpol("a", "ok")
    bad = netpol("a", "bad", ingress=[{"ports": [{"port": 0}]}])
    cluster = build_cluster([good, bad], strict=False)
    assert [p.key for p in cluster.policies] == ["a/ok"]
    assert [k for k, _ in cluster.invalid_policies] == ["a/bad"]
