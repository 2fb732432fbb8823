"""Golden tests: every output format, and np-guard compatibility of the txt format."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from policies.engine import analyze, build_cluster, load_paths, render

GOLDEN = Path(__file__).parent / "golden"
SNAPSHOTS = {"json", "dot"}  # reviewed snapshots; the others are written by hand
CASES = sorted(
    (case.name, expected.suffix[1:])
    for case in GOLDEN.iterdir()
    if case.is_dir()
    for expected in case.glob("expected.*")
)


@pytest.mark.parametrize(("case", "fmt"), CASES, ids=[f"{c}-{f}" for c, f in CASES])
def test_golden_output(case: str, fmt: str) -> None:
    reach = analyze(build_cluster(load_paths([GOLDEN / case / "input"])))
    got = render(reach, fmt)  # type: ignore[arg-type]
    expected_file = GOLDEN / case / f"expected.{fmt}"
    if os.environ.get("NETPOLUI_UPDATE_GOLDEN") and fmt in SNAPSHOTS:
        expected_file.write_text(got)
    assert got == expected_file.read_text()


def test_every_format_has_a_golden_file() -> None:
    assert {f for _, f in CASES} >= {"txt", "json", "csv", "md", "dot"}
