"""Hypothesis strategies for the engine's property tests: small random clusters and
policies that reach every corner of docs/semantics.md.

Clusters: namespaces with labels, pods with labels, named ports and sometimes
hostNetwork (optionally several pods under one owner, with differing labels, so a
workload and its pods are different endpoints). Policies: both selector kinds,
set-based expressions, policyTypes variants including `egress: []`, named ports,
endPort ranges, SCTP, ipBlocks with excepts in IPv4 and IPv6.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from .builders import namespace, netpol, pod

settings.register_profile(
    "engine",
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

NAMESPACES = ("alpha", "beta", "gamma")
LABEL_KEYS = ("app", "tier")
LABEL_VALUES = ("web", "db", "api")
NAMED_PORTS = (
    ("http", "TCP", 80),
    ("http", "UDP", 8080),
    ("dns", "UDP", 53),
    ("metrics", "TCP", 9090),
    ("sig", "SCTP", 3868),
)
NUMBERS = (53, 80, 443, 3868, 8080, 9090)
CIDRS = (
    ("0.0.0.0/0", ["10.0.0.0/8"]),
    ("10.0.0.0/8", ["10.1.0.0/16", "10.2.3.0/24"]),
    ("10.1.0.0/16", []),
    ("192.168.0.0/16", ["192.168.1.0/24"]),
    ("2001:db8::/32", ["2001:db8:1::/48"]),
    ("::/0", []),
)

labels_st = st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), max_size=2)


@st.composite
def selector_st(draw: Any) -> dict[str, Any]:
    sel: dict[str, Any] = {}
    if draw(st.booleans()):
        sel["matchLabels"] = draw(labels_st)
    if draw(st.booleans()):
        exprs = []
        for _ in range(draw(st.integers(0, 2))):
            op = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
            e: dict[str, Any] = {"key": draw(st.sampled_from(LABEL_KEYS)), "operator": op}
            if op in ("In", "NotIn"):
                e["values"] = draw(
                    st.lists(st.sampled_from(LABEL_VALUES), min_size=1, max_size=2, unique=True)
                )
            exprs.append(e)
        sel["matchExpressions"] = exprs
    return sel


@st.composite
def ns_selector_st(draw: Any) -> dict[str, Any]:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return {}
    if choice == 1:
        return {"matchLabels": {"kubernetes.io/metadata.name": draw(st.sampled_from(NAMESPACES))}}
    return {"matchLabels": {"env": draw(st.sampled_from(("prod", "dev")))}}


@st.composite
def peer_st(draw: Any) -> dict[str, Any]:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return {"podSelector": draw(selector_st())}
    if kind == 1:
        return {"namespaceSelector": draw(ns_selector_st())}
    if kind == 2:
        return {"podSelector": draw(selector_st()), "namespaceSelector": draw(ns_selector_st())}
    cidr, excepts = draw(st.sampled_from(CIDRS))
    block: dict[str, Any] = {"cidr": cidr}
    if excepts and draw(st.booleans()):
        block["except"] = excepts
    return {"ipBlock": block}


@st.composite
def port_st(draw: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    proto = draw(st.sampled_from((None, "TCP", "UDP", "SCTP")))
    if proto:
        entry["protocol"] = proto
    kind = draw(st.integers(0, 3))
    if kind == 1:
        entry["port"] = draw(st.sampled_from(NUMBERS))
    elif kind == 2:
        entry["port"] = draw(st.sampled_from(("http", "dns", "metrics", "sig", "nope")))
    elif kind == 3:
        start = draw(st.sampled_from(NUMBERS))
        entry["port"] = start
        entry["endPort"] = start + draw(st.sampled_from((0, 1, 100, 9000)))
    return entry


@st.composite
def rule_st(draw: Any, peers_key: str) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    peers = draw(st.sampled_from(("missing", "empty", "some")))
    if peers == "empty":
        rule[peers_key] = []
    elif peers == "some":
        rule[peers_key] = draw(st.lists(peer_st(), min_size=1, max_size=2))
    ports = draw(st.sampled_from(("missing", "empty", "some")))
    if ports == "empty":
        rule["ports"] = []
    elif ports == "some":
        rule["ports"] = draw(st.lists(port_st(), min_size=1, max_size=3))
    return rule


@st.composite
def policy_st(draw: Any, index: int, ns: str | None = None) -> dict[str, Any]:
    """A policy named p<index>, in `ns` or a random namespace."""
    spec: dict[str, Any] = {"podSelector": draw(selector_st())}
    types = draw(st.sampled_from(("absent", "empty", "I", "E", "IE")))
    if types != "absent":
        spec["policyTypes"] = {
            "empty": [],
            "I": ["Ingress"],
            "E": ["Egress"],
            "IE": ["Ingress", "Egress"],
        }[types]
    for direction, key in (("ingress", "from"), ("egress", "to")):
        form = draw(st.sampled_from(("absent", "empty", "rules")))
        if form == "empty":
            spec[direction] = []
        elif form == "rules":
            spec[direction] = draw(st.lists(rule_st(key), min_size=1, max_size=2))
    return netpol(ns or draw(st.sampled_from(NAMESPACES)), f"p{index}", **spec)


@st.composite
def cluster_st(draw: Any, *, owners: bool = False) -> list[dict[str, Any]]:
    """Namespaces, 1-5 pods and 0-4 policies (p0..p3). With `owners`, pods may share an
    owner (a ReplicaSet not in the input) whose pods need not share labels."""
    objs: list[dict[str, Any]] = []
    for ns in NAMESPACES:
        if draw(st.booleans()):
            objs.append(namespace(ns, env=draw(st.sampled_from(("prod", "dev")))))
    for i in range(draw(st.integers(1, 5))):
        ports = draw(st.lists(st.sampled_from(NAMED_PORTS), max_size=3, unique=True))
        owner = None
        if owners and draw(st.booleans()):
            owner = ("ReplicaSet", f"rs{draw(st.integers(0, 1))}")
        objs.append(
            pod(
                draw(st.sampled_from(NAMESPACES)),
                f"pod{i}",
                draw(labels_st),
                ports=list(ports),
                host_network=draw(st.booleans()),
                owner=owner,
            )
        )
    for i in range(draw(st.integers(0, 4))):
        objs.append(draw(policy_st(i)))
    return objs


def probe_ports(objs: list[dict[str, Any]]) -> list[int]:
    """Ports around every boundary a policy or a container port can draw."""
    points = {1, 65535}
    for n in (*NUMBERS, *(n for _, _, n in NAMED_PORTS)):
        points.update({n - 1, n, n + 1})
    for o in objs:
        if o["kind"] != "NetworkPolicy":
            continue
        for d in ("ingress", "egress"):
            for r in o["spec"].get(d) or []:
                for p in (r or {}).get("ports") or []:
                    for v in (p.get("port"), p.get("endPort")):
                        if isinstance(v, int):
                            points.update({v - 1, v, v + 1})
    return sorted(p for p in points if 1 <= p <= 65535)


# -- cluster-wide policies -------------------------------------------------------------------

NODES = (("node-a", {"zone": "a"}, "10.1.2.3"), ("node-b", {"zone": "b"}, "192.168.1.5"))
NETWORKS = ("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "192.168.1.0/24", "2001:db8::/32")


@st.composite
def tier_subject_st(draw: Any) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"namespaces": draw(ns_selector_st())}
    pods: dict[str, Any] = {"podSelector": draw(selector_st())}
    if draw(st.booleans()):
        pods["namespaceSelector"] = draw(ns_selector_st())
    return {"pods": pods}


@st.composite
def tier_peer_st(draw: Any, egress: bool) -> dict[str, Any]:
    kind = draw(st.integers(0, 3 if egress else 1))
    if kind <= 1:
        return draw(tier_subject_st())
    if kind == 2:
        return {
            "networks": draw(
                st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=2, unique=True)
            )
        }
    return {"nodes": draw(st.sampled_from(({}, {"matchLabels": {"zone": "a"}})))}


@st.composite
def tier_ports_st(draw: Any, v1alpha2: bool, named_ok: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.integers(0, 2 if named_ok else 1))
        proto = draw(st.sampled_from(("TCP", "UDP", "SCTP")))
        start = draw(st.sampled_from(NUMBERS))
        if kind == 2:
            name = draw(st.sampled_from(("http", "dns", "metrics", "sig", "nope")))
            out.append({"destinationNamedPort": name} if v1alpha2 else {"namedPort": name})
        elif kind == 0:
            if v1alpha2:
                out.append({proto.lower(): {"destinationPort": {"number": start}}})
            else:
                out.append({"portNumber": {"protocol": proto, "port": start}})
        else:
            end = start + draw(st.sampled_from((1, 100, 9000)))
            if v1alpha2:
                out.append(
                    {proto.lower(): {"destinationPort": {"range": {"start": start, "end": end}}}}
                )
            else:
                out.append({"portRange": {"protocol": proto, "start": start, "end": end}})
    return out


@st.composite
def tier_rule_st(draw: Any, kind: str, direction: str) -> dict[str, Any]:
    egress = direction == "egress"
    actions = {
        "ClusterNetworkPolicy": ("Accept", "Deny", "Pass"),
        "AdminNetworkPolicy": ("Allow", "Deny", "Pass"),
        "BaselineAdminNetworkPolicy": ("Allow", "Deny"),
    }[kind]
    peers = draw(st.lists(tier_peer_st(egress), min_size=1, max_size=2))
    rule: dict[str, Any] = {
        "name": f"r{draw(st.integers(0, 9))}",
        "action": draw(st.sampled_from(actions)),
        "from" if not egress else "to": peers,
    }
    named_ok = not any(("networks" in p or "nodes" in p) for p in peers)
    v1alpha2 = kind == "ClusterNetworkPolicy"
    if draw(st.booleans()):
        rule["protocols" if v1alpha2 else "ports"] = draw(tier_ports_st(v1alpha2, named_ok))
    return rule


@st.composite
def cluster_policy_st(draw: Any, index: int) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")
        )
    )
    spec: dict[str, Any] = {"subject": draw(tier_subject_st())}
    if kind == "ClusterNetworkPolicy":
        spec["tier"] = draw(st.sampled_from(("Admin", "Baseline")))
    if kind != "BaselineAdminNetworkPolicy":
        spec["priority"] = draw(st.sampled_from((0, 5, 10)))
    for direction in ("ingress", "egress"):
        if draw(st.booleans()):
            spec[direction] = draw(st.lists(tier_rule_st(kind, direction), min_size=1, max_size=3))
    name = "default" if kind == "BaselineAdminNetworkPolicy" else f"c{index}"
    version = "v1alpha2" if kind == "ClusterNetworkPolicy" else "v1alpha1"
    return {
        "apiVersion": f"policy.networking.k8s.io/{version}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }


@st.composite
def tiered_cluster_st(draw: Any) -> list[dict[str, Any]]:
    """cluster_st plus 1-3 cluster-wide policies and the two Nodes."""
    objs = draw(cluster_st())
    for name, labels, address in NODES:
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": labels},
                "status": {"addresses": [{"type": "InternalIP", "address": address}]},
            }
        )
    seen: set[str] = set()
    for i in range(draw(st.integers(1, 3))):
        obj = draw(cluster_policy_st(i))
        key = f"{obj['kind']}/{obj['metadata']['name']}"
        if key not in seen:
            seen.add(key)
            objs.append(obj)
    return objs


def tier_probe_ports(objs: list[dict[str, Any]]) -> list[int]:
    points = set(probe_ports(objs))
    for o in objs:
        if o["kind"] not in (
            "ClusterNetworkPolicy",
            "AdminNetworkPolicy",
            "BaselineAdminNetworkPolicy",
        ):
            continue
        for d in ("ingress", "egress"):
            for r in o["spec"].get(d) or []:
                for e in r.get("protocols") or r.get("ports") or []:
                    for v in _numbers(e):
                        points.update({v - 1, v, v + 1})
    return sorted(p for p in points if 1 <= p <= 65535)


def _numbers(value: Any) -> list[int]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    return []
