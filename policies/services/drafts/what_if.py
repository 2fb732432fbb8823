"""What-if: ``what_if(cluster, objs)`` -- the reachability change if the policies were
applied, from the engine's Analyzer.with_policies_changed and diff_reachability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ... import engine
from ...models import Cluster
from .. import engine_cache
from ..payload_types import ConnectionChange, DraftEffect, IsolationChange, WhatIf
from .errors import DraftError, DraftInvalid
from .preview import stored_form, validate

WHAT_IF_LIMIT = 500

# --- what-if ----------------------------------------------------------------------------------


def _conn_entry(
    src: engine.Endpoint, dst: engine.Endpoint, conns: engine.ConnSet, change: str
) -> ConnectionChange:
    return {
        "src": src.key,
        "dst": dst.key,
        "src_external": src.is_external,
        "dst_external": dst.is_external,
        "conns": conns.to_json(),
        "ports": str(conns),
        "change": change,
    }


def what_if(
    cluster: Cluster,
    objs: Sequence[Mapping[str, Any]],
    *,
    removals: Sequence[str] = (),
    limit: int = WHAT_IF_LIMIT,
) -> WhatIf:
    """How workload reachability changes if `objs` were applied (each added, or
    replacing the live policy of the same namespace/name) and the live policies
    `removals` ("namespace/name") deleted.

    Raises DraftInvalid when a policy would be rejected by the API server, DraftError
    when a policy to delete is not in the cluster.
    """
    prepared = [stored_form(o) for o in objs]
    errors = [e for o in prepared for e in validate(o)]
    if errors:
        raise DraftInvalid(errors)
    base = engine_cache.analyzer(cluster)
    missing = [key for key in removals if base.cluster.policy(key) is None]
    if missing:
        raise DraftError(f"no live policy {', '.join(missing)} in cluster {cluster.name} to delete")
    # One derivation for all of them (a later draft of the same name wins, as in order).
    changed = base.with_policies_changed(prepared, removals)
    before, changed = engine.on_common_families(base, changed)  # drafts may bring IPv6 ipBlocks
    old = engine_cache.base_reachability(cluster, "workload", "combined") if before is base else before.analyze()
    new = changed.analyze(level="workload", direction="combined")
    diff = engine.diff_reachability(old, new)
    allowed, denied = _connection_changes(diff)
    text, text_cut = _text(diff, limit)
    return {
        "cluster": cluster.pk,
        "state_version": cluster.state_version,
        "policies": [_draft_effect(base, changed, obj) for obj in prepared],
        "removals": [
            {"key": key, "selects": sorted({p.workload_key for p in base.cluster.pods_selected_by(key)})}
            for key in removals
        ],
        "counts": {
            "allowed": len(allowed),
            "denied": len(denied),
            "added_pairs": len(diff.added),
            "removed_pairs": len(diff.removed),
            "changed_pairs": len(diff.changed),
        },
        "is_empty": diff.is_empty,
        "allowed": allowed[:limit],
        "denied": denied[:limit],
        "truncated": len(allowed) > limit or len(denied) > limit or text_cut,
        "isolation": _isolation_changes(old, new),
        "dns": _dns_losses(old, new),
        "text": text,
    }


def _text(diff: engine.ReachabilityDiff, limit: int) -> tuple[str, bool]:
    """The diff as `netpolui diff` prints it, its first `limit` differences at most and a
    last line counting the others; and whether it was cut."""
    lines = diff.render_text().splitlines()
    if len(lines) - 1 <= limit:  # the header, then one line per difference
        return "".join(f"{line}\n" for line in lines), False
    more = len(lines) - 1 - limit
    shown = [*lines[: 1 + limit], f"... and {more} more differences (the first {limit} are shown)"]
    return "".join(f"{line}\n" for line in shown), True


def _connection_changes(diff: engine.ReachabilityDiff) -> tuple[list[ConnectionChange], list[ConnectionChange]]:
    """(newly allowed, newly denied) connections, by pair and port, sorted."""
    allowed = [_conn_entry(c.src, c.dst, c.conns, "new pair") for c in diff.added]
    denied = [_conn_entry(c.src, c.dst, c.conns, "pair gone") for c in diff.removed]
    for c in diff.changed:
        src, dst = c.src_endpoint, c.dst_endpoint
        assert src is not None
        assert dst is not None
        more = c.new_conns - c.old_conns
        less = c.old_conns - c.new_conns
        if not more.is_empty:
            allowed.append(_conn_entry(src, dst, more, "more ports"))
        if not less.is_empty:
            denied.append(_conn_entry(src, dst, less, "fewer ports"))
    allowed.sort(key=lambda e: (e["src"], e["dst"]))
    denied.sort(key=lambda e: (e["src"], e["dst"]))
    return allowed, denied


def _draft_effect(base: engine.Analyzer, changed: engine.Analyzer, obj: Mapping[str, Any]) -> DraftEffect:
    """What one draft does: whether it replaces a live policy (and changes it), and which
    workloads it selects."""
    meta = obj["metadata"]
    key = f"{meta['namespace']}/{meta['name']}"
    live = base.cluster.policy(key)
    return {
        "key": key,
        "replaces_live": live is not None,
        "same_as_live": live is not None and engine.normalize_policy(live.raw) == engine.normalize_policy(obj),
        "selects": sorted({p.workload_key for p in changed.cluster.pods_selected_by(key)}),
    }


def what_if_context(
    cluster: Cluster, objs: Sequence[Mapping[str, Any]], removals: Sequence[str] = ()
) -> dict[str, Any]:
    """What the editor's pages show: ``what_if`` (the change, or None with nothing to
    check) and ``what_if_error`` (why it could not be computed, else "")."""
    if not objs and not removals:
        return {"what_if": None, "what_if_error": ""}
    try:
        return {"what_if": what_if(cluster, objs, removals=removals), "what_if_error": ""}
    except DraftError as exc:
        return {"what_if": None, "what_if_error": str(exc)}


def _isolation_changes(old: engine.Reachability, new: engine.Reachability) -> list[IsolationChange]:
    out: list[IsolationChange] = []
    for node in new.nodes:
        before = old.node(node.key)
        if node.is_external or before is None:
            continue
        if (before.ingress_isolated, before.egress_isolated) != (
            node.ingress_isolated,
            node.egress_isolated,
        ):
            out.append(
                {
                    "workload": node.key,
                    "ingress": [before.ingress_isolated, node.ingress_isolated],
                    "egress": [before.egress_isolated, node.egress_isolated],
                    "host_network": node.host_network,
                }
            )
    return out


def _dns_senders(reach: engine.Reachability) -> set[str]:
    # Address ranges are not workloads, and their keys change whenever an ipBlock cuts
    # the address space differently: only workloads can lose DNS.
    return {
        c.src.key
        for c in reach.connections
        if not c.src.is_external and c.conns.allows("UDP", 53)
    }


def _dns_losses(old: engine.Reachability, new: engine.Reachability) -> list[str]:
    """Workloads that could send DNS queries (UDP 53) somewhere before and cannot after."""
    return sorted(_dns_senders(old) - _dns_senders(new))
