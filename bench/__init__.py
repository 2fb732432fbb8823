"""Benchmarks: `python -m bench` (or `make bench`) runs each part and prints its figures.

Parts: `bench.engine` (reachability engine on a generated cluster), `bench.hostile`
(hostile YAML refused by the CLI: time and memory). Each part exposes
`run() -> list[Figure]`; `bench.__main__` prints them as one table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured figure and its target."""

    part: str
    name: str
    value: float
    unit: str
    target: float | None = None

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else self.value <= self.target
