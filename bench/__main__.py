"""Run every benchmark part and print a table of figures against targets."""

from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import replace

from bench import Figure, api, browser, cli, engine, fleet, hostile, sync

PARTS = [engine.run, cli.run, hostile.run, sync.run, api.run]


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:,.0f} {unit}".rstrip()


def print_table(figures: list[Figure]) -> None:
    rows = [("part", "figure", "value", "target", "")]
    for f in figures:
        target = "" if f.target is None else f"< {_fmt(f.target, f.unit)}"
        verdict = "" if f.ok is None else ("ok" if f.ok else "MISSED")
        rows.append((f.part, f.name, _fmt(f.value, f.unit), target, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print(
            "  ".join(
                c.ljust(w) if j < 2 else c.rjust(w) if j == 2 else c.ljust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=False))
            ).rstrip()
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))


def _without_target(figure: Figure, prefix: str) -> Figure:
    return replace(figure, name=prefix + figure.name.strip(), target=None)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--size",
        choices=("default", "large"),
        default="default",
        help="large adds the 5,000-workload / 1,000-namespace / 10,000-policy cluster "
        "the 100,000-object sync and one sync worker following 50 clusters",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="skip the pages timed in headless Chromium (about a minute and a half)",
    )
    args = parser.parse_args()
    print(
        f"netpolui benchmarks on Python {platform.python_version()}, {platform.machine()}, "
        f"{__import__('os').cpu_count()} CPUs"
    )
    figures: list[Figure] = []
    for part in PARTS:
        figures.extend(part())
    if not args.no_browser:
        figures.extend(browser.run())
    if args.size == "large":
        # The engine's targets are the 1,000-workload cluster's; the 5,000-workload one's
        # (10 s, 1 GiB for the whole analysis and txt output) are the CLI part's, which
        # reads one JSON List file and reports the child's peak memory.
        figures.extend(
            _without_target(f, "5,000 workloads: ")
            for f in engine.run(cli.SIZES["large"], dense=False, cli=False)
        )
        figures.extend(cli.run("large"))
        figures.extend(sync.run_large())
        figures.extend(fleet.run())  # one sync worker process following 50 clusters
    print()
    print_table(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
