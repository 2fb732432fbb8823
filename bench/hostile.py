"""Hostile YAML through the CLI: an alias bomb, a merge-key bomb, a recursive alias,
900-deep and million-deep nesting, a non-UTF-8 file and a 50 MB file. Each must be
refused within a second (the reader's time, median of three, in process) and the CLI
run must end in exit 2 well under 400 MB (peak RSS of the whole process).

Run this part alone with
`python -c 'from bench import hostile, __main__ as m; m.print_table(hostile.run())'`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Figure
from policies.engine import ManifestError, load_paths
from tests.hostile import HOSTILE_TEXT, NON_UTF8


def _run_cli(path: Path) -> tuple[int, float, float]:
    """(exit status, seconds, peak RSS in MiB) of `netpolui analyze PATH`."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "policies.engine.cli", "analyze", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, elapsed, usage.ru_maxrss / 1024


def _refusal_seconds(path: Path) -> float:
    """How long the reader takes to refuse the file (median of three)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        try:
            load_paths([path])
        except ManifestError:
            pass
        else:
            raise SystemExit(f"{path} was accepted")
        times.append(time.perf_counter() - started)
    return sorted(times)[1]


def run() -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        cases = {name: text.encode() for name, (text, _) in HOSTILE_TEXT.items()}
        cases["non-UTF-8"] = NON_UTF8
        for name, data in cases.items():
            path = directory / "input.yaml"
            path.write_bytes(data)
            code, _, rss = _run_cli(path)
            if code != 2:
                raise SystemExit(f"hostile input {name!r}: exit {code}, expected 2")
            figures.append(Figure("hostile", f"{name}: refused in", _refusal_seconds(path), "s", 1.0))
            figures.append(Figure("hostile", f"{name}: CLI peak RSS", rss, "MiB", 400.0))
    return figures
