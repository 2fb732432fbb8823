"""The graph page's "Download as SVG/PNG": the very payload the page draws (graph_view.
graph_page: level, grouping, filters, opened namespaces and tiers, address ranges named by
the policies' ipBlocks, edges implied by the ⇥/⇤ badges left out) drawn by Graphviz, with
the page's labels and boxes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import engine
from ..models import Cluster
from . import graph_view
from .payloads import ReachabilityQuery

GRAPH_PICTURE_TIMEOUT_SECONDS = 30.0
OUTSIDE_BOX = "outside the cluster"


class GraphPictureUnavailable(Exception):
    """The graph could not be drawn (Graphviz missing or too slow); the message says why."""


def graph_picture(
    cluster: Cluster,
    query: ReachabilityQuery,
    fmt: str,
    expand: tuple[str, ...] = (),
    expand_tier: tuple[str, ...] = (),
) -> bytes:
    """The graph page's view as svg or png."""
    if fmt not in ("svg", "png"):
        raise ValueError("format must be svg or png")
    payload = graph_view.graph_payload(cluster, query, expand, expand_tier)
    try:
        return engine.graphviz(
            payload_dot(payload),
            "svg" if fmt == "svg" else "png",
            timeout=GRAPH_PICTURE_TIMEOUT_SECONDS,
        )
    except engine.GraphvizUnavailable as exc:
        raise GraphPictureUnavailable(str(exc)) from exc


def payload_dot(payload: Mapping[str, Any]) -> str:
    """The dot text of a graph payload: its nodes with the page's labels in the page's
    boxes, its edges, and a caption counting the edges the badges imply."""
    level = payload["level"]
    nodes = {node["id"]: _endpoint(node) for node in payload["nodes"]}
    connections = [
        engine.Connection(nodes[edge["source"]], nodes[edge["target"]], engine.ConnSet.from_json(edge["conns"]))
        for edge in payload["edges"]
    ]
    picture = engine.Reachability(list(nodes.values()), connections, level=level, direction=payload["direction"])
    implied = int(payload.get("implied_edges") or 0)
    caption = (
        f"⇥ sends anywhere, ⇤ accepts anyone: the {implied} all-ports edge{'s' if implied != 1 else ''} "
        "from a ⇥ node to a ⇤ node are not drawn"
        if implied
        else ""
    )
    return engine.render_dot(
        picture,
        labels={node["id"]: node_label(node, level) for node in payload["nodes"]},
        edge_labels={(edge["source"], edge["target"]): edge_label(edge) for edge in payload["edges"]},
        boxes={node["id"]: node_boxes(node, level) for node in payload["nodes"]},
        caption=caption,
    )


def _endpoint(node: Mapping[str, Any]) -> engine.Endpoint:
    return engine.Endpoint(
        key=node["id"],
        namespace=node.get("namespace") or "",
        name=node.get("name") or node["id"],
        kind=node.get("object_kind") or node["kind"],
        host_network=bool(node.get("host_network")),
        is_external=bool(node["external"]),
    )


def _collapsed_namespace(node: Mapping[str, Any], level: str) -> bool:
    return level == "namespace" and node.get("level") not in ("tier", "workload")


def node_boxes(node: Mapping[str, Any], level: str) -> tuple[str, ...]:
    """The boxes a node sits in, as the page nests them: its namespace (at the namespace
    level only an opened one) and an opened tier; address ranges outside the cluster."""
    if _collapsed_namespace(node, level):
        return ()
    if node["external"]:
        return (OUTSIDE_BOX,)
    if not node.get("namespace"):
        return ()
    tier = node.get("tier") if node.get("level") == "workload" else None
    return (node["namespace"], tier.split("/", 1)[1]) if tier else (node["namespace"],)


def node_label(node: Mapping[str, Any], level: str) -> str:
    """A node's lines as the page writes them (graph.js nodeLabel)."""
    if node["external"]:
        return _external_text(node)
    lines: list[str] = []
    object_kind = node.get("object_kind")
    if _collapsed_namespace(node, level):
        lines += [node["label"], *_member_count(node)]
    elif object_kind and node["kind"] == "Group":
        lines.append(f"{node['name']} · {object_kind}")  # a workload with no tier label
    elif object_kind and level == "pod":
        lines.append(node["name"])
    elif object_kind:
        pods = int(node.get("pods") or 0)
        lines += [node["name"], f"{object_kind} · {pods} pod{'' if pods == 1 else 's'}"]
    else:
        lines += [node["label"], *_member_count(node)]
    open_directions = [d for d in ("ingress", "egress") if not node.get(f"{d}_isolated")]
    if open_directions:
        lines.append("⚠ open: " + ", ".join(open_directions))
    if node.get("host_network"):
        lines.append("H hostNetwork")
    marks = [m for flag, m in (("open_egress", "⇥ sends anywhere"), ("open_ingress", "⇤ accepts anyone")) if node.get(flag)]
    if marks:
        lines.append(" · ".join(marks))
    return "\n".join(lines)


def edge_label(edge: Mapping[str, Any]) -> str:
    """An edge's text as the page writes it: how many pairs it stands for, when several."""
    pairs = int(edge.get("pairs") or 0)
    return f"{pairs} pairs · {edge['label']}" if pairs > 1 else str(edge["label"])


def _member_count(node: Mapping[str, Any]) -> list[str]:
    members = node.get("members")
    if not members:
        return []
    return [f"{len(members)} workload{'' if len(members) == 1 else 's'}"]


def _external_text(node: Mapping[str, Any]) -> str:
    if node.get("ranges"):
        label = str(node["label"])
        if label in ("0.0.0.0/0", "::/0"):
            return f"any address\n{label}"
        return label.replace(" except ", "\nexcept ")
    name = str(node.get("name") or node["id"])
    if name == "0.0.0.0-255.255.255.255" or name.startswith("::-f"):
        return "any address"
    ip_range = node.get("ip_range")
    return f"{ip_range[0]} –\n{ip_range[1]}" if ip_range else name
