"""Per-port truth tables, as Policy Assistant prints them: for each chosen port, sources as
rows and destinations as columns, one cell per pair saying whether that port is allowed,
for ingress only, egress only, or both (combined). Exported as CSV or Markdown."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import engine
from ..choices import DIRECTIONS
from ..models import Cluster, NetworkPolicy
from . import engine_cache, payloads

# Tables wider than this ask for a namespace filter or the tier level first.
MAX_ENDPOINTS = 80
MAX_PORTS = 8
_PORT = re.compile(r"^(?:(TCP|UDP|SCTP)[/ :])?(\d{1,5})$", re.IGNORECASE)


class TableError(ValueError):
    """A port list or a filter the table cannot use; the message says which."""


@dataclass(frozen=True)
class PortKey:
    protocol: str
    port: int

    def __str__(self) -> str:
        return f"{self.protocol} {self.port}"

    @property
    def param(self) -> str:
        return f"{self.protocol}/{self.port}"


def parse_ports(text: str) -> list[PortKey]:
    """`TCP/80, udp/53, 5432` -> ports (TCP when no protocol is given)."""
    out: list[PortKey] = []
    for raw in re.split(r"[,\s]+", text.strip()):
        if not raw:
            continue
        m = _PORT.match(raw)
        if not m or not 1 <= int(m.group(2)) <= 65535:
            raise TableError(
                f"Port {raw!r} is not a port: write PROTOCOL/NUMBER (TCP/5432, UDP/53) or a number from 1 to 65535."
            )
        key = PortKey((m.group(1) or "TCP").upper(), int(m.group(2)))
        if key not in out:
            out.append(key)
    if len(out) > MAX_PORTS:
        raise TableError(f"{len(out)} ports asked: a truth table takes at most {MAX_PORTS}.")
    return out


def default_ports(cluster: Cluster, limit: int = 4) -> list[PortKey]:
    """The numeric ports the cluster's policies name most, for a first table."""
    counts: dict[PortKey, int] = {}
    for obj in NetworkPolicy.objects.filter(cluster=cluster).values_list("obj", flat=True):
        spec = (obj or {}).get("spec") or {}
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                for port in (rule or {}).get("ports") or []:
                    if isinstance(port.get("port"), int):
                        key = PortKey(str(port.get("protocol") or "TCP"), port["port"])
                        counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k.protocol, k.port))
    return ranked[:limit] or [PortKey("TCP", 80)]


def build(
    cluster: Cluster,
    ports: Sequence[PortKey],
    *,
    direction: str = "combined",
    level: str = "workload",
    namespaces: Sequence[str] = (),
    group_by: str = "",
) -> dict[str, Any]:
    """{endpoints, tables: [{port, rows: [{src, cells: [bool...]}], allowed}], ...}."""
    if direction not in DIRECTIONS:
        raise TableError(f"Direction {direction!r} is not one of {', '.join(DIRECTIONS)}.")
    if level not in ("workload", "tier", "namespace"):
        raise TableError(f"Level {level!r} is not one of workload, tier, namespace.")
    reach: engine.Reachability = engine_cache.base_reachability(cluster, "workload", direction)
    if level != "workload":
        reach = engine.group_reachability(reach, payloads.group_function(level, group_by))
    wanted = set(namespaces)
    endpoints = sorted(
        n.key for n in reach.nodes if not n.is_external and (not wanted or n.namespace in wanted)
    )
    if len(endpoints) > MAX_ENDPOINTS:
        raise TableError(
            f"{len(endpoints)} endpoints at {level} level: choose namespaces or the tier level "
            f"to keep the table under {MAX_ENDPOINTS}."
        )
    keep = set(endpoints)
    conns: dict[tuple[str, str], engine.ConnSet] = {
        (c.src.key, c.dst.key): c.conns for c in reach.connections if c.src.key in keep and c.dst.key in keep
    }
    # A non-isolated pair may be absent from the connection list only when it is the same
    # endpoint (self-pairs are not listed); the table says "—" there.
    tables = []
    for port in ports:
        rows = []
        allowed = 0
        for src in endpoints:
            cells: list[bool | None] = []
            for dst in endpoints:
                if src == dst:
                    cells.append(None)
                    continue
                c = conns.get((src, dst))
                ok = c is not None and c.allows(port.protocol, port.port)
                allowed += ok
                cells.append(ok)
            rows.append({"src": src, "cells": cells})
        tables.append({"port": str(port), "param": port.param, "rows": rows, "allowed": allowed})
    return {
        "direction": direction,
        "level": level,
        "endpoints": endpoints,
        "tables": tables,
        "pairs": len(endpoints) * max(0, len(endpoints) - 1),
    }


def _cell_text(cell: bool | None, yes: str, no: str) -> str:
    return "" if cell is None else (yes if cell else no)


def to_csv(table: Mapping[str, Any]) -> str:
    """One block per port: `port,source,<destination>...`, cells `allowed`/`denied`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for t in table["tables"]:
        writer.writerow(["port", f"source \\ destination ({table['direction']})", *table["endpoints"]])
        for row in t["rows"]:
            writer.writerow([t["port"], row["src"], *(_cell_text(c, "allowed", "denied") for c in row["cells"])])
    return buf.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(table: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for t in table["tables"]:
        lines.append(f"### {t['port']} ({table['direction']})")
        lines.append("")
        lines.append("| source \\ destination | " + " | ".join(_md_escape(e) for e in table["endpoints"]) + " |")
        lines.append("|---|" + "---|" * len(table["endpoints"]))
        for row in t["rows"]:
            cells = (_cell_text(c, "✔", "✖") or "—" for c in row["cells"])
            lines.append(f"| {_md_escape(row['src'])} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
