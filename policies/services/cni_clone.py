"""Clone a CNI policy into a v1 NetworkPolicy draft, only where the translation is
exact; otherwise the sentence says what a v1 NetworkPolicy cannot say.

Exact today: a namespaced CiliumNetworkPolicy with one `spec` whose rules are allows
between endpoints selected by labels (and the pod-namespace or namespace-label keys),
on L4 ports. Cilium documents that a namespaced policy's endpoint selectors select in
its own namespace unless they name one (docs.cilium.io, Policy Language, "Namespaces"),
which is a v1 podSelector; that `toPorts` without `rules` is an L4 allow; and that a
policy with rules for a direction puts the selected endpoints in default deny for it
(the v1 policyTypes).

Not exact: Cilium CIDR rules (they never match endpoints inside the cluster, a v1
ipBlock can), entities, FQDNs, services, L7 rules, deny rules; Calico and Antrea
policies, which sit in ordered tiers and whose actions (Deny, Pass, an Allow that ends
the evaluation before any NetworkPolicy is consulted) a v1 NetworkPolicy cannot say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import CniObject

NAMESPACE_KEYS = ("k8s:io.kubernetes.pod.namespace", "io.kubernetes.pod.namespace")
NAMESPACE_LABEL_PREFIXES = ("k8s:io.cilium.k8s.namespace.labels.", "io.cilium.k8s.namespace.labels.")
PROTOCOLS = ("TCP", "UDP", "SCTP")


class NotExact(Exception):
    """The policy says something a v1 NetworkPolicy cannot; the message says what."""


@dataclass(frozen=True)
class CloneVerdict:
    possible: bool
    reason: str = ""
    obj: dict[str, Any] | None = None


def clone_verdict(row: CniObject) -> CloneVerdict:
    if not row.policy:
        return CloneVerdict(False, f"a {row.kind} holds no rules")
    if row.cni == "calico":
        return CloneVerdict(
            False,
            "Calico policies are ordered within tiers (a v1 NetworkPolicy sits in the default tier at "
            "order 1000), select with Calico's selector language and can Deny, Pass or Log",
        )
    if row.cni == "antrea":
        return CloneVerdict(
            False,
            "Antrea policies sit in tiers evaluated before v1 NetworkPolicies (Baseline after them): "
            "their Allow ends the evaluation, and they can Drop, Reject or Pass",
        )
    if row.kind != "CiliumNetworkPolicy":
        return CloneVerdict(False, "a cluster-wide Cilium policy has no single namespace, v1 NetworkPolicies do")
    try:
        return CloneVerdict(True, obj=cilium_to_v1(row.obj))
    except NotExact as exc:
        return CloneVerdict(False, str(exc))


def cilium_to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """The v1 NetworkPolicy saying exactly what a CiliumNetworkPolicy says; NotExact
    when there is none."""
    if obj.get("specs"):
        raise NotExact("it has several specs (`specs`); clone it one spec at a time by hand")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise NotExact("it has no spec")
    extra = set(spec) - {"endpointSelector", "ingress", "egress", "description", "enableDefaultDeny"}
    if extra:
        raise NotExact(f"spec.{sorted(extra)[0]} has no v1 NetworkPolicy equivalent")
    default_deny = spec.get("enableDefaultDeny") or {}
    if isinstance(default_deny, dict) and False in default_deny.values():
        raise NotExact("enableDefaultDeny false leaves the endpoints open, a v1 NetworkPolicy always isolates them")
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    out_spec: dict[str, Any] = {"podSelector": _selector(spec.get("endpointSelector") or {}, "spec.endpointSelector")}
    types: list[str] = []
    for direction, peers_key in (("ingress", "fromEndpoints"), ("egress", "toEndpoints")):
        rules = spec.get(direction)
        if rules is None:
            continue
        if not isinstance(rules, list) or not rules:
            raise NotExact(f"spec.{direction} is empty; how Cilium reads an empty list differs between versions")
        out_spec[direction] = [
            _rule(rule, f"spec.{direction}[{i}]", peers_key) for i, rule in enumerate(rules)
        ]
        types.append(direction.capitalize())
    if not types:
        raise NotExact("it has no ingress or egress rules, so it does not isolate anything")
    out_spec["policyTypes"] = types
    out_meta: dict[str, Any] = {"name": str(meta.get("name") or ""), "namespace": namespace}
    if meta.get("labels"):
        out_meta["labels"] = dict(meta["labels"])
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": out_meta, "spec": out_spec}


def _rule(rule: Any, path: str, peers_key: str) -> dict[str, Any]:
    if not isinstance(rule, dict) or not rule:
        raise NotExact(f"{path} is empty: in Cilium it allows nothing, in a v1 NetworkPolicy everything")
    extra = set(rule) - {peers_key, "toPorts"}
    if extra:
        field = sorted(extra)[0]
        why = (
            "Cilium CIDR rules never match endpoints inside the cluster, a v1 ipBlock can"
            if "CIDR" in field
            else "it has no v1 NetworkPolicy equivalent"
        )
        raise NotExact(f"{path}.{field}: {why}")
    out: dict[str, Any] = {}
    if peers_key in rule:
        peers = rule[peers_key]
        if not isinstance(peers, list) or not peers:
            raise NotExact(f"{path}.{peers_key} is empty")
        out["from" if peers_key == "fromEndpoints" else "to"] = [
            _peer(peer, f"{path}.{peers_key}[{i}]") for i, peer in enumerate(peers)
        ]
    if "toPorts" in rule:
        out["ports"] = _ports(rule["toPorts"], f"{path}.toPorts")
    return out


def _peer(peer: Any, path: str) -> dict[str, Any]:
    if not isinstance(peer, dict):
        raise NotExact(f"{path} is not a label selector")
    labels = peer.get("matchLabels") or {}
    if not isinstance(labels, dict):
        raise NotExact(f"{path}.matchLabels is not a map")
    pod_labels: dict[str, str] = {}
    ns_labels: dict[str, str] = {}
    for key, value in labels.items():
        if key in NAMESPACE_KEYS:
            ns_labels["kubernetes.io/metadata.name"] = str(value)
        elif key.startswith(NAMESPACE_LABEL_PREFIXES):
            ns_labels[key.split("namespace.labels.", 1)[1]] = str(value)
        else:
            pod_labels[_plain_key(key, path)] = str(value)
    expressions = peer.get("matchExpressions") or []
    for i, expression in enumerate(expressions):
        key = str((expression or {}).get("key", ""))
        if key in NAMESPACE_KEYS or key.startswith(NAMESPACE_LABEL_PREFIXES):
            raise NotExact(f"{path}.matchExpressions[{i}] selects namespaces by expression; clone it by hand")
    selector = _selector({"matchLabels": pod_labels, "matchExpressions": expressions}, path)
    out: dict[str, Any] = {"podSelector": selector}
    if ns_labels:
        out["namespaceSelector"] = {"matchLabels": ns_labels}
    return out


def _plain_key(key: str, path: str) -> str:
    """A Cilium label key as a Kubernetes label key: the `k8s:` source prefix dropped;
    other sources (reserved:, cidr:, container:) have no v1 equivalent."""
    if key.startswith("k8s:"):
        return key[len("k8s:"):]
    if ":" in key.split("/", 1)[0] and not key.startswith("any:"):
        raise NotExact(f"{path}: label {key} is not a Kubernetes label")
    return key.removeprefix("any:")


def _selector(selector: dict[str, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    labels = selector.get("matchLabels") or {}
    if labels:
        out["matchLabels"] = {_plain_key(k, path): str(v) for k, v in labels.items()}
    expressions = []
    for i, expression in enumerate(selector.get("matchExpressions") or []):
        if not isinstance(expression, dict):
            raise NotExact(f"{path}.matchExpressions[{i}] is not an expression")
        copied = {"key": _plain_key(str(expression.get("key", "")), path), "operator": expression.get("operator")}
        if "values" in expression:
            copied["values"] = list(expression["values"] or [])
        expressions.append(copied)
    if expressions:
        out["matchExpressions"] = expressions
    return out


def _ports(to_ports: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(to_ports, list) or not to_ports:
        raise NotExact(f"{path} is empty")
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(to_ports):
        if not isinstance(entry, dict):
            raise NotExact(f"{path}[{i}] is not a port rule")
        extra = set(entry) - {"ports"}
        if extra:
            raise NotExact(f"{path}[{i}].{sorted(extra)[0]}: L7 rules narrow the traffic, a v1 NetworkPolicy cannot")
        for j, port in enumerate(entry.get("ports") or []):
            protocol = str((port or {}).get("protocol") or "ANY").upper()
            if protocol not in (*PROTOCOLS, "ANY"):
                raise NotExact(f"{path}[{i}].ports[{j}].protocol {protocol} has no v1 equivalent")
            raw = (port or {}).get("port")
            value: int | str | None = None
            if raw not in (None, "", "0", 0):
                value = _port_number(raw) if _is_number(raw) else str(raw)
            for proto in PROTOCOLS if protocol == "ANY" else (protocol,):
                item: dict[str, Any] = {"protocol": proto}
                if value is not None:
                    item["port"] = value
                if port.get("endPort"):
                    if not _is_number(port["endPort"]):
                        raise NotExact(f"{path}[{i}].ports[{j}].endPort {str(port['endPort'])[:40]!r} is not a port number")
                    item["endPort"] = _port_number(port["endPort"])
                out.append(item)
    if not out:
        raise NotExact(f"{path} names no port")
    return out


def _is_number(raw: Any) -> bool:
    """An int, or ASCII digits int() takes: not '²' (isdigit() holds for it) and not more
    than 4,300 digits (int() refuses them); either was a ValueError, a 500 on the CNI page."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return True
    text = str(raw)
    return text.isascii() and text.isdigit() and len(text) <= 18


def _port_number(raw: Any) -> int:
    return raw if isinstance(raw, int) else int(str(raw))
