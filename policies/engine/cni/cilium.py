"""Cilium policies compiled into the tier model.

Kinds (``cilium.io/v2``): ``CiliumNetworkPolicy`` (namespaced; ``spec`` or ``specs``)
and ``CiliumClusterwideNetworkPolicy``. Authority: cilium/cilium ``pkg/policy/api``
(Rule, IngressRule, EgressRule, PortRule) and the docs "Policy Enforcement Modes",
"Layer 3/4 Policies", "Deny Policies".

Evaluation (docs): "endpoints have unrestricted network access until selected by
policy"; a rule set with ingress (or ingressDeny) rules puts the endpoints it selects
into default deny for ingress, the same for egress (``enableDefaultDeny`` overrides it
per direction); "Deny policies take precedence over allow policies, regardless of
whether they are a Cilium Network Policy, a Clusterwide Cilium Network Policy or even a
Kubernetes Network Policy"; allows are a union with the v1 NetworkPolicies (whose
isolation is default deny too). So the plan is: a tier of every deny rule (first match
denies), then one tier of every allow rule and the v1 NetworkPolicies ending in deny for
the endpoints some policy put into default deny.

Selectors: endpoint labels carry a source prefix (``k8s:``, ``any:``): a key without one
matches any source. A pod's labels plus ``io.kubernetes.pod.namespace``,
``io.cilium.k8s.namespace.labels.<key>`` (its namespace's labels) and
``io.cilium.k8s.policy.serviceaccount``. In a CiliumNetworkPolicy the endpointSelector,
and every fromEndpoints/toEndpoints selector that does not name
``io.kubernetes.pod.namespace``, only select pods of the policy's namespace.

Peers: fromEndpoints/toEndpoints; fromCIDR/toCIDR and fromCIDRSet/toCIDRSet (with
``except``) name addresses outside the cluster; entities ``world`` (outside the
cluster), ``cluster`` (every pod), ``all`` (both) are modelled, the other entities
(host, remote-node, kube-apiserver, health, init, ingress, unmanaged) are listed but
match nothing here; toFQDNs/toServices/toGroups cannot be resolved statically: listed,
and the answer is marked "depends on DNS/service". A rule without any peer field but
with toPorts applies to every peer; a rule with neither (``{}``) matches nothing. L7
``rules`` in toPorts narrow traffic inside the port: the port shows as allowed with the
mark "L7 rules apply". Host policies (``nodeSelector``) are listed and flagged, not
evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..ipranges import IPRange, block_ranges
from ..selectors import LabelSelector
from ..tiers import ALLOW, DENY, TierPeer, TierPort, TierRule
from ..validation import FieldError
from .common import (
    ANSWER_PROTOCOLS,
    DNS_MARK,
    L7_MARK,
    CniPolicyInfo,
    CniRuleInfo,
    CniTierPolicy,
    label_selector,
    port_name_error,
    subtract_ranges,
)
from .kinds import CILIUM, cni_kind, cni_object_key

DENY_TIER = "Cilium deny"
ALLOW_TIER = "Cilium allow"

NS_LABEL = "io.kubernetes.pod.namespace"
NS_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."
SA_LABEL = "io.cilium.k8s.policy.serviceaccount"
_SOURCES = ("k8s:", "any:", "container:", "unspec:")
MODELLED_ENTITIES = ("world", "world-ipv4", "world-ipv6", "cluster", "all")
LISTED_ENTITIES = ("host", "remote-node", "kube-apiserver", "health", "init", "ingress", "unmanaged")


def _strip(key: str) -> str:
    for prefix in _SOURCES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def endpoint_labels(
    labels: Mapping[str, str], namespace: str, namespace_labels: Mapping[str, str], service_account: str
) -> dict[str, str]:
    out = dict(labels)
    out[NS_LABEL] = namespace
    for k, v in namespace_labels.items():
        out[NS_LABELS_PREFIX + k] = v
    out[SA_LABEL] = service_account or "default"
    out["io.cilium.k8s.policy.cluster"] = "default"
    return out


class _EndpointLabels(Mapping[str, str]):
    """The labels of ``endpoint_labels`` as a view, without building the dict (a
    selector asks for a few keys of thousands of pod classes)."""

    __slots__ = ("_labels", "_namespace", "_ns_labels", "_sa")

    def __init__(
        self, labels: Mapping[str, str], namespace: str, ns_labels: Mapping[str, str], sa: str
    ) -> None:
        self._labels = labels
        self._namespace = namespace
        self._ns_labels = ns_labels
        self._sa = sa or "default"

    def __getitem__(self, key: str) -> str:
        if key == NS_LABEL:
            return self._namespace
        if key == SA_LABEL:
            return self._sa
        if key == "io.cilium.k8s.policy.cluster":
            return "default"
        if key.startswith(NS_LABELS_PREFIX):
            return self._ns_labels[key[len(NS_LABELS_PREFIX):]]
        return self._labels[key]

    def __iter__(self) -> Iterator[str]:
        return iter(endpoint_labels(self._labels, self._namespace, self._ns_labels, self._sa))

    def __len__(self) -> int:
        return len(endpoint_labels(self._labels, self._namespace, self._ns_labels, self._sa))

    def __contains__(self, key: object) -> bool:
        try:
            self[str(key)]
        except KeyError:
            return False
        return True


@dataclass(frozen=True)
class CiliumMatch:
    selector: LabelSelector
    namespace: str | None  # only pods of this namespace

    @property
    def cache_key(self) -> object:
        return ("cilium", self.selector, self.namespace)

    @property
    def only_namespaces(self) -> frozenset[str] | None:
        return None if self.namespace is None else frozenset((self.namespace,))

    def matches(
        self,
        namespace: str,
        namespace_labels: Mapping[str, str],
        labels: Mapping[str, str],
        service_account: str,
    ) -> bool:
        if self.namespace is not None and namespace != self.namespace:
            return False
        return self.selector.matches(_EndpointLabels(labels, namespace, namespace_labels, service_account))


ALL_PODS = CiliumMatch(LabelSelector(), None)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, Mapping) else {}


class _Compiler:
    def __init__(self, obj: Mapping[str, Any], problems: list[FieldError]) -> None:
        found = cni_kind(obj)
        assert found is not None
        self.kind = found.kind
        self.namespace = str(_meta(obj).get("namespace") or "default") if found.namespaced else None
        self.problems = problems
        self.notes: list[str] = []

    def selector(self, raw: Any, path: str) -> tuple[LabelSelector, bool] | None:
        """The selector with source prefixes stripped, and whether it names the
        namespace label."""
        sel = label_selector({} if raw is None else raw, path, self.problems, _strip)
        if sel is None:
            return None
        keys = {k for k, _ in sel.match_labels} | {r.key for r in sel.match_expressions}
        return sel, NS_LABEL in keys

    def ranges(self, raw: Any, path: str) -> tuple[IPRange, ...]:
        out: list[IPRange] = []
        if not isinstance(raw, list):
            self.problems.append(FieldError(path, "must be a list of CIDRs"))
            return ()
        for i, c in enumerate(raw):
            try:
                out.extend(block_ranges(str(c).strip(), ()))
            except ValueError:
                self.problems.append(FieldError(f"{path}[{i}]", f"{c!r} is not a valid CIDR"))
        return tuple(out)

    def cidr_sets(self, raw: Any, path: str) -> tuple[IPRange, ...]:
        out: list[IPRange] = []
        if not isinstance(raw, list):
            self.problems.append(FieldError(path, "must be a list of CIDR sets"))
            return ()
        for i, entry in enumerate(raw):
            here = f"{path}[{i}]"
            if not isinstance(entry, Mapping):
                self.problems.append(FieldError(here, "must be a map with cidr and except"))
                continue
            if entry.get("cidr") is None:
                if entry.get("cidrGroupRef") is not None or entry.get("cidrGroupSelector") is not None:
                    self.notes.append(f"{here}: CiliumCIDRGroup references are not resolved (matches nothing here)")
                    continue
                self.problems.append(FieldError(f"{here}.cidr", "is required"))
                continue
            keep = self.ranges([entry["cidr"]], f"{here}.cidr")
            drop = self.ranges(entry.get("except") or [], f"{here}.except")
            out.extend(subtract_ranges(keep, drop))
        return tuple(out)

    def ports(self, raw: Any, path: str) -> tuple[tuple[TierPort, ...] | None, bool]:
        """toPorts: the ports (None: every port) and whether L7 rules apply."""
        if raw is None:
            return None, False
        if not isinstance(raw, list):
            self.problems.append(FieldError(path, "must be a list of port rules"))
            return (), False
        out: list[TierPort] = []
        l7 = False
        for i, pr in enumerate(raw):
            here = f"{path}[{i}]"
            if not isinstance(pr, Mapping):
                self.problems.append(FieldError(here, "must be a port rule"))
                continue
            if pr.get("rules"):
                l7 = True
            ports = pr.get("ports")
            if not ports:
                out.extend(TierPort(p) for p in ANSWER_PROTOCOLS)
                continue
            for j, pp in enumerate(ports if isinstance(ports, list) else []):
                pp_path = f"{here}.ports[{j}]"
                if not isinstance(pp, Mapping):
                    self.problems.append(FieldError(pp_path, "must be a port protocol"))
                    continue
                proto = str(pp.get("protocol") or "ANY").upper()
                if proto not in (*ANSWER_PROTOCOLS, "ANY", "ICMP", "ICMPV6"):
                    self.problems.append(FieldError(f"{pp_path}.protocol", f"{proto!r} must be TCP, UDP, SCTP or ANY"))
                    continue
                protos = ANSWER_PROTOCOLS if proto == "ANY" else tuple(p for p in (proto,) if p in ANSWER_PROTOCOLS)
                port = str(pp.get("port") if pp.get("port") is not None else "0").strip()
                if port.isdigit():
                    first = int(port)
                    end = pp.get("endPort")
                    last = int(end) if isinstance(end, int) and not isinstance(end, bool) and end else first
                    if first > 65535 or last > 65535 or last < first:
                        self.problems.append(FieldError(pp_path, f"port {port}-{last} is not a valid range"))
                        continue
                    for p in protos:
                        out.append(TierPort(p) if first == 0 else TierPort(p, first, last))
                elif port:
                    err = port_name_error(port)
                    if err:
                        self.problems.append(FieldError(f"{pp_path}.port", err))
                        continue
                    for p in protos:
                        out.append(TierPort(p, name=port, name_with_protocol=proto != "ANY"))
        return tuple(out), l7

    def peer_of(self, raw: Mapping[str, Any], path: str, side: str) -> tuple[list[TierPeer], list[str], bool]:
        """The peers a rule names (fromX or toX fields), what they say, and whether a
        peer depends on DNS or services."""
        peers: list[TierPeer] = []
        words: list[str] = []
        dns = False
        eps = raw.get(f"{side}Endpoints")
        if eps is not None:
            for i, sel_raw in enumerate(eps if isinstance(eps, list) else []):
                got = self.selector(sel_raw, f"{path}.{side}Endpoints[{i}]")
                if got is None:
                    continue
                sel, names_ns = got
                restrict = self.namespace if (self.namespace is not None and not names_ns) else None
                match = CiliumMatch(sel, restrict)
                text = f"endpoints [{sel}]" + (f" in {restrict}" if restrict else "")
                peers.append(TierPeer("cni", match=match, text=text, match_key=match.cache_key))
                words.append(text)
        for key in (f"{side}CIDR",):
            if raw.get(key) is not None:
                ranges = self.ranges(raw[key], f"{path}.{key}")
                peers.append(TierPeer("cni", ranges=ranges, text=f"CIDR {', '.join(map(str, raw[key]))}"))
                words.append(f"CIDR {', '.join(map(str, raw[key]))}")
        if raw.get(f"{side}CIDRSet") is not None:
            ranges = self.cidr_sets(raw[f"{side}CIDRSet"], f"{path}.{side}CIDRSet")
            text = "CIDR set " + ", ".join(
                f"{e.get('cidr')}" + (f" except {', '.join(e.get('except') or [])}" if e.get("except") else "")
                for e in raw[f"{side}CIDRSet"] if isinstance(e, Mapping)
            )
            peers.append(TierPeer("cni", ranges=ranges, text=text))
            words.append(text)
        entities = raw.get(f"{side}Entities")
        if entities is not None:
            for i, ent in enumerate(entities if isinstance(entities, list) else []):
                if ent in ("world", "world-ipv4", "world-ipv6"):
                    peers.append(TierPeer("cni", text="entity world", everywhere=True))
                elif ent == "cluster":
                    peers.append(TierPeer("cni", match=ALL_PODS, text="entity cluster", match_key=ALL_PODS.cache_key))
                elif ent == "all":
                    peers.append(TierPeer("cni", match=ALL_PODS, text="entity all", match_key=ALL_PODS.cache_key, everywhere=True))
                elif ent in LISTED_ENTITIES:
                    self.notes.append(f"{path}.{side}Entities[{i}]: entity {ent} is not modelled (matches nothing here)")
                else:
                    self.problems.append(FieldError(f"{path}.{side}Entities[{i}]", f"{ent!r} is not a Cilium entity"))
                    continue
                words.append(f"entity {ent}")
        for key in ("FQDNs", "Services", "Groups"):
            if side == "to" and raw.get(f"to{key}") is not None:
                dns = True
                words.append(f"to{key} {raw[f'to{key}']}")
        for key in (f"{side}Requires", f"{side}Nodes"):
            if raw.get(key) is not None:
                self.notes.append(f"{path}.{key} is not evaluated (matches nothing here)")
                words.append(f"{key} (not evaluated)")
        return peers, words, dns

    def rules(
        self, raw: Any, path: str, direction: str, action: str, written: str
    ) -> tuple[list[TierRule], list[CniRuleInfo], bool]:
        """Rules of one list (ingress, ingressDeny...); and whether the list has any."""
        if raw is None:
            return [], [], False
        if not isinstance(raw, list):
            self.problems.append(FieldError(path, "must be a list of rules"))
            return [], [], False
        side = "from" if direction == "ingress" else "to"
        out: list[TierRule] = []
        infos: list[CniRuleInfo] = []
        for i, r in enumerate(raw):
            here = f"{path}[{i}]"
            if not isinstance(r, Mapping):
                self.problems.append(FieldError(here, "must be a rule"))
                continue
            peers, words, dns = self.peer_of(r, here, side)
            ports, l7 = self.ports(r.get("toPorts"), f"{here}.toPorts")
            if r.get("icmps") is not None:
                words.append("ICMP (outside the TCP/UDP/SCTP answer)")
                if ports is None:
                    ports = ()
            named_peer_fields = [k for k in r if k.startswith(side) and k != "toPorts"] + [
                k for k in r if k in ("toFQDNs", "toServices", "toGroups")
            ]
            if not named_peer_fields:
                if ports is None:
                    peers = []  # `{}`: matches nothing
                    words.append("nothing (an empty rule)")
                else:
                    match = ALL_PODS
                    peers = [TierPeer("cni", match=match, text="any peer", match_key=match.cache_key, everywhere=True)]
                    words.append("any peer")
            marks: list[str] = []
            if l7:
                marks.append(L7_MARK)
            if dns:
                marks.append(DNS_MARK)
            name = f"{path.removeprefix('spec.')}[{i}]"
            out.append(TierRule(i, name, action, written, tuple(peers), ports, (), tuple(marks)))
            ports_text = "all ports" if ports is None else ", ".join(str(p) for p in ports) or "no TCP/UDP/SCTP port"
            text = f"{written} {side} {'; '.join(words) or 'nothing'} on {ports_text}"
            infos.append(CniRuleInfo(direction, i, written, text, name, tuple(marks)))
        return out, infos, bool(raw)


def compile_policy(
    obj: Mapping[str, Any], enforced: bool, not_enforced_reason: str = ""
) -> tuple[CniPolicyInfo, list[CniTierPolicy]]:
    problems: list[FieldError] = []
    c = _Compiler(obj, problems)
    key = cni_object_key(obj)
    spec, specs = obj.get("spec"), obj.get("specs")
    rule_sets: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(spec, Mapping):
        rule_sets.append(("spec", spec))
    if isinstance(specs, list):
        rule_sets.extend((f"specs[{i}]", s) for i, s in enumerate(specs) if isinstance(s, Mapping))
    if not rule_sets:
        problems.append(FieldError("spec", "spec or specs is required"))
    compiled: list[CniTierPolicy] = []
    infos: list[CniRuleInfo] = []
    selects: list[str] = []
    types: set[str] = set()
    for base, rs in rule_sets:
        host = rs.get("nodeSelector") is not None
        if host:
            c.notes.append(f"{base}: a host policy (nodeSelector): listed, not evaluated")
            if rs.get("endpointSelector") is not None:
                problems.append(FieldError(f"{base}.nodeSelector", "cannot be used together with endpointSelector"))
            # written as a selector (never the raw mapping); its shape is not checked: not evaluated
            node_selector = label_selector(rs.get("nodeSelector"), f"{base}.nodeSelector", [])
            selects.append(f"nodes [{node_selector if node_selector is not None else '?'}]")
        elif rs.get("endpointSelector") is None:
            problems.append(FieldError(f"{base}.endpointSelector", "endpointSelector or nodeSelector is required"))
            continue
        got = c.selector(rs.get("endpointSelector"), f"{base}.endpointSelector") if not host else None
        subject: TierPeer | None = None
        if got is not None:
            match = CiliumMatch(got[0], c.namespace)
            text = f"endpoints [{got[0]}]" + (f" in {c.namespace}" if c.namespace else "")
            subject = TierPeer("cni", match=match, text=text, match_key=match.cache_key)
            selects.append(text)
        allow_in, info_in, has_in = c.rules(rs.get("ingress"), f"{base}.ingress", "ingress", ALLOW, "Allow")
        allow_eg, info_eg, has_eg = c.rules(rs.get("egress"), f"{base}.egress", "egress", ALLOW, "Allow")
        deny_in, info_din, has_din = c.rules(rs.get("ingressDeny"), f"{base}.ingressDeny", "ingress", DENY, "Deny")
        deny_eg, info_deg, has_deg = c.rules(rs.get("egressDeny"), f"{base}.egressDeny", "egress", DENY, "Deny")
        infos.extend([*info_in, *info_din, *info_eg, *info_deg])
        default_deny = rs.get("enableDefaultDeny") if isinstance(rs.get("enableDefaultDeny"), Mapping) else {}
        assert isinstance(default_deny, Mapping)
        directions = set()
        for d, has in (("ingress", has_in or has_din), ("egress", has_eg or has_deg)):
            if has:
                types.add(d)
            flag = default_deny.get(d)
            if (has if flag is None else bool(flag) and has):
                directions.add(d)
        if host or subject is None:
            continue
        name = str(_meta(obj).get("name") or "")
        common: dict[str, Any] = {
            "raw": obj, "cni": CILIUM, "namespace": c.namespace, "cni_key": key,
        }
        if deny_in or deny_eg:
            compiled.append(CniTierPolicy(
                c.kind, name, DENY_TIER, None, subject, tuple(deny_in), tuple(deny_eg),
                # The deny tier falls through: the directions only say where it has rules.
                directions=frozenset(d for d, r in (("ingress", deny_in), ("egress", deny_eg)) if r),
                tier_rank=0, policy_order=0, part=f"{base} deny", **common,
            ))
        compiled.append(CniTierPolicy(
            c.kind, name, ALLOW_TIER, None, subject, tuple(allow_in), tuple(allow_eg),
            directions=frozenset(directions), tier_rank=1, policy_order=0, part=f"{base} allow", **common,
        ))
    problems = [FieldError(p.path, p.message, f"{c.kind} {key.split(':', 2)[-1]}") for p in problems]
    ok = enforced and not problems
    meta = _meta(obj)
    info = CniPolicyInfo(
        key=key, cni=CILIUM, kind=c.kind, api_version=str(obj.get("apiVersion") or ""),
        namespace=c.namespace, name=str(meta.get("name") or ""), enforced=ok,
        tier="Cilium", order=None, selects="; ".join(selects), types=tuple(sorted(types)),
        rules=tuple(infos), problems=tuple(problems), notes=tuple(c.notes),
        not_enforced_reason=not_enforced_reason if not enforced else ("invalid" if problems else ""),
        raw=obj,
    )
    return info, compiled if ok else []
