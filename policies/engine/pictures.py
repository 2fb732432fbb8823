"""Pictures of a Reachability: svg and png drawn by Graphviz from the dot output, and one
self-contained html page (graph and matrix) for sharing in reviews.

``render_picture(reach, fmt, *, title) -> bytes`` with fmt in PICTURE_FORMATS. Graphviz's
``dot`` program does the drawing (Debian package ``graphviz``); without it svg and png
raise GraphvizUnavailable with what to install, and html keeps the matrix and says the
graph is missing. Nothing here leaves the machine: the page has no scripts, fonts or links.
"""

from __future__ import annotations

from typing import Literal

from .formats import render_dot
from .ports import ALL_CONNECTIONS
from .reachability import Reachability

PictureFormat = Literal["svg", "png", "html"]
PICTURE_FORMATS: tuple[str, ...] = ("svg", "png", "html")
DOT_TIMEOUT_SECONDS = 120.0
# Beyond this many edges dot's network simplex passes are bounded: the demo's 1,035 pod
# pairs take 19 s instead of over two minutes, in a layout only slightly less tidy.
LARGE_GRAPH_EDGES = 500
BOUNDED_LAYOUT = ("-Gnslimit=2", "-Gnslimit1=2")
INSTALL_HINT = "install Graphviz (Debian/Ubuntu: apt-get install graphviz; `make run` does it)"


class GraphvizUnavailable(Exception):
    """Graphviz's `dot` is missing or could not draw the graph; the message says why."""


def graphviz(dot: str, fmt: Literal["svg", "png"], *, timeout: float = DOT_TIMEOUT_SECONDS) -> bytes:
    """`dot -T<fmt>` on the dot text."""
    # subprocess and html load here: every `netpolui` run imports this module, few draw.
    import shutil
    import subprocess

    program = shutil.which("dot")
    if program is None:
        raise GraphvizUnavailable(f"{fmt} output needs Graphviz's `dot` program: {INSTALL_HINT}")
    command = [program, f"-T{fmt}"]
    if dot.count(" -> ") > LARGE_GRAPH_EDGES:
        command += BOUNDED_LAYOUT
    try:
        done = subprocess.run(command, input=dot.encode(), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise GraphvizUnavailable(
            f"Graphviz took over {timeout:.0f} s to draw {dot.count(' -> ')} edges: "
            "filter by namespace or draw a coarser level"
        ) from exc
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizUnavailable(
            f"Graphviz could not draw the graph: {detail[0] if detail else f'exit {done.returncode}'}"
        )
    return done.stdout


def render_picture(reach: Reachability, fmt: PictureFormat, *, title: str = "netpolui") -> bytes:
    """The reachability as svg, png or a self-contained html page."""
    if fmt in ("svg", "png"):
        return graphviz(render_dot(reach), "svg" if fmt == "svg" else "png")
    if fmt == "html":
        return render_html(reach, title=title).encode()
    raise ValueError(f"unknown picture format {fmt!r}: use one of {', '.join(PICTURE_FORMATS)}")


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:2rem}
.graph{overflow:auto;border:1px solid #d0d7de;padding:.5rem}.graph svg{max-width:100%;height:auto}
table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:.2rem .4rem;vertical-align:top}
thead th{position:sticky;top:0;background:#f6f8fa}tbody th{text-align:left;background:#f6f8fa}
td.all{background:#0b4f8a;color:#fff}td.some{background:#cfe3f7}
.matrix{overflow:auto}.note{color:#57606a}
"""


def render_html(reach: Reachability, *, title: str = "netpolui", svg: str | None = None) -> str:
    """One page: the graph (inline svg; drawn here unless given) and the matrix, sources
    as rows and destinations as columns, each cell the allowed ports in words."""
    note = ""
    if svg is None:
        try:
            svg = graphviz(render_dot(reach), "svg").decode()
        except GraphvizUnavailable as exc:
            svg, note = "", str(exc)
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2 :]
    svg = svg.strip()
    if svg.startswith("<!DOCTYPE"):
        svg = svg[svg.index(">") + 1 :].strip()

    sources = sorted({c.src.key for c in reach.connections})
    targets = sorted({c.dst.key for c in reach.connections})
    cells = {(c.src.key, c.dst.key): c.conns for c in reach.connections}
    from html import escape as esc
    rows = []
    for src in sources:
        tds = []
        for dst in targets:
            conns = cells.get((src, dst))
            if conns is None or conns.is_empty:
                tds.append("<td></td>")
                continue
            text = str(conns)
            kind = "all" if text == ALL_CONNECTIONS else "some"
            tds.append(f'<td class="{kind}" title="{esc(src)} =&gt; {esc(dst)}">{esc(text)}</td>')
        rows.append(f"<tr><th scope=\"row\">{esc(src)}</th>{''.join(tds)}</tr>")
    head = "".join(f'<th scope="col">{esc(t)}</th>' for t in targets)
    matrix = (
        f'<div class="matrix"><table><thead><tr><th>source \\ destination</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        if reach.connections
        else '<p class="note">No allowed connections.</p>'
    )
    graph = f'<div class="graph">{svg}</div>' if svg else f'<p class="note">Graph not drawn: {esc(note)}</p>'
    summary = (
        f"{len(reach.nodes)} endpoints, {len(reach.connections)} allowed connections "
        f"({esc(reach.level)} level, {esc(reach.direction)}). "
        "Dark cells: all connections; light cells: the ports named; empty: none."
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n"
        f"<h1>{esc(title)}</h1>\n<p>{summary}</p>\n"
        f"<h2>Graph</h2>\n{graph}\n<h2>Matrix</h2>\n{matrix}\n"
        "</body></html>\n"
    )
