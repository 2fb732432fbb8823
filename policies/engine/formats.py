"""Output formats of a Reachability: txt, json, csv, md, dot.

``render(reach, fmt, *, explain=None) -> str``. ``txt`` is np-guard netpol-analyzer's
``list -o txt`` connection list, byte for byte for NetworkPolicy inputs: one
``SRC => DST : CONNS`` line per pair, sorted. ``csv`` and ``md`` use np-guard's
``src,dst,conn`` columns; ``json`` carries the same pairs structured plus every node
(with its hostNetwork and isolation marks); ``dot`` is a Graphviz digraph with one
cluster per namespace. With ``explain=cluster`` each pair is annotated with the policies
and rules that allow it (txt, md and json).

``write(source, fmt, out, *, focus=None)`` streams the same text row by row to a file
from a Reachability or, without any Connection object, from a ``PairTable`` (the CLI on
large clusters): each destination's text is made once per ConnSet and shared by every
source row, and a row is written with one join.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Literal, TextIO

from .cluster import Cluster
from .explain import Explanation, explain_connection
from .pairs import PairTable
from .ports import ConnSet
from .reachability import Connection, Endpoint, Reachability

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


def render(reach: Reachability, fmt: Format, *, explain: Cluster | None = None) -> str:
    """The reachability in one of FORMATS; `explain` annotates pairs (txt, md, json)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if explain is not None and fmt in ("txt", "json", "md"):
        if fmt == "txt":
            return render_txt(reach, explain)
        if fmt == "json":
            return render_json(reach, explain)
        return render_md(reach, explain)
    buf = io.StringIO()
    write(reach, fmt, buf)
    return buf.getvalue()


# -- streaming ------------------------------------------------------------------------------

Piece = Callable[[Endpoint, ConnSet], str]


def _rows(
    source: Reachability | PairTable, piece: Piece, focus: frozenset[int] | None
) -> Iterator[tuple[Endpoint, list[str]]]:
    """(source endpoint, the piece of each of its pairs) row after row."""
    if isinstance(source, PairTable):
        yield from source.rows(piece, focus=focus)
        return
    made: dict[tuple[str, ConnSet], str] = {}
    src: Endpoint | None = None
    row: list[str] = []
    for c in source.connections:
        if c.src is not src and (src is None or c.src.key != src.key):
            if row:
                assert src is not None
                yield src, row
            src, row = c.src, []
        k = (c.dst.key, c.conns)
        text = made.get(k)
        if text is None:
            text = made[k] = piece(c.dst, c.conns)
        row.append(text)
    if row:
        assert src is not None
        yield src, row


def _conn_text() -> Callable[[ConnSet], str]:
    texts: dict[ConnSet, str] = {}

    def text(conns: ConnSet) -> str:
        found = texts.get(conns)
        if found is None:
            found = texts[conns] = str(conns)
        return found

    return text


def _csv_field(value: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([value, ""])
    return buf.getvalue()[:-2]


def _json_item_indent(text: str) -> str:
    """A value json.dumps(indent=2) wrote at the top, as it reads two levels down."""
    return text.replace("\n", "\n    ")


def write(
    source: Reachability | PairTable,
    fmt: Format,
    out: TextIO,
    *,
    focus: frozenset[int] | None = None,
) -> int:
    """Write `source` in `fmt` to `out` row by row: the text `render` returns (without
    explanations). `focus` (ranks of a PairTable) keeps pairs with one end among them.
    Returns how many pairs were written."""
    text = _conn_text()
    written = 0
    if fmt == "txt":
        for src, row in _rows(source, lambda d, c: f"{d.key} : {text(c)}\n", focus):
            prefix = f"{src.key} => "
            out.write(prefix + prefix.join(row))
            written += len(row)
    elif fmt == "csv":
        out.write("src,dst,conn\n")
        piece: Piece = lambda d, c: f"{_csv_field(d.key)},{_csv_field(text(c))}\n"  # noqa: E731
        for src, row in _rows(source, piece, focus):
            prefix = _csv_field(src.key) + ","
            out.write(prefix + prefix.join(row))
            written += len(row)
    elif fmt == "md":
        out.write("| src | dst | conn |\n|-----|-----|------|\n")
        for src, row in _rows(source, lambda d, c: f"{d.key} | {text(c)} |\n", focus):
            prefix = f"| {src.key} | "
            out.write(prefix + prefix.join(row))
            written += len(row)
    elif fmt == "dot":
        head, tail = _dot_frame(source.nodes)
        out.write(head)
        piece = lambda d, c: (  # noqa: E731
            f"{_dot_quote(d.key)} [label={_dot_quote(text(c))} "
            'color="gold2" fontcolor="darkgreen"]\n'
        )
        for src, row in _rows(source, piece, focus):
            prefix = f"\t{_dot_quote(src.key)} -> "
            out.write(prefix + prefix.join(row))
            written += len(row)
        out.write(tail)
    elif fmt == "json":
        written = _write_json(source, out, focus, text)
    else:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return written


def _write_json(
    source: Reachability | PairTable,
    out: TextIO,
    focus: frozenset[int] | None,
    text: Callable[[ConnSet], str],
) -> int:
    marker = "@@connections@@"
    doc = {
        "level": source.level,
        "direction": source.direction,
        "nodes": [n.to_dict() for n in source.nodes],
        "connections": [marker],
    }
    head, tail = json.dumps(doc, indent=2).rsplit(json.dumps(marker), 1)

    def piece(d: Endpoint, c: ConnSet) -> str:
        item = json.dumps({"dst": d.key, "conn": text(c), "conns": c.to_json()}, indent=2)
        return "      " + _json_item_indent(item[4:])  # without its opening "{\n  "

    rows = _rows(source, piece, focus)
    first = next(rows, None)
    if first is None:
        # json.dumps writes an empty list on one line.
        out.write(head.rsplit("[", 1)[0] + "[]" + tail.split("]", 1)[1] + "\n")
        return 0
    out.write(head)
    sep = ""
    written = 0
    for src, row in _chain_first(first, rows):
        prefix = '{\n      "src": ' + json.dumps(src.key) + ",\n"
        out.write(sep + prefix + (",\n    " + prefix).join(row))
        sep = ",\n    "
        written += len(row)
    out.write(tail + "\n")
    return written


def _chain_first(
    first: tuple[Endpoint, list[str]], rest: Iterator[tuple[Endpoint, list[str]]]
) -> Iterator[tuple[Endpoint, list[str]]]:
    yield first
    yield from rest


def render_dot(
    reach: Reachability,
    *,
    labels: Mapping[str, str] | None = None,
    edge_labels: Mapping[tuple[str, str], str] | None = None,
    boxes: Mapping[str, tuple[str, ...]] | None = None,
    caption: str = "",
) -> str:
    """The dot output drawn as a caller shows it: `labels` (node key -> text, lines split
    by newlines) and `edge_labels` ((source key, destination key) -> text) replace the
    default labels, `boxes` (node key -> the boxes it sits in, outermost first; `()` for
    none) replace the namespace boxes, and `caption` is written under the graph."""
    head, tail = _dot_frame(reach.nodes, labels or {}, boxes, caption, tooltips=True)
    edge_labels = edge_labels or {}
    edges = (
        _dot_edge(c, edge_labels.get((c.src.key, c.dst.key)) or str(c.conns)) for c in reach.connections
    )
    return head + "".join(edges) + tail


def _dot_edge(c: Connection, label: str) -> str:
    tooltip = f"{_endpoint_name(c.src)} → {_endpoint_name(c.dst)}: {label}"
    return (
        f"\t{_dot_quote(c.src.key)} -> {_dot_quote(c.dst.key)} "
        f"[label={_dot_quote(label)} tooltip={_dot_quote(tooltip)} "
        'color="gold2" fontcolor="darkgreen"]\n'
    )


def _endpoint_title(n: Endpoint) -> str:
    """An endpoint as a reader names it: `shop/frontend (Deployment)`, an address range or
    a group by its name."""
    if n.is_external or n.kind == "Group":
        return _endpoint_name(n)
    return f"{_endpoint_name(n)} ({n.kind})"


def _endpoint_name(n: Endpoint) -> str:
    if n.is_external or not n.namespace or n.name.startswith(f"{n.namespace}/"):
        return n.name
    return f"{n.namespace}/{n.name}"


def _default_label(n: Endpoint) -> str:
    # A tier or namespace group sits in its namespace's box: its name says the rest.
    if n.is_external:
        return n.key
    return n.name.removeprefix(f"{n.namespace}/") if n.kind == "Group" else f"{n.name}[{n.kind}]"


def _dot_frame(
    nodes: list[Endpoint],
    labels: Mapping[str, str] | None = None,
    boxes: Mapping[str, tuple[str, ...]] | None = None,
    caption: str = "",
    *,
    tooltips: bool = False,
) -> tuple[str, str]:
    """The dot text before the edges (graph, boxes, ranges) and after. By default every
    endpoint of a namespace sits in that namespace's box and address ranges outside any.
    Pictures give each node a tooltip in words; `-o dot` stays netpol-analyzer's shape."""
    # newrank: Graphviz 2.43 (Debian 12, Ubuntu 22.04) fails on namespace clusters with
    # edges between them ("trouble in init_rank") under the old ranking.
    lines = ["digraph {", "\tnewrank=true"]
    if caption:
        lines.append(f"\tlabel={_dot_quote(caption)} labelloc=b")
    labels = labels or {}
    root = _Box()
    for n in nodes:
        label = labels.get(n.key) or _default_label(n)
        head = f"{_dot_quote(n.key)} [label={_dot_quote(label)}"
        if tooltips:
            head += f" tooltip={_dot_quote(_endpoint_title(n))}"
        if n.is_external:
            line = f'{head} color="red2" fontcolor="red2"]'
        else:
            style = " style=dashed" if n.host_network else ""
            line = f'{head} color="blue" fontcolor="blue"{style}]'
        if boxes is not None:
            path = boxes.get(n.key, ())
        else:
            path = (n.namespace,) if n.namespace and not n.is_external else ()
        root.inside(path).nodes.append(line)
    root.write(lines, "\t", "cluster")
    return "\n".join(lines) + "\n", "}\n"


class _Box:
    """A dot cluster (or the whole graph): its node lines and the boxes inside it."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.boxes: dict[str, _Box] = {}

    def inside(self, path: tuple[str, ...]) -> _Box:
        box = self
        for name in path:
            box = box.boxes.setdefault(name, _Box())
        return box

    def write(self, lines: list[str], indent: str, prefix: str) -> None:
        for name in sorted(self.boxes):
            cluster_id = f"{prefix}_{name}".replace("-", "_")
            lines.append(f"{indent}subgraph {_dot_quote(cluster_id)} {{")
            self.boxes[name].write(lines, indent + "\t", cluster_id)
            lines.append(f"{indent}\tlabel={_dot_quote(name)}")
            lines.append(f"{indent}}}")
        lines.extend(f"{indent}{line}" for line in sorted(self.nodes))
