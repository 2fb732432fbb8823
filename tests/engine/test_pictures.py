"""`netpolui analyze -o svg|png|html`: Graphviz draws the dot output (golden svg structure),
png is a real image, html is one self-contained page, and a missing `dot` is a sentence."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from policies.engine import analyze, build_cluster, load_paths
from policies.engine.pictures import (
    LARGE_GRAPH_EDGES,
    GraphvizUnavailable,
    render_html,
    render_picture,
)
from policies.engine.reachability import group_reachability

GOLDEN = Path(__file__).parent / "golden" / "three_tier"
ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot cannot be installed here (make test installs it)"
)


def three_tier():
    return analyze(build_cluster(load_paths([GOLDEN / "input"])))


def svg_structure(svg: bytes) -> list[str]:
    """What a reader sees in the drawing: namespace boxes, nodes and edges with their
    labels and ⟨tooltips⟩; coordinates and Graphviz's version are left out."""
    root = ET.fromstring(svg)
    lines = []
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class")
        if kind not in ("cluster", "node", "edge"):
            continue
        title = group.findtext(f"{SVG}title", "")
        texts = " | ".join(t.text or "" for t in group.iter(f"{SVG}text"))
        tooltips = "".join(f" ⟨{a.get(XLINK_TITLE)}⟩" for a in group.iter(f"{SVG}a"))
        lines.append(f"{kind} {title}: {texts}{tooltips}")
    return sorted(lines)


@needs_dot
def test_svg_structure_matches_the_golden_file():
    svg = render_picture(three_tier(), "svg")
    got = "\n".join(svg_structure(svg)) + "\n"
    expected_file = GOLDEN / "svg-structure.txt"
    if os.environ.get("NETPOLUI_UPDATE_GOLDEN"):
        expected_file.write_text(got)
    assert got == expected_file.read_text()


@needs_dot
def test_svg_draws_every_node_and_connection_of_the_analysis():
    reach = three_tier()
    lines = svg_structure(render_picture(reach, "svg"))
    nodes = {line.split(": ")[0].removeprefix("node ") for line in lines if line.startswith("node ")}
    assert {line.split("⟨")[1] for line in lines if line.startswith("node ")} == {
        f"{n.key.split('[')[0]} ({n.kind})⟩" if not n.is_external else f"{n.name}⟩" for n in reach.nodes
    }
    edges = {line.removeprefix("edge ") for line in lines if line.startswith("edge ")}
    assert nodes == {n.key for n in reach.nodes}
    assert edges == {
        f"{c.src.key}->{c.dst.key}: {c.conns} ⟨{c.src.key.split('[')[0]} → {c.dst.key.split('[')[0]}: {c.conns}⟩"
        for c in reach.connections
    }


@needs_dot
def test_tier_groups_are_drawn_inside_their_namespace_box_by_their_label():
    reach = three_tier()
    tiers = group_reachability(
        reach, lambda e: e.key if e.is_external else f"{e.namespace}/app={e.labels.get('app', e.name)}"
    )
    lines = svg_structure(render_picture(tiers, "svg"))
    assert "node shop/app=frontend: app=frontend ⟨shop/app=frontend⟩" in lines
    assert "edge shop/app=frontend->shop/app=backend: TCP 8080 ⟨shop/app=frontend → shop/app=backend: TCP 8080⟩" in lines


@needs_dot
def test_namespaces_with_edges_between_them_draw_without_graphviz_errors():
    # Graphviz 2.43 fails on this graph ("trouble in init_rank") unless dot says newrank.
    reach = analyze(build_cluster(load_paths([ROOT / "policies" / "demo"])))
    lines = svg_structure(render_picture(reach, "svg"))
    assert sum(line.startswith("edge ") for line in lines) == len(reach.connections)


@needs_dot
def test_a_graph_of_a_thousand_edges_is_drawn_within_the_timeout():
    """The demo at pod level (1,035 pairs): dot's unbounded layout passes took over two
    minutes; bounded, every edge is drawn in well under the timeout."""
    reach = analyze(build_cluster(load_paths([ROOT / "policies" / "demo"])), level="pod")
    assert len(reach.connections) > LARGE_GRAPH_EDGES
    lines = svg_structure(render_picture(reach, "svg"))
    assert sum(line.startswith("edge ") for line in lines) == len(reach.connections)


@needs_dot
def test_png_is_an_image_of_the_graph():
    png = render_picture(three_tier(), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 300
    assert height > 200


@needs_dot
def test_html_is_one_self_contained_page_with_graph_and_matrix():
    page = render_picture(three_tier(), "html", title="review of PR 12").decode()
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>review of PR 12</title>" in page
    assert page.count("<svg") == 1
    assert "shop/backend[Deployment]</title>" in page
    for fetch in ("<script", "<link", " src=", "@import", "url("):
        assert fetch not in page
    row = page.split('<th scope="row">shop/frontend[Deployment]</th>')[1].split("</tr>")[0]
    assert '<td class="some" title="shop/frontend[Deployment] =&gt; shop/backend[Deployment]">TCP 8080</td>' in row
    assert '<td class="all"' in page  # the external range and coredns: all connections
    ET.fromstring(page.split('<div class="graph">')[1].split("</div>")[0])  # the svg is well-formed


def test_without_dot_svg_is_a_sentence_and_html_keeps_the_matrix(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizUnavailable, match=r"svg output needs Graphviz's `dot` program: install Graphviz"):
        render_picture(three_tier(), "svg")
    page = render_html(three_tier())
    assert "Graph not drawn: svg output needs Graphviz" in page
    assert '<th scope="row">shop/frontend[Deployment]</th>' in page


def test_cli_without_dot_exits_2_with_the_install_hint(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "policies.cli", "analyze", str(GOLDEN / "input"), "-o", "png"],
        capture_output=True, timeout=60, env=env, cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode().strip() == (
        "netpolui: error: png output needs Graphviz's `dot` program: "
        "install Graphviz (Debian/Ubuntu: apt-get install graphviz; `make run` does it)"
    )


@needs_dot
def test_cli_writes_svg_png_and_html_to_stdout():
    for fmt, start in (("svg", b"<?xml"), ("png", b"\x89PNG"), ("html", b"<!DOCTYPE html>")):
        result = subprocess.run(
            [sys.executable, "-m", "policies.cli", "analyze", str(GOLDEN / "input"), "-o", fmt],
            capture_output=True, timeout=60, cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(start), fmt
