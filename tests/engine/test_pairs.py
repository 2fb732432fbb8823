"""The implicit connection list (PairTable) and the streaming writers against the
materialised list of Analyzer.analyze: same pairs, counts, degrees, aggregated levels and
text, on random clusters (with owners, so endpoints may stand for several pods and pod
classes for several endpoints) and on generated multi-namespace clusters."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings

from bench.generate import generate_cluster
from policies.engine import (
    Analyzer,
    Connection,
    ConnSet,
    Endpoint,
    Reachability,
    build_cluster,
    pairs,
)
from policies.engine.formats import FORMATS, write
from policies.engine.pairs import PairTable
from policies.engine.reachability import group_reachability

from .strategies import cluster_st, tiered_cluster_st

LEVELS = ("workload", "pod")
DIRECTIONS = ("combined", "ingress", "egress")


def by_namespace(e: Endpoint) -> str:
    return e.key if e.is_external else e.namespace


def by_tier(e: Endpoint) -> str:
    """Tiers as the dashboard groups them: an endpoint without the label stands alone."""
    if e.is_external:
        return e.key
    tier = e.labels.get("tier") or e.labels.get("app")
    return f"{e.namespace}/{tier}" if tier else e.key


def alpha_opened(e: Endpoint) -> str:
    """Namespace alpha opened into its endpoints, the others whole: a pod class standing
    for several endpoints then spans several groups."""
    return e.key if e.namespace == "alpha" and not e.is_external else by_namespace(e)


def tcp_80(conns: ConnSet) -> ConnSet:
    return conns.restrict("TCP", 80)


def pair_counts(reach: Reachability, group_of: Callable[[Endpoint], str]) -> Counter[tuple[str, str]]:
    """How many listed pairs each group pair stands for."""
    return Counter((group_of(c.src), group_of(c.dst)) for c in reach.connections)


def narrowed(reach: Reachability, restrict: Callable[[ConnSet], ConnSet]) -> Reachability:
    kept = [Connection(c.src, c.dst, restrict(c.conns)) for c in reach.connections]
    return Reachability(
        reach.nodes, [c for c in kept if not c.conns.is_empty], level=reach.level, direction=reach.direction
    )


def triples(conns: Any) -> list[tuple[str, str, Any]]:
    return [(c.src.key, c.dst.key, c.conns) for c in conns]


# -- reference texts: the connection list written pair by pair ------------------------------


def ref_txt(reach: Reachability) -> str:
    return "".join(f"{c.src.key} => {c.dst.key} : {c.conns}\n" for c in reach.connections)


def ref_csv(reach: Reachability) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["src", "dst", "conn"])
    for c in reach.connections:
        w.writerow([c.src.key, c.dst.key, str(c.conns)])
    return buf.getvalue()


def ref_md(reach: Reachability) -> str:
    lines = ["| src | dst | conn |", "|-----|-----|------|"]
    lines += [f"| {c.src.key} | {c.dst.key} | {c.conns} |" for c in reach.connections]
    return "\n".join(lines) + "\n"


def ref_json(reach: Reachability) -> str:
    doc = {
        "level": reach.level,
        "direction": reach.direction,
        "nodes": [n.to_dict() for n in reach.nodes],
        "connections": [
            {"src": c.src.key, "dst": c.dst.key, "conn": str(c.conns), "conns": c.conns.to_json()}
            for c in reach.connections
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def ref_dot_edges(reach: Reachability) -> list[str]:
    return [
        f'\t"{c.src.key}" -> "{c.dst.key}" [label="{c.conns}" color="gold2" fontcolor="darkgreen"]'
        for c in reach.connections
    ]


REFERENCE: dict[str, Callable[[Reachability], str]] = {
    "txt": ref_txt,
    "csv": ref_csv,
    "md": ref_md,
    "json": ref_json,
}


def written(source: Any, fmt: str, **kw: Any) -> str:
    buf = io.StringIO()
    write(source, fmt, buf, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def check_table(analyzer: Analyzer, level: str, direction: str) -> None:
    reach = analyzer.analyze(level=level, direction=direction)  # type: ignore[arg-type]
    table = PairTable(analyzer, level, direction)
    assert [n.key for n in table.nodes] == [n.key for n in reach.nodes]
    assert triples(table.connections()) == triples(reach.connections)
    assert table.count() == len(reach.connections)
    outbound, inbound = table.degrees()
    src_count = Counter(c.src.key for c in reach.connections)
    dst_count = Counter(c.dst.key for c in reach.connections)
    assert outbound == [src_count[n.key] for n in table.nodes]
    assert inbound == [dst_count[n.key] for n in table.nodes]
    for group_of in (by_namespace, by_tier, alpha_opened):
        want = group_reachability(reach, group_of)
        got = table.group(group_of)
        assert triples(got.connections) == triples(want.connections)
        assert [n.to_dict() for n in got.nodes] == [n.to_dict() for n in want.nodes]
        for bits_per_group in (0, 1_000_000):  # each group met masked / every bit walked
            with patch.object(pairs, "BITS_PER_GROUP_TO_MASK", bits_per_group):
                assert table.pair_counts(group_of) == pair_counts(reach, group_of)
                assert table.pair_counts(group_of, tcp_80) == pair_counts(narrowed(reach, tcp_80), group_of)
    for node in reach.nodes:
        assert table.row(node.key) == [c for c in reach.connections if c.src.key == node.key]
        assert triples(table.column(node.key)) == triples(
            c for c in reach.connections if c.dst.key == node.key
        )
    # Paging by source ranks gives the list in order, page after page.
    pages = [list(table.connections(i, i + 2)) for i in range(0, len(table.nodes), 2)]
    assert triples(c for page in pages for c in page) == triples(reach.connections)


@settings(settings.get_profile("engine"), max_examples=60)
@given(cluster_st(owners=True))
def test_pair_table_agrees_with_the_materialised_list(objs: list[dict[str, Any]]) -> None:
    analyzer = Analyzer(build_cluster(objs))
    for level in LEVELS:
        for direction in DIRECTIONS:
            check_table(analyzer, level, direction)


@settings(settings.get_profile("engine"), max_examples=40)
@given(tiered_cluster_st())
def test_pair_table_agrees_with_the_materialised_list_under_cluster_wide_tiers(
    objs: list[dict[str, Any]],
) -> None:
    analyzer = Analyzer(build_cluster(objs))
    for direction in DIRECTIONS:
        check_table(analyzer, "workload", direction)


@settings(settings.get_profile("engine"), max_examples=60)
@given(cluster_st(owners=True))
def test_streamed_formats_equal_the_pair_by_pair_text(objs: list[dict[str, Any]]) -> None:
    analyzer = Analyzer(build_cluster(objs))
    for level in LEVELS:
        reach = analyzer.analyze(level=level)  # type: ignore[arg-type]
        table = PairTable(analyzer, level)
        for fmt, ref in REFERENCE.items():
            assert written(table, fmt) == ref(reach), fmt
            assert written(reach, fmt) == ref(reach), fmt
        dot = written(table, "dot")
        assert [line for line in dot.splitlines() if " -> " in line] == ref_dot_edges(reach)
        assert dot == written(reach, "dot")
        for node in reach.nodes[:3]:
            focus = table.focus_ranks(node.name)
            for fmt, ref in REFERENCE.items():
                assert written(table, fmt, focus=focus) == ref(reach.focus(node.name)), fmt


@pytest.mark.parametrize("locked_down", [0.7, 0.0])
def test_pair_table_on_a_generated_multi_team_cluster(locked_down: float) -> None:
    objs = generate_cluster(
        pods=400, workloads=90, namespaces=14, policies=120, locked_down=locked_down
    )
    analyzer = Analyzer(build_cluster(objs))
    for level in LEVELS:
        check_table(analyzer, level, "combined")
    reach = analyzer.analyze(level="workload")
    for fmt in FORMATS:
        assert written(PairTable(analyzer), fmt) == written(reach, fmt)


def test_rows_are_built_a_block_of_sources_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A block smaller than the list: the same rows, in order, across block edges."""
    analyzer = Analyzer(
        build_cluster(generate_cluster(pods=200, workloads=40, namespaces=8, policies=50))
    )
    whole = triples(PairTable(analyzer).connections())
    monkeypatch.setattr(pairs, "BLOCK", 3)
    assert triples(PairTable(analyzer).connections()) == whole
    assert whole


def test_a_cluster_without_pods_lists_nothing() -> None:
    objs = generate_cluster(pods=0, workloads=0, namespaces=2, policies=0)
    table = PairTable(Analyzer(build_cluster(objs)))
    assert list(table.connections()) == []
    assert table.count() == 0
    assert json.loads(written(table, "json"))["connections"] == []
