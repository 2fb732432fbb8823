"""Reading, validating and previewing a policy: ``parse_yaml`` (pasted or uploaded, one or
many documents), ``validate`` (the API server's rules, through
engine.validate_network_policy), ``preview`` (canonical YAML, errors, warnings and the
three-zone picture, ``three_zone_picture``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ... import engine
from ...choices import RULE_DIRECTIONS
from ...models import Cluster
from .. import engine_cache
from .checks import common_mistakes, more_mistakes
from .errors import DraftError, error_dicts
from .form import API_VERSION, KIND, _parse, compact_policy, form_to_policy, policy_to_form

# --- reading, validating, previewing ----------------------------------------------------------


def validate(obj: Mapping[str, Any]) -> list[engine.FieldError]:
    """The API server's verdict on the policy, plus what a draft needs (a namespace)."""
    errors = list(engine.validate_network_policy(obj))
    if isinstance(obj, Mapping):
        if obj.get("apiVersion") not in (None, API_VERSION):
            errors.append(
                engine.FieldError(
                    "apiVersion", f'"{obj.get("apiVersion")}" is not {API_VERSION}', _name(obj)
                )
            )
        if obj.get("kind") not in (None, KIND):
            errors.append(
                engine.FieldError("kind", f'"{obj.get("kind")}" is not {KIND}', _name(obj))
            )
        meta = obj.get("metadata")
        if isinstance(meta, Mapping) and not meta.get("namespace"):
            errors.append(
                engine.FieldError(
                    "metadata.namespace",
                    "is required: choose the namespace the policy belongs to",
                    _name(obj),
                )
            )
        spec = obj.get("spec")
        if isinstance(spec, Mapping):
            for key in sorted(set(spec) - {"podSelector", "policyTypes", "ingress", "egress"}):
                errors.append(
                    engine.FieldError(
                        f"spec.{key}",
                        "is not a field of a NetworkPolicy spec "
                        "(use podSelector, policyTypes, ingress, egress)",
                        _name(obj),
                    )
                )
    return errors


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    return f"NetworkPolicy {meta.get('namespace') or 'default'}/{meta.get('name') or '<unnamed>'}"


def stored_form(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A policy as drafts keep it: server-managed fields and status gone (as
    engine.clean_policy drops them), empty optional fields compacted. Shapes the
    engine cannot clean (a spec that is not a map) are left for ``validate`` to name."""
    if not isinstance(obj, Mapping):
        return {}
    meta, spec = obj.get("metadata"), obj.get("spec")
    if not isinstance(meta, Mapping) or not isinstance(spec, Mapping):
        return {k: v for k, v in obj.items() if k != "status"}
    cleaned = engine.clean_policy(obj)
    if cleaned["metadata"].get("name") is None:
        del cleaned["metadata"]["name"]
    return compact_policy(cleaned)


def round_trip_losses(obj: Mapping[str, Any]) -> list[str]:
    """Fields of `obj` that the form cannot hold (paths), so an import can say so."""
    want = stored_form(obj)
    got, _ = form_to_policy(policy_to_form(want))
    return _differences(want, got)


def _differences(old: Any, new: Any, path: str = "") -> list[str]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[str] = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new or key not in old:
                out.append(sub)
            else:
                out += _differences(old[key], new[key], sub)
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(old) or i >= len(new):
                out.append(sub)
            else:
                out += _differences(old[i], new[i], sub)
        return out
    return [] if old == new and type(old) is type(new) else [path]


@dataclass
class ParsedDocument:
    """One document of pasted or uploaded YAML, ready for the form (or why not)."""

    index: int
    obj: dict[str, Any]
    form: dict[str, Any]
    errors: list[engine.FieldError] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    namespace_added: bool = False

    @property
    def key(self) -> str:
        meta = self.obj.get("metadata") or {}
        return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "policy": self.obj,
            "form": self.form,
            "yaml": engine.dump_yaml([self.obj]),
            "errors": error_dicts(self.errors),
            "losses": self.losses,
            "namespace_added": self.namespace_added,
        }


class YamlUnreadable(DraftError):
    """The text is not YAML/JSON, or holds something other than NetworkPolicies."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


def parse_yaml(
    text: str, *, default_namespace: str = "", source: str = "pasted YAML"
) -> list[ParsedDocument]:
    """Every NetworkPolicy in the text, one ParsedDocument each.

    A document without namespace gets `default_namespace` (when given), as
    `kubectl apply -n` would. Other kinds are refused: a draft is one NetworkPolicy.
    """
    try:
        objs = engine.load_yaml_text(text, source)
    except engine.ManifestError as exc:
        raise YamlUnreadable([str(e) for e in exc.errors]) from exc
    if not objs:
        raise YamlUnreadable([f"{source}: no NetworkPolicy found"])
    others = [
        f"{source}: document {i + 1} is a {o.get('kind')}, not a NetworkPolicy"
        for i, o in enumerate(objs)
        if o.get("kind") != KIND
    ]
    if others:
        raise YamlUnreadable(others)
    docs = []
    for i, raw in enumerate(objs):
        obj = stored_form(raw)
        added = False
        meta = obj.setdefault("metadata", {})
        if isinstance(meta, dict) and not meta.get("namespace") and default_namespace:
            meta["namespace"] = default_namespace
            added = True
        form = policy_to_form(obj)
        back, form_errors = form_to_policy(form)
        docs.append(
            ParsedDocument(
                index=i,
                obj=obj,
                form=form,
                errors=validate(obj) + form_errors,
                losses=_differences(obj, back),
                namespace_added=added,
            )
        )
    return docs


def canonical_yaml(objs: Sequence[Mapping[str, Any]]) -> str:
    return engine.dump_yaml(list(objs))


def preview(
    cluster: Cluster | None,
    *,
    form: Mapping[str, Any] | None = None,
    policy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the editor's right-hand side shows for the form (or a policy dict)."""
    if form is not None:
        obj, form_errors = form_to_policy(form)
    else:
        obj, form_errors = stored_form(policy or {}), []
    errors = form_errors + validate(obj)
    out: dict[str, Any] = {
        "policy": obj,
        "yaml": engine.dump_yaml([obj]),
        "valid": not errors,
        "errors": error_dicts(errors),
        "warnings": common_mistakes(obj) + more_mistakes(obj, cluster) if not errors else [],
        "zones": None,
    }
    if not errors and cluster is not None:
        out["zones"] = three_zone_picture(cluster, obj)
    return out



# --- the three-zone picture -------------------------------------------------------------------

ZONE_LIMIT = 8


def three_zone_picture(cluster: Cluster, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The policy as Cilium's editor draws it: the selected pods in the middle, each
    direction split into this namespace / the cluster / outside the cluster, each
    entry with the workloads of the mirror it matches now."""
    model = engine_cache.engine_cluster(cluster)
    parsed = _parse(obj)
    ns = parsed.namespace
    workloads = [w for w in model.workloads if w.pods]

    def keys(predicate: Any) -> tuple[list[str], int]:
        found = [w.key for w in workloads if predicate(w.representative)]
        return found[:ZONE_LIMIT], max(0, len(found) - ZONE_LIMIT)

    selected, selected_more = keys(
        lambda pod: pod.namespace == ns and parsed.pod_selector.matches(pod.labels)
    )
    out: dict[str, Any] = {
        "namespace": ns,
        "selected": {
            "selector": str(parsed.pod_selector),
            "all": parsed.pod_selector.selects_all,
            "workloads": selected,
            "more": selected_more,
        },
    }
    for direction, _ in RULE_DIRECTIONS:
        affected = direction.capitalize() in parsed.policy_types
        side: dict[str, Any] = {
            "affected": affected,
            "deny_all": affected and not parsed.rules(direction),
            "namespace": [],
            "cluster": [],
            "external": [],
        }
        for i, rule in enumerate(parsed.rules(direction)):
            ports = rule.ports_text
            if not rule.peers:
                for zone, text in (
                    ("namespace", f"every pod in {ns}"),
                    ("cluster", "every pod in every namespace"),
                    ("external", "every address outside the cluster"),
                ):
                    side[zone].append(
                        {
                            "rule": i,
                            "peer": None,
                            "text": text,
                            "ports": ports,
                            "workloads": [],
                            "more": 0,
                        }
                    )
                continue
            for j, peer in enumerate(rule.peers):
                item: dict[str, Any] = {
                    "rule": i,
                    "peer": j,
                    "ports": ports,
                    "workloads": [],
                    "more": 0,
                }
                if peer.ip_block is not None:
                    item["text"] = str(peer.ip_block)
                    side["external"].append(item)
                    continue

                def matches(pod: Any, peer: Any = peer) -> bool:
                    return bool(
                        peer.matches_pod(
                            ns, pod.namespace, pod.labels, model.namespace_labels(pod.namespace)
                        )
                    )

                item["workloads"], item["more"] = keys(matches)
                if peer.namespace_selector is None:
                    item["text"] = f"pods [{peer.pod_selector}] in {ns}"
                    side["namespace"].append(item)
                else:
                    names = sorted(
                        n
                        for n in model.namespaces
                        if peer.namespace_selector.matches(model.namespace_labels(n))
                    )
                    pods = (
                        f"pods [{peer.pod_selector}]"
                        if peer.pod_selector is not None
                        else "all pods"
                    )
                    item["text"] = f"{pods} in namespaces [{peer.namespace_selector}]"
                    item["namespaces"] = names
                    side["cluster"].append(item)
        out[direction] = side
    return out
