"""Run every benchmark part and print a table of figures against targets."""

from __future__ import annotations

import platform
import sys

from bench import Figure, api, engine, hostile, sync

PARTS = [engine.run, hostile.run, sync.run, api.run]


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


def main() -> int:
    print(
        f"netpolui benchmarks on Python {platform.python_version()}, {platform.machine()}, "
        f"{__import__('os').cpu_count()} CPUs"
    )
    figures: list[Figure] = []
    for part in PARTS:
        figures.extend(part())
    print()
    print_table(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
