"""Validation of cluster-wide policies, as their CRDs' schemas and CEL rules do it.

``validate_cluster_policy(obj)`` returns every problem of a ClusterNetworkPolicy
(v1alpha2), AdminNetworkPolicy or BaselineAdminNetworkPolicy (v1alpha1) dict as
``FieldError`` values with field paths, e.g. ``ClusterNetworkPolicy deny-metadata:
spec.egress[0].to[0].networks[1] "10.0.0/8" is not a valid CIDR``.

Checked: metadata.name (DNS-1123 subdomain; a BaselineAdminNetworkPolicy must be named
``default``); spec.tier (Admin or Baseline) and spec.priority (0..1000); the subject and
each peer have exactly one field; label selectors; at most 25 rules (v1alpha2) or 100
(v1alpha1) per direction, rule names of at most 100 characters, the actions each kind
accepts, ``from``/``to`` with at least one peer; ingress peers are namespaces or pods;
networks are CIDRs; ports (v1alpha2 ``protocols``: exactly one of tcp, udp, sctp,
destinationNamedPort; ``destinationPort`` exactly one of number and range, start < end;
v1alpha1 ``ports``: exactly one of portNumber, portRange, namedPort); a named port is
not allowed in a rule with networks or nodes peers.

Not an error here, though the CRD schemas require it: a ``pods`` peer or subject without
``podSelector`` (or, in v1alpha1, without ``namespaceSelector``) is read as ``{}``, as
the Go types decode it (netpol-analyzer's and the upstream conformance suite's inputs
rely on it); the ``pods-selector-omitted`` finding reports it. Nor a peer that sets only
fields netpolui does not read (a newer peer type): upstream says to fail closed on it,
which the engine does, and the ``cluster-policy-unknown-peer`` finding reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .ipranges import parse_cidr
from .selectors import dns1123_subdomain_error
from .tiers import ANP, BANP, CLUSTER_POLICY_KINDS, CNP, READ_VERSIONS, V1BETA1, unknown_peer_fields
from .validation import (
    PROTOCOL_NAMES,
    FieldError,
    _Collector,
    _q,
    _validate_labels_map,
    _validate_selector,
    iana_svc_name_error,
)

_ACTIONS = {
    CNP: ("Accept", "Deny", "Pass"),
    ANP: ("Allow", "Deny", "Pass"),
    BANP: ("Allow", "Deny"),
}


def cluster_policy_display_name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    return f"{obj.get('kind')} {meta.get('name') or '<unnamed>'}"


def validate_cluster_policy(obj: Mapping[str, Any]) -> list[FieldError]:
    """Every error the API server would report for this cluster-wide policy."""
    c = _Collector(cluster_policy_display_name(obj) if isinstance(obj, Mapping) else "")
    if not isinstance(obj, Mapping):
        c.add("", "is not an object")
        return c.errors
    kind = obj.get("kind")
    if kind not in CLUSTER_POLICY_KINDS:
        c.add("kind", f"{_q(kind)} is not a cluster-wide policy kind")
        return c.errors
    assert isinstance(kind, str)
    version = obj.get("apiVersion")
    if version is not None and version not in READ_VERSIONS[kind]:
        c.add(
            "apiVersion",
            f"{_q(version)} is not read for {kind}: use {' or '.join(READ_VERSIONS[kind])}",
        )
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        c.add("metadata", "is required")
    else:
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            c.add("metadata.name", "is required")
        else:
            err = dns1123_subdomain_error(name)
            if err:
                c.add("metadata.name", f"{_q(name)} {err}")
            elif kind == BANP and name != "default":
                c.add(
                    "metadata.name",
                    f'{_q(name)} must be "default": only one BaselineAdminNetworkPolicy exists',
                )
        if meta.get("namespace"):
            c.add(
                "metadata.namespace",
                f"{_q(meta['namespace'])} must be empty: {kind} is cluster-scoped",
            )
        _validate_labels_map(c, meta.get("labels"), "metadata.labels")
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        c.add("spec", "is required" if spec is None else "must be an object")
        return c.errors
    if kind == CNP:
        tier = spec.get("tier")
        if tier not in ("Admin", "Baseline"):
            c.add(
                "spec.tier",
                f"{_q(tier)} must be Admin or Baseline"
                if tier is not None
                else "is required (Admin or Baseline)",
            )
    if kind != BANP:
        prio = spec.get("priority")
        if prio is None:
            c.add("spec.priority", "is required (0 to 1000)")
        elif not isinstance(prio, int) or isinstance(prio, bool):
            c.add("spec.priority", f"{_q(prio)} must be an integer from 0 to 1000")
        elif not 0 <= prio <= 1000:
            c.add("spec.priority", f"{prio} must be between 0 and 1000")
    _validate_subject(c, spec.get("subject"), "spec.subject")
    limit = 25 if kind == CNP else 100
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if rules is None:
            continue
        path = f"spec.{direction}"
        if not isinstance(rules, list):
            c.add(path, "must be a list of rules")
            continue
        if len(rules) > limit:
            c.add(path, f"has {len(rules)} rules: at most {limit} are allowed")
        for i, rule in enumerate(rules):
            _validate_rule(c, kind, direction, peers_key, rule, f"{path}[{i}]", version)
    return c.errors


def _validate_subject(c: _Collector, subject: object, path: str) -> None:
    if not isinstance(subject, Mapping):
        c.add(path, "is required: set namespaces or pods")
        return
    fields = [k for k in ("namespaces", "pods") if subject.get(k) is not None]
    for key in sorted(set(subject) - {"namespaces", "pods"}):
        c.add(f"{path}.{key}", "is not a field of a subject (use namespaces or pods)")
    if len(fields) != 1:
        c.add(path, "must set exactly one of namespaces and pods")
    _validate_selector_peer(c, subject, path)


def _validate_selector_peer(c: _Collector, peer: Mapping[str, Any], path: str) -> None:
    if peer.get("namespaces") is not None:
        _validate_selector(c, peer["namespaces"], f"{path}.namespaces")
    pods = peer.get("pods")
    if pods is not None:
        if not isinstance(pods, Mapping):
            c.add(f"{path}.pods", "must be an object with namespaceSelector and podSelector")
            return
        # An omitted podSelector (or v1alpha1 namespaceSelector) is read as {}, the way
        # the Go types decode it (netpol-analyzer, the upstream conformance suite); the
        # `pods-selector-omitted` finding says the API server itself would refuse it.
        _validate_selector(c, pods.get("namespaceSelector"), f"{path}.pods.namespaceSelector")
        _validate_selector(c, pods.get("podSelector"), f"{path}.pods.podSelector")


def _validate_rule(
    c: _Collector,
    kind: str,
    direction: str,
    peers_key: str,
    rule: object,
    path: str,
    version: object = None,
) -> None:
    if not isinstance(rule, Mapping):
        c.add(path, "must be an object with action and " + peers_key)
        return
    name = rule.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 100):
        c.add(f"{path}.name", "must be a string of at most 100 characters")
    action = rule.get("action")
    allowed = _ACTIONS[kind]
    if action not in allowed:
        what = "is required" if action is None else f"{_q(action)} is not an action of {kind}"
        c.add(f"{path}.action", f"{what}: use {', '.join(allowed)}")
    peers = rule.get(peers_key)
    ppath = f"{path}.{peers_key}"
    kinds: set[str] = set()
    if not isinstance(peers, list) or not peers:
        c.add(ppath, "must list at least one peer")
    else:
        allowed_peers = (
            ("namespaces", "pods")
            if direction == "ingress"
            else (
                ("namespaces", "pods", "networks", "nodes", "domainNames")
                if kind == CNP
                else ("namespaces", "pods", "networks", "nodes")
            )
        )
        for j, peer in enumerate(peers):
            jpath = f"{ppath}[{j}]"
            if not isinstance(peer, Mapping):
                c.add(jpath, f"must be an object with one of {', '.join(allowed_peers)}")
                continue
            if unknown_peer_fields(peer):
                continue  # a newer peer type: the rule fails closed (tiers.py)
            set_fields = [k for k in peer if peer.get(k) is not None]
            unknown = [k for k in set_fields if k not in allowed_peers]
            for k in unknown:
                c.add(
                    f"{jpath}.{k}",
                    f"is not a field of an {direction} peer (use one of {', '.join(allowed_peers)})",
                )
            if len(set_fields) != 1:
                c.add(jpath, f"must set exactly one of {', '.join(allowed_peers)}")
            kinds.update(set_fields)
            _validate_selector_peer(c, peer, jpath)
            if peer.get("nodes") is not None:
                _validate_selector(c, peer["nodes"], f"{jpath}.nodes")
            nets = peer.get("networks")
            if nets is not None:
                if not isinstance(nets, list) or not nets:
                    c.add(f"{jpath}.networks", "must list at least one CIDR")
                else:
                    for k, net in enumerate(nets):
                        try:
                            if not isinstance(net, str):
                                raise ValueError
                            cidr = parse_cidr(net)
                        except ValueError:
                            c.add(
                                f"{jpath}.networks[{k}]",
                                f"{_q(net)} is not a valid CIDR (e.g. 10.0.0.0/8 or fd00::/8)",
                            )
                            continue
                        # v1beta1's CEL rule: cidr(self) == cidr(self).masked().
                        if version == V1BETA1 and str(cidr) != net.strip():
                            c.add(
                                f"{jpath}.networks[{k}]",
                                f"{_q(net)} has host bits set: write {cidr}",
                            )
    named = False
    if kind == CNP:
        named = _validate_protocols(c, rule.get("protocols"), f"{path}.protocols")
    else:
        named = _validate_ports(c, rule.get("ports"), f"{path}.ports")
    if named and kinds & {"networks", "nodes", "domainNames"}:
        c.add(
            path,
            "uses a named port with networks/nodes/domainNames peers, which have no named ports",
        )
    # "DomainNames is only supported for Accept rules" (the v1alpha2 types).
    if "domainNames" in kinds and rule.get("action") != "Accept":
        c.add(
            f"{path}.action",
            f"{_q(rule.get('action'))}: domainNames peers are only supported in Accept rules",
        )


def _check_port(c: _Collector, value: object, path: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        c.add(path, f"{_q(value)} must be a port number from 1 to 65535")


def _check_range(c: _Collector, rng: object, path: str, *, ordered: bool = True) -> None:
    if not isinstance(rng, Mapping):
        c.add(path, "must be an object with start and end")
        return
    _check_port(c, rng.get("start"), f"{path}.start")
    _check_port(c, rng.get("end"), f"{path}.end")
    start, end = rng.get("start"), rng.get("end")
    # v1alpha2 has a CEL rule (start < end); v1alpha1 has none: an inverted range there
    # is accepted by the API server and matches nothing.
    if ordered and isinstance(start, int) and isinstance(end, int) and start >= end:
        c.add(f"{path}.end", f"{end} must be greater than start {start}")


def _check_name(c: _Collector, name: object, path: str) -> None:
    if not isinstance(name, str):
        c.add(path, f"{_q(name)} must be a port name")
        return
    err = iana_svc_name_error(name)
    if err:
        c.add(path, f"{_q(name)} {err}")


def _validate_protocols(c: _Collector, protocols: object, path: str) -> bool:
    """v1alpha2 `protocols`; True when a named port is used."""
    if protocols is None:
        return False
    if not isinstance(protocols, list) or not protocols:
        c.add(path, "must list at least one protocol (or be left out for every port)")
        return False
    named = False
    keys = ("tcp", "udp", "sctp", "destinationNamedPort")
    for i, entry in enumerate(protocols):
        epath = f"{path}[{i}]"
        if not isinstance(entry, Mapping):
            c.add(epath, f"must be an object with one of {', '.join(keys)}")
            continue
        set_fields = [k for k in entry if entry.get(k) is not None]
        if len(set_fields) != 1 or set_fields[0] not in keys:
            c.add(epath, f"must set exactly one of {', '.join(keys)}")
        if entry.get("destinationNamedPort") is not None:
            named = True
            _check_name(c, entry["destinationNamedPort"], f"{epath}.destinationNamedPort")
        for key in ("tcp", "udp", "sctp"):
            spec = entry.get(key)
            if spec is None:
                continue
            kpath = f"{epath}.{key}"
            if not isinstance(spec, Mapping) or spec.get("destinationPort") is None:
                c.add(f"{kpath}.destinationPort", "is required")
                continue
            port = spec["destinationPort"]
            ppath = f"{kpath}.destinationPort"
            if (
                not isinstance(port, Mapping)
                or len([k for k in port if port.get(k) is not None]) != 1
            ):
                c.add(ppath, "must set exactly one of number and range")
                continue
            if port.get("number") is not None:
                _check_port(c, port["number"], f"{ppath}.number")
            elif port.get("range") is not None:
                _check_range(c, port["range"], f"{ppath}.range")
            else:
                c.add(ppath, "must set exactly one of number and range")
    return named


def _validate_ports(c: _Collector, ports: object, path: str) -> bool:
    """v1alpha1 `ports`; True when a named port is used."""
    if ports is None:
        return False
    if not isinstance(ports, list):
        c.add(path, "must be a list")
        return False
    named = False
    keys = ("portNumber", "portRange", "namedPort")
    for i, entry in enumerate(ports):
        epath = f"{path}[{i}]"
        if not isinstance(entry, Mapping):
            c.add(epath, f"must be an object with one of {', '.join(keys)}")
            continue
        set_fields = [k for k in entry if entry.get(k) is not None]
        if len(set_fields) != 1 or set_fields[0] not in keys:
            c.add(epath, f"must set exactly one of {', '.join(keys)}")
        for key in ("portNumber", "portRange"):
            spec = entry.get(key)
            if spec is None:
                continue
            kpath = f"{epath}.{key}"
            if not isinstance(spec, Mapping):
                c.add(kpath, "must be an object")
                continue
            proto = spec.get("protocol")
            if proto is not None and proto not in PROTOCOL_NAMES:
                c.add(f"{kpath}.protocol", f"{_q(proto)} must be TCP, UDP or SCTP")
            if key == "portNumber":
                _check_port(c, spec.get("port"), f"{kpath}.port")
            else:
                _check_range(c, spec, kpath, ordered=False)
        if entry.get("namedPort") is not None:
            named = True
            _check_name(c, entry["namedPort"], f"{epath}.namedPort")
    return named
