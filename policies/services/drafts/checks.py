"""The editor's warnings: mistakes the API server accepts but people rarely mean.

They never block a save. Each is {path, level, message}, so the Problems list and the
field marks show them the same way.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from ... import engine
from ...choices import RULE_DIRECTIONS
from ...models import Cluster, Namespace, NetworkPolicy, Pod, Workload
from .form import _parse

# --- warnings: the classic mistakes -----------------------------------------------------------


def _selector_text(sel: Any) -> str:
    return str(engine.LabelSelector.parse(sel if isinstance(sel, Mapping) else None))


def common_mistakes(obj: Mapping[str, Any]) -> list[dict[str, str]]:
    """The mistakes the Cilium tutorials name, for a valid policy: {path, level, message}."""
    spec = obj.get("spec") or {}
    ns = (obj.get("metadata") or {}).get("namespace") or "default"
    out: list[dict[str, str]] = []

    def add(path: str, message: str, level: str = "warning") -> None:
        out.append({"path": path, "level": level, "message": message})

    types = spec.get("policyTypes")
    effective = engine.effective_policy_types(spec)
    if not spec.get("podSelector"):
        add("spec.podSelector", f"podSelector {{}} selects every pod in namespace {ns}.", "info")
    if not types:
        add(
            "spec.policyTypes",
            "policyTypes is not set: the API server will set "
            + " and ".join(effective)
            + " (Ingress always, Egress only when there are egress rules).",
            "info",
        )
    for direction, peers_key in RULE_DIRECTIONS:
        title = direction.capitalize()
        rules = spec.get(direction) or []
        if title not in effective:
            if rules:
                add(
                    f"spec.{direction}",
                    f"{title} is not in policyTypes: these {direction} rules are ignored.",
                )
            continue
        if not rules:
            add(
                f"spec.{direction}",
                f"No {direction} rules: all {direction} traffic of the selected pods is denied "
                "unless another policy allows it.",
                "info",
            )
        for i, rule in enumerate(rules):
            rule = rule or {}
            rpath = f"spec.{direction}[{i}]"
            peers = rule.get(peers_key) or []
            if not peers:
                what = "from everywhere" if direction == "ingress" else "to everywhere"
                add(
                    f"{rpath}.{peers_key}",
                    f"Rule {i + 1} has no {peers_key!r} peers: it allows traffic {what} "
                    "(every pod in every namespace and every address outside the cluster).",
                    "info",
                )
            only_pods = [j for j, p in enumerate(peers) if set(p) == {"podSelector"}]
            only_ns = [j for j, p in enumerate(peers) if set(p) == {"namespaceSelector"}]
            if only_pods and only_ns:
                add(
                    f"{rpath}.{peers_key}",
                    f"Rule {i + 1} has a podSelector peer and a separate namespaceSelector "
                    "peer: they are alternatives (OR), so every pod of the selected namespaces "
                    "is allowed. For pods with those labels in those namespaces, use one peer "
                    "'Selected pods in selected namespaces' (AND).",
                )
            for j, peer in enumerate(peers):
                ppath = f"{rpath}.{peers_key}[{j}]"
                if "namespaceSelector" in peer and not peer["namespaceSelector"]:
                    add(
                        f"{ppath}.namespaceSelector",
                        "namespaceSelector {} selects every namespace in the cluster.",
                        "info",
                    )
                if direction == "egress" and "ipBlock" in peer:
                    named = [
                        p.get("port")
                        for p in rule.get("ports") or []
                        if isinstance(p.get("port"), str)
                    ]
                    if named:
                        add(
                            f"{rpath}.ports",
                            f"Named port {named[0]!r} never matches an address outside the "
                            "cluster: an ipBlock destination needs a port number.",
                        )
    if "Egress" in effective and not any(
        engine.rule_allows_dns(rule) for rule in _parse(obj).rules("egress")
    ):
        add(
            "spec.egress",
            "This policy isolates egress and none of its rules allows DNS (UDP 53): the "
            "selected pods cannot resolve names unless another policy allows it. "
            "The what-if below checks the whole cluster.",
        )
    return out


# --- more warnings: selectors, host bits, namespaces the cluster lacks ---------------------------


def known_namespaces(cluster: Cluster) -> set[str]:
    """Namespaces the cluster has: Namespace objects, and namespaces of mirrored rows."""
    names = set(Namespace.objects.filter(cluster=cluster).values_list("name", flat=True))
    for model in (Workload, Pod, NetworkPolicy):
        names |= set(model.objects.filter(cluster=cluster).values_list("namespace", flat=True).distinct())
    return names


def _selectors(spec: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "spec.podSelector", spec.get("podSelector")
    for direction, peers_key in RULE_DIRECTIONS:
        for i, rule in enumerate(spec.get(direction) or []):
            for j, peer in enumerate((rule or {}).get(peers_key) or []):
                for key in ("podSelector", "namespaceSelector"):
                    if key in (peer or {}):
                        yield f"spec.{direction}[{i}].{peers_key}[{j}].{key}", peer[key]


def more_mistakes(obj: Mapping[str, Any], cluster: Cluster | None) -> list[dict[str, str]]:
    spec = obj.get("spec") or {}
    ns = (obj.get("metadata") or {}).get("namespace") or "default"
    out: list[dict[str, str]] = []

    def add(path: str, message: str, level: str = "warning") -> None:
        out.append({"path": path, "level": level, "message": message})

    for direction, peers_key in RULE_DIRECTIONS:
        for i, rule in enumerate(spec.get(direction) or []):
            for j, peer in enumerate((rule or {}).get(peers_key) or []):
                peer = peer or {}
                path = f"spec.{direction}[{i}].{peers_key}[{j}]"
                if "podSelector" in peer and not peer["podSelector"] and "namespaceSelector" not in peer:
                    add(
                        f"{path}.podSelector",
                        f"Rule {i + 1}, peer {j + 1}: podSelector {{}} selects every pod of namespace "
                        f"{ns}. Add labels if only some pods are meant.",
                    )
                block = peer.get("ipBlock")
                if isinstance(block, Mapping):
                    for where, cidr in [("cidr", block.get("cidr")), *(
                        (f"except[{k}]", c) for k, c in enumerate(block.get("except") or [])
                    )]:
                        if not isinstance(cidr, str) or "/" not in cidr:
                            continue
                        try:
                            network = ipaddress.ip_network(cidr, strict=False)
                        except ValueError:
                            continue
                        if str(network) != cidr and ipaddress.ip_interface(cidr).ip != network.network_address:
                            add(
                                f"{path}.ipBlock.{where}",
                                f"{cidr} has host bits set: it means {network}. Write {network}, "
                                f"or /{network.max_prefixlen} for the single address.",
                            )
    for path, sel in _selectors(spec):
        labels = (sel or {}).get("matchLabels") if isinstance(sel, Mapping) else None
        for key, value in (labels or {}).items():
            if value == "":
                add(
                    f"{path}.matchLabels",
                    f"Label {key} has an empty value: only objects whose {key} label is set to the "
                    "empty string match. Was a value forgotten? (Use an Exists expression for any value.)",
                )
    if cluster is not None:
        names = known_namespaces(cluster)
        if ns not in names:
            add(
                "metadata.namespace",
                f"Namespace {ns} does not exist in cluster {cluster.name}: the policy would select no pod "
                "until it is created.",
            )
    return out
