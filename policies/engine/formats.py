"""Output formats of a Reachability: txt, json, csv, md, dot.

``render(reach, fmt, *, explain=None) -> str``. ``txt`` is np-guard netpol-analyzer's
``list -o txt`` connection list, byte for byte for NetworkPolicy inputs: one
``SRC => DST : CONNS`` line per pair, sorted. ``csv`` and ``md`` use np-guard's
``src,dst,conn`` columns; ``json`` carries the same pairs structured plus every node
(with its hostNetwork and isolation marks); ``dot`` is a Graphviz digraph with one
cluster per namespace. With ``explain=cluster`` each pair is annotated with the policies
and rules that allow it (txt, md and json).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Literal

from .cluster import Cluster
from .explain import Explanation, explain_connection
from .reachability import Connection, Reachability

Format = Literal["txt", "json", "csv", "md", "dot"]
FORMATS: tuple[str, ...] = ("txt", "json", "csv", "md", "dot")


def _explanations(reach: Reachability, cluster: Cluster | None) -> list[Explanation | None]:
    if cluster is None:
        return [None] * len(reach.connections)
    return [explain_connection(cluster, c.src.key, c.dst.key) for c in reach.connections]


def render_txt(reach: Reachability, explain: Cluster | None = None) -> str:
    out = []
    for c, ex in zip(reach.connections, _explanations(reach, explain), strict=True):
        out.append(f"{c.src.key} => {c.dst.key} : {c.conns}\n")
        if ex is not None:
            out.append(f"    egress: {ex.egress.summary()}\n")
            out.append(f"    ingress: {ex.ingress.summary()}\n")
            out.extend(f"    note: {n}\n" for n in ex.notes)
    return "".join(out)


def render_json(reach: Reachability, explain: Cluster | None = None) -> str:
    def pair(c: Connection, ex: Explanation | None) -> dict[str, object]:
        item: dict[str, object] = {
            "src": c.src.key,
            "dst": c.dst.key,
            "conn": str(c.conns),
            "conns": c.conns.to_json(),
        }
        if ex is not None:
            item["explanation"] = {
                "egress": ex.egress.to_dict(),
                "ingress": ex.ingress.to_dict(),
                "notes": list(ex.notes),
            }
        return item

    doc = {
        "level": reach.level,
        "direction": reach.direction,
        "nodes": [n.to_dict() for n in reach.nodes],
        "connections": [
            pair(c, ex)
            for c, ex in zip(reach.connections, _explanations(reach, explain), strict=True)
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def render_csv(reach: Reachability) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["src", "dst", "conn"])
    for c in reach.connections:
        writer.writerow([c.src.key, c.dst.key, str(c.conns)])
    return buf.getvalue()


def render_md(reach: Reachability, explain: Cluster | None = None) -> str:
    if explain is None:
        lines = ["| src | dst | conn |", "|-----|-----|------|"]
        lines.extend(f"| {c.src.key} | {c.dst.key} | {c.conns} |" for c in reach.connections)
    else:
        lines = ["| src | dst | conn | egress | ingress |", "|-----|-----|------|------|------|"]
        for c, ex in zip(reach.connections, _explanations(reach, explain), strict=True):
            assert ex is not None
            lines.append(
                f"| {c.src.key} | {c.dst.key} | {c.conns} | {ex.egress.summary()} | {ex.ingress.summary()} |"
            )
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(reach: Reachability) -> str:
    # newrank: Graphviz 2.43 (Debian 12, Ubuntu 22.04) fails on namespace clusters with
    # edges between them ("trouble in init_rank") under the old ranking.
    lines = ["digraph {", "\tnewrank=true"]
    by_ns: dict[str, list[str]] = {}
    external: list[str] = []
    for n in reach.nodes:
        if n.is_external:
            external.append(
                f'\t{_dot_quote(n.key)} [label={_dot_quote(n.key)} color="red2" fontcolor="red2"]'
            )
            continue
        # A tier or namespace group sits in its namespace's box: its name says the rest.
        label = n.name.removeprefix(f"{n.namespace}/") if n.kind == "Group" else f"{n.name}[{n.kind}]"
        style = " style=dashed" if n.host_network else ""
        by_ns.setdefault(n.namespace, []).append(
            f'\t\t{_dot_quote(n.key)} [label={_dot_quote(label)} color="blue" fontcolor="blue"{style}]'
        )
    for ns in sorted(by_ns):
        lines.append(f"\tsubgraph {_dot_quote('cluster_' + ns.replace('-', '_'))} {{")
        lines.extend(sorted(by_ns[ns]))
        lines.append(f"\t\tlabel={_dot_quote(ns)}")
        lines.append("\t}")
    lines.extend(sorted(external))
    for c in reach.connections:
        lines.append(
            f"\t{_dot_quote(c.src.key)} -> {_dot_quote(c.dst.key)} "
            f'[label={_dot_quote(str(c.conns))} color="gold2" fontcolor="darkgreen"]'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(reach: Reachability, fmt: Format, *, explain: Cluster | None = None) -> str:
    """The reachability in one of FORMATS; `explain` annotates pairs (txt, md, json)."""
    if fmt == "txt":
        return render_txt(reach, explain)
    if fmt == "json":
        return render_json(reach, explain)
    if fmt == "csv":
        return render_csv(reach)
    if fmt == "md":
        return render_md(reach, explain)
    if fmt == "dot":
        return render_dot(reach)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
