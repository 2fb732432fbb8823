"""Policy -> form data -> policy -> YAML -> policy: nothing lost, nothing added.

Random valid NetworkPolicies (every field the form has: labels, annotations, both
selector kinds with the four operators, explicit or defaulted policyTypes in any order,
rules with and without peers and ports, the four peer kinds, ipBlocks with excepts,
protocols set or unset, numbered and named ports, port ranges) go through the editor's
form data (as JSON, as the page sends it) and canonical YAML, and come back equal.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import engine
from policies.services import drafts, starter_policies

DNS_LABEL = st.from_regex(r"\A[a-z]([-a-z0-9]{0,10}[a-z0-9])?\Z")
NAME = st.lists(DNS_LABEL, min_size=1, max_size=3).map(".".join)
KEY_NAME = st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?\Z")
LABEL_KEY = st.tuples(st.none() | NAME, KEY_NAME).map(lambda t: f"{t[0]}/{t[1]}" if t[0] else t[1])
LABEL_VALUE = st.from_regex(r"\A([A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?)?\Z")
PORT_NAME = st.from_regex(r"\A[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,6})?\Z")
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff") | st.just("\n"),
    max_size=40,
)


def labels(min_size: int = 1) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(LABEL_KEY, LABEL_VALUE, min_size=min_size, max_size=3)


@st.composite
def expression(draw: Any) -> dict[str, Any]:
    operator = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
    out: dict[str, Any] = {"key": draw(LABEL_KEY), "operator": operator}
    if operator in ("In", "NotIn"):
        out["values"] = draw(st.lists(LABEL_VALUE, min_size=1, max_size=3))
    return out


@st.composite
def selector(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["matchLabels"] = draw(labels())
    if draw(st.booleans()):
        out["matchExpressions"] = draw(st.lists(expression(), min_size=1, max_size=2))
    return out


@st.composite
def ip_block(draw: Any) -> dict[str, Any]:
    prefix = draw(st.integers(min_value=8, max_value=28))
    address = draw(st.integers(min_value=0, max_value=2**32 - 1))
    net = ipaddress.ip_network((address, prefix), strict=False)
    out: dict[str, Any] = {"cidr": str(net)}
    excepts = []
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        sub_prefix = draw(st.integers(min_value=prefix + 1, max_value=32))
        offset = draw(st.integers(min_value=0, max_value=net.num_addresses - 1))
        excepts.append(str(ipaddress.ip_network((int(net.network_address) + offset, sub_prefix), strict=False)))
    if excepts:
        out["except"] = excepts
    return out


@st.composite
def peer(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["pods", "namespaces", "both", "ip"]))
    if kind == "ip":
        return {"ipBlock": draw(ip_block())}
    out: dict[str, Any] = {}
    if kind in ("pods", "both"):
        out["podSelector"] = draw(selector())
    if kind in ("namespaces", "both"):
        out["namespaceSelector"] = draw(selector())
    return out


@st.composite
def port(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["protocol"] = draw(st.sampled_from(["TCP", "UDP", "SCTP"]))
    which = draw(st.sampled_from(["none", "number", "range", "name"]))
    if which == "name":
        out["port"] = draw(PORT_NAME)
    elif which in ("number", "range"):
        number = draw(st.integers(min_value=1, max_value=65535))
        out["port"] = number
        if which == "range":
            out["endPort"] = draw(st.integers(min_value=number, max_value=65535))
    return out


def rule(peers_key: str) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if draw(st.booleans()):
            out[peers_key] = draw(st.lists(peer(), min_size=1, max_size=3))
        if draw(st.booleans()):
            out["ports"] = draw(st.lists(port(), min_size=1, max_size=3))
        return out

    return build()


@st.composite
def network_policy(draw: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": draw(NAME), "namespace": draw(DNS_LABEL)}
    if draw(st.booleans()):
        meta["labels"] = draw(labels())
    if draw(st.booleans()):
        meta["annotations"] = draw(st.dictionaries(LABEL_KEY, TEXT, min_size=1, max_size=2))
    spec: dict[str, Any] = {"podSelector": draw(selector())}
    if draw(st.booleans()):
        spec["policyTypes"] = draw(
            st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Egress", "Ingress"]])
        )
    if draw(st.booleans()):
        spec["ingress"] = draw(st.lists(rule("from"), min_size=1, max_size=3))
    if draw(st.booleans()):
        spec["egress"] = draw(st.lists(rule("to"), min_size=1, max_size=3))
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}


def through_the_editor(obj: dict[str, Any]) -> dict[str, Any]:
    form = json.loads(json.dumps(drafts.policy_to_form(obj)))  # as the page sends it
    back, form_errors = drafts.form_to_policy(form)
    assert form_errors == []
    (loaded,) = engine.load_yaml_text(drafts.canonical_yaml([back]))
    return loaded


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(network_policy())
def test_random_valid_policies_survive_form_and_yaml_unchanged(obj):
    assert drafts.validate(obj) == []  # the generator makes what the API server accepts
    assert through_the_editor(obj) == obj


def _with_empties(obj: dict[str, Any]) -> dict[str, Any]:
    """The same policy with every optional list and map present but empty."""
    out = json.loads(json.dumps(obj))
    spec = out["spec"]
    spec["podSelector"].setdefault("matchLabels", {})
    spec["podSelector"].setdefault("matchExpressions", [])
    spec.setdefault("policyTypes", [])
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        spec.setdefault(direction, [])
        for r in spec[direction]:
            r.setdefault(peers_key, [])
            r.setdefault("ports", [])
            for p in r[peers_key]:
                if "ipBlock" in p:
                    p["ipBlock"].setdefault("except", [])
    out["metadata"].setdefault("labels", {})
    return out


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(network_policy())
def test_empty_lists_and_maps_come_back_as_the_api_server_stores_them(obj):
    # `from: []`, `ports: []`, `matchLabels: {}` ... are omitempty in the API types: the
    # server drops them, and so does the editor. The meaning never changes.
    noisy = _with_empties(obj)
    assert through_the_editor(drafts.stored_form(noisy)) == obj
    assert engine.normalize_policy(through_the_editor(drafts.stored_form(noisy))) == engine.normalize_policy(noisy)


@pytest.mark.parametrize("slug", [t.slug for t in starter_policies.TEMPLATES])
def test_every_template_is_valid_and_round_trips(slug):
    for obj in starter_policies.render(slug, "shop"):
        prepared = drafts.stored_form(obj)
        assert drafts.validate(prepared) == []
        assert through_the_editor(prepared) == prepared


def test_parsed_yaml_names_the_fields_the_form_cannot_hold():
    text = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop, uid: abc, resourceVersion: "7"}
spec:
  podSelector:
    matchLabels: {version: 2}
status: {}
"""
    (doc,) = drafts.parse_yaml(text)
    # Server-managed fields go silently (as kubectl would drop them); a label value
    # that is not a string cannot be kept as it is, and the editor says so.
    assert "uid" not in doc.obj["metadata"]
    assert "status" not in doc.obj
    assert doc.losses == ["spec.podSelector.matchLabels.version"]
    assert [e.path for e in doc.errors] == ["spec.podSelector.matchLabels.version"]
