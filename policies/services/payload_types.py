"""The shapes of the payloads services hand to pages and the API, as TypedDicts.

The reachability payload (``payloads.reachability``), the details of one graph node
(``pages.node_details``) and the what-if of drafts (``drafts.what_if``). mypy checks the
code that builds them; the API's OpenAPI schema (``api/schemas.py``) describes the same
shapes to clients, and a test holds live answers to it.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from ..engine.ports import ConnSetJSON

# --- reachability -------------------------------------------------------------------------------


class KeyParts(TypedDict):
    """A node key's parts (payloads.key_parts), so clients never parse keys."""

    name: str  # the object's name, an external key's range, or the group's name
    object_kind: str  # the kind in an object key ("" when the key names no object)


class NodePayload(TypedDict):
    """One endpoint of the graph or matrix."""

    id: str  # the endpoint key: ns/name[Kind], first-last[External], or a group's name
    label: str
    kind: str  # the endpoint's kind; "Group" for tiers and namespaces
    namespace: str
    name: str  # the object's name, an external key's range, or the group's name
    object_kind: str  # the kind in an object key ("" when the key names no object)
    labels: dict[str, str]
    pods: int
    host_network: bool
    ingress_isolated: bool
    egress_isolated: bool
    external: bool
    ip_range: list[str] | None
    external_role: NotRequired[str]  # external ranges: source, destination or both
    members: NotRequired[list[str]]  # tiers and namespaces: the member keys


class EdgePayload(TypedDict):
    source: str
    target: str
    conns: ConnSetJSON
    label: str  # engine.conns_text(conns)


class ReachabilityCounts(TypedDict):
    nodes: int
    edges: int


class ReachabilityPayload(TypedDict):
    cluster: int
    state_version: int
    level: str
    direction: str
    group_by: str | None
    tier_keys: list[str]
    nodes: list[NodePayload]
    counts: ReachabilityCounts
    edges: NotRequired[list[EdgePayload]]  # format=edges
    matrix: NotRequired[list[list[ConnSetJSON | None]]]  # format=matrix: [src][dst]


# --- one node's details -------------------------------------------------------------------------


class MemberRow(TypedDict):
    key: str
    kind: str
    pods: int
    host_network: bool
    external: bool
    ip_range: tuple[str, str] | None
    ingress_isolated: bool
    egress_isolated: bool
    ingress_policies: list[str]
    egress_policies: list[str]


class SelectingPolicy(TypedDict):
    key: str  # ns/name
    id: int | None  # the mirrored row, for links
    ingress: bool
    egress: bool


class PeerRow(TypedDict):
    peer: str
    conns: ConnSetJSON
    label: str
    pair_count: int
    explanations: list[dict[str, Any]]  # engine explanations, annotated for pages
    rules: list[dict[str, Any]]  # the rules that allow the connection, once each
    open_sides: dict[str, str]  # direction -> why it is open (no policy selects)
    tier_rules: NotRequired[list[dict[str, Any]]]  # tier_pages.annotate_node_details: deciding tier rules


class NodeDetails(TypedDict):
    id: str
    level: str
    group_by: str
    direction: str
    members: list[MemberRow]
    policies: list[SelectingPolicy]
    policy_ids: dict[str, int]
    inbound: list[PeerRow]
    outbound: list[PeerRow]
    truncated: bool
    tier_policies: NotRequired[list[dict[str, Any]]]  # tier_pages.annotate_node_details
    address_ranges: NotRequired[dict[str, Any]]  # graph_view.range_panel, for a range node


# --- what-if -------------------------------------------------------------------------------------


class ConnectionChange(TypedDict):
    src: str
    dst: str
    src_external: bool
    dst_external: bool
    conns: ConnSetJSON
    ports: str  # engine.conns_text(conns)
    change: str  # new pair, more ports, pair gone, fewer ports


class DraftEffect(TypedDict):
    key: str  # ns/name
    replaces_live: bool
    same_as_live: bool
    selects: list[str]  # workload keys


class RemovedPolicy(TypedDict):
    key: str  # ns/name of the live policy a deletion draft removes
    selects: list[str]  # workload keys it selects now


class WhatIfCounts(TypedDict):
    allowed: int
    denied: int
    added_pairs: int
    removed_pairs: int
    changed_pairs: int


class IsolationChange(TypedDict):
    workload: str
    ingress: list[bool]  # [before, after]
    egress: list[bool]
    host_network: bool


class WhatIf(TypedDict):
    cluster: int
    state_version: int
    policies: list[DraftEffect]
    removals: list[RemovedPolicy]
    counts: WhatIfCounts
    is_empty: bool
    allowed: list[ConnectionChange]
    denied: list[ConnectionChange]
    truncated: bool
    isolation: list[IsolationChange]
    dns: list[str]  # workloads that could send DNS queries before and cannot after
    text: str
