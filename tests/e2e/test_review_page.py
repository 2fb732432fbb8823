"""`netpolui analyze -o html` opened in headless Chromium with the network off: the one file
shows the graph and the matrix and asks for nothing else."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz cannot be installed here (make test installs it)"),
]

ROOT = Path(__file__).resolve().parents[2]
INPUT = ROOT / "tests" / "engine" / "golden" / "three_tier" / "input"


def test_the_review_page_shows_graph_and_matrix_offline(browser, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "policies.cli", "analyze", str(INPUT), "-o", "html"],
        capture_output=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    page_file = tmp_path / "review.html"
    page_file.write_bytes(result.stdout)

    context = browser.new_context(offline=True, java_script_enabled=False)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.goto(page_file.as_uri())

    graph = page.locator(".graph svg")
    expect(graph).to_be_visible()
    expect(graph.locator("g.node", has_text="backend[Deployment]")).to_have_count(1)
    expect(graph.locator("g.edge", has_text="TCP 8080")).not_to_have_count(0)
    box = graph.bounding_box()
    assert box is not None
    assert box["width"] > 200
    assert box["height"] > 100

    matrix = page.get_by_role("table")
    expect(matrix).to_be_visible()
    row = matrix.get_by_role("row").filter(has=page.get_by_role("rowheader", name="shop/frontend[Deployment]"))
    expect(row.get_by_role("cell", name="TCP 8080")).to_be_visible()

    assert requests == [page_file.as_uri()]  # the file itself, nothing else
    context.close()
