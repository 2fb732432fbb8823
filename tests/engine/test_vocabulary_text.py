"""One text for a connection set and one way to build and read endpoint keys."""

from __future__ import annotations

import pytest

from policies import engine
from policies.engine.ports import ConnSet

CASES = [
    ("all", "All Connections"),
    ({}, "No Connections"),
    (None, "No Connections"),
    ({"TCP": [[80, 80], [8080, 8090]]}, "TCP 80,8080-8090"),
    ({"UDP": [[53, 53]], "TCP": [[80, 80]], "SCTP": [[9003, 9003]]}, "SCTP 9003,TCP 80,UDP 53"),
    ({"tcp": [[1, 65535]], "UDP": [[1, 65535]], "SCTP": [[1, 65535]]}, "All Connections"),
]


@pytest.mark.parametrize(("conns", "text"), CASES)
def test_conns_text_from_json_and_from_a_connset_agree(conns, text):
    assert engine.conns_text(conns) == text
    built = ConnSet.from_json(conns) if conns else ConnSet.none()
    assert engine.conns_text(built) == str(built) == text


def test_conns_parts_keep_protocol_order_and_join_to_the_text():
    conns = {"UDP": [[53, 53]], "TCP": [[443, 443], [80, 80]]}
    parts = engine.conns_parts(conns)
    assert parts == [("TCP", "TCP 80,443"), ("UDP", "UDP 53")]
    assert ",".join(t for _, t in parts) == engine.conns_text(conns)
    assert engine.conns_parts("all") == [("all", "All Connections")]


@pytest.mark.parametrize(
    ("namespace", "name", "kind"),
    [("shop", "backend", "Deployment"), ("kube-system", "coredns-5d78c9869d-abcde", "Pod"), ("a", "b.c", "CronJob")],
)
def test_object_keys_round_trip(namespace, name, kind):
    key = engine.object_key(namespace, name, kind)
    assert key == f"{namespace}/{name}[{kind}]"
    assert engine.parse_object_key(key) == (namespace, name, kind)
    assert engine.external_range(key) is None


@pytest.mark.parametrize("key", ["shop", "shop/app=web", "10.0.0.0-10.255.255.255[External]", "x[Deployment]", ""])
def test_keys_that_name_no_object(key):
    assert engine.parse_object_key(key) is None


def test_external_keys_round_trip():
    key = engine.external_key("10.0.0.0-10.255.255.255")
    assert key == "10.0.0.0-10.255.255.255[External]"
    assert engine.external_range(key) == "10.0.0.0-10.255.255.255"
    assert engine.external_range("shop/backend[Deployment]") is None


def test_the_analyzer_names_endpoints_with_the_key_builders():
    objs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {}, "status": {"podIP": "10.1.0.5", "phase": "Running"},
        },
    ]
    reach = engine.analyze(engine.build_cluster(objs), level="workload")
    keys = {n.key for n in reach.nodes}
    assert engine.object_key("shop", "web-0", "Pod") in keys
    externals = [k for k in keys if engine.external_range(k) is not None]
    assert externals
    assert all(engine.parse_object_key(k) is None for k in externals)
