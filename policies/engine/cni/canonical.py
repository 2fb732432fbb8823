"""A CNI policy object as its CNI's API stores it, for comparing a desired object with
the live one: the fields the API server or the CNI's admission webhook fills in when the
writer leaves them out are filled in the same way, and nothing else changes.

- Calico (``projectcalico.org/v3``, through libcalico-go's client): an empty ``types``
  becomes ``[Ingress]``, ``[Egress]`` or both from the rules present
  (``defaultPolicyTypesField``); an empty ``tier`` reads back as ``default``; the
  ``projectcalico.org/tier`` label is set to the tier (``setTierLabel``). Actions are
  validated case-sensitively (``Allow|Deny|Log|Pass``), ``order`` has no default and
  selectors are stored as written, so none of them is touched. The CRD group
  (``crd.projectcalico.org``) is written straight to etcd: nothing is defaulted there.
- Antrea (``crd.antrea.io`` NetworkPolicy and ClusterNetworkPolicy, mutating webhook):
  an empty ``tier`` becomes ``application``, and a rule without a name gets
  ``<direction>-<action in lower case>-<7 hex digits of a hash of the rule>``. The hash
  covers the rule's Go serialization, so such a generated name is dropped on both sides
  (the rest of the rule is compared). The CRD schema defaults nothing (no protocol, no
  ``enableLogging``); a ``priority`` of 5 and 5.0 are already equal numbers.
- Cilium: its CRDs default nothing; objects compare as written.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from .kinds import ANTREA, CALICO, CALICO_GROUP, api_group, cni_kind

CALICO_DEFAULT_TIER = "default"
CALICO_TIER_LABEL = "projectcalico.org/tier"
ANTREA_DEFAULT_TIER = "application"
_CALICO_POLICY_KINDS = ("NetworkPolicy", "GlobalNetworkPolicy")
_ANTREA_POLICY_KINDS = ("NetworkPolicy", "ClusterNetworkPolicy")


def canonical_cni_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a (cleaned) CNI object with its CNI's defaults applied."""
    out = copy.deepcopy(dict(obj))
    kind = cni_kind(out)
    spec = out.get("spec")
    if kind is None or not isinstance(spec, dict):
        return out
    if kind.cni == CALICO and api_group(out) == CALICO_GROUP and kind.kind in _CALICO_POLICY_KINDS:
        _default_calico(out, spec)
    elif kind.cni == ANTREA and kind.kind in _ANTREA_POLICY_KINDS:
        _default_antrea(spec)
    return out


def _rules(spec: Mapping[str, Any], direction: str) -> list[Any]:
    rules = spec.get(direction)
    return rules if isinstance(rules, list) else []


def _default_calico(obj: dict[str, Any], spec: dict[str, Any]) -> None:
    if not spec.get("types"):
        spec["types"] = _calico_types(spec)
    if not spec.get("tier"):
        spec["tier"] = CALICO_DEFAULT_TIER
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return
    labels = meta.get("labels")
    if isinstance(labels, dict) and labels.get(CALICO_TIER_LABEL) == spec["tier"]:
        del labels[CALICO_TIER_LABEL]
        if not labels:
            del meta["labels"]


def _calico_types(spec: Mapping[str, Any]) -> list[str]:
    if not _rules(spec, "egress"):
        return ["Ingress"]
    if not _rules(spec, "ingress"):
        return ["Egress"]
    return ["Ingress", "Egress"]


def _default_antrea(spec: dict[str, Any]) -> None:
    if not spec.get("tier"):
        spec["tier"] = ANTREA_DEFAULT_TIER
    for direction in ("ingress", "egress"):
        for rule in _rules(spec, direction):
            if isinstance(rule, dict) and _is_generated_rule_name(direction, rule):
                del rule["name"]


def _is_generated_rule_name(direction: str, rule: Mapping[str, Any]) -> bool:
    name, action = rule.get("name"), rule.get("action")
    if not isinstance(name, str) or not isinstance(action, str):
        return False
    return re.fullmatch(rf"{direction}-{re.escape(action.lower())}-[0-9a-f]{{7}}", name) is not None
