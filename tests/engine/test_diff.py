"""`diff`: one common refinement of both sides' address ranges, netpol-analyzer's format.

Golden outputs (tests/engine/golden_diff/<case>/{old,new,expected.*}) in every format,
the issue's scenario (the demo plus one ipBlock policy is one change), and properties
on random clusters: a policy that selects nothing changes nothing even when it adds
address boundaries, and every reported range is exactly where the two sides differ.
"""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine import (
    Analyzer,
    ConnSet,
    address_families,
    analyze,
    build_cluster,
    diff_clusters,
    diff_reachability,
)
from policies.engine.cli import main
from policies.engine.reachability import Reachability

from .builders import netpol, pod
from .strategies import CIDRS, cluster_st, policy_st

GOLDEN = Path(__file__).parent / "golden_diff"
DEMO = Path(__file__).resolve().parents[2] / "policies" / "demo"
DIFF_CASES = sorted(
    (case.name, expected.suffix[1:])
    for case in GOLDEN.iterdir()
    if case.is_dir()
    for expected in case.glob("expected.*")
)

BACKEND_FROM_10 = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-from-10
  namespace: shop
spec:
  podSelector:
    matchLabels:
      tier: backend
  policyTypes: [Ingress]
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/8
    ports:
    - protocol: TCP
      port: 8080
"""


@pytest.mark.parametrize(("case", "fmt"), DIFF_CASES, ids=[f"{c}-{f}" for c, f in DIFF_CASES])
def test_golden_diff_output(case: str, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", str(GOLDEN / case / "old"), str(GOLDEN / case / "new"), "-o", fmt])
    assert code == 0
    assert capsys.readouterr().out == (GOLDEN / case / f"expected.{fmt}").read_text()


def test_every_diff_format_has_a_golden_file() -> None:
    assert {f for _, f in DIFF_CASES} == {"txt", "csv", "md", "json"}


def test_demo_plus_one_ipblock_policy_is_exactly_one_added_connection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new"
    new.mkdir()
    for f in DEMO.glob("*.yaml"):
        (new / f.name).write_text(f.read_text())
    (new / "backend-from-10.yaml").write_text(BACKEND_FROM_10)
    code = main(["diff", str(DEMO), str(new), "--fail-on-change"])
    assert code == 1
    assert capsys.readouterr().out == (
        "Connectivity diff:\n"
        "diff-type: added, source: 10.0.0.0-10.255.255.255[External], "
        "destination: shop/backend[Deployment], ref1: No Connections, ref2: TCP 8080\n"
    )


def test_no_difference_prints_nothing_and_notes_it(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", str(DEMO), str(DEMO), "--fail-on-change", "-o", "csv"])
    captured = capsys.readouterr()
    assert (code, captured.out) == (0, "")
    assert "no connections diff" in captured.err


def test_ranges_cut_differently_compare_on_the_common_refinement() -> None:
    objs: list[dict[str, Any]] = [pod("a", "web", {"app": "web"})]

    def allow_from(*blocks: dict[str, Any]) -> dict[str, Any]:
        return netpol(
            "a",
            "web",
            podSelector={"matchLabels": {"app": "web"}},
            ingress=[{"from": [{"ipBlock": b} for b in blocks]}],
        )

    # Old: 0.0.0.0/0 except 10/8 in one block; new: the same addresses in two blocks plus
    # 10.1/16 on top. Only 10.1.0.0-10.1.255.255 changed.
    old = analyze(
        build_cluster([*objs, allow_from({"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]})])
    )
    new = analyze(
        build_cluster(
            [
                *objs,
                allow_from(
                    {"cidr": "0.0.0.0/1", "except": ["10.0.0.0/8"]},
                    {"cidr": "128.0.0.0/1"},
                    {"cidr": "10.1.0.0/16"},
                ),
            ]
        )
    )
    d = diff_reachability(old, new)
    assert [(c.src.key, c.dst.key, str(c.conns)) for c in d.added] == [
        ("10.1.0.0-10.1.255.255[External]", "a/web[Pod]", "All Connections")
    ]
    assert d.removed == []
    assert d.changed == []
    # The merged range is an endpoint of its own (neither side lists it as such).
    assert d.added[0].src.ip_range == ("10.1.0.0", "10.1.255.255")


def test_changed_ranges_merge_back_into_maximal_ranges() -> None:
    web = pod("a", "web", {"app": "web"})
    old = analyze(
        build_cluster(
            [
                web,
                netpol(
                    "a",
                    "cut",
                    podSelector={"matchLabels": {"app": "web"}},
                    policyTypes=["Egress"],
                    egress=[
                        {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]},
                        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]},
                    ],
                ),
            ]
        )
    )
    new = analyze(
        build_cluster(
            [
                web,
                netpol(
                    "a",
                    "cut",
                    podSelector={"matchLabels": {"app": "web"}},
                    policyTypes=["Egress"],
                    egress=[{"ports": [{"port": 443}]}],
                ),
            ]
        )
    )
    d = diff_reachability(old, new)
    # Old cut the destinations in three ranges, new in none: one line for the whole space.
    assert [(c.src, c.dst, str(c.old_conns), str(c.new_conns)) for c in d.changed] == [
        ("a/web[Pod]", "0.0.0.0-255.255.255.255[External]", "All Connections", "TCP 443")
    ]
    assert d.changed[0].dst_endpoint is not None
    assert d.changed[0].dst_endpoint.is_external


def test_workloads_diff_info_names_workloads_on_one_side_only() -> None:
    a, b = pod("a", "x", {"app": "x"}), pod("a", "y", {"app": "y"})
    d = diff_reachability(analyze(build_cluster([a])), analyze(build_cluster([a, b])))
    lines = {(line.src, line.dst): line.workloads_diff_info for line in d.lines()}
    assert lines[("a/x[Pod]", "a/y[Pod]")] == "workload a/y[Pod] added"
    assert lines[("0.0.0.0-255.255.255.255[External]", "a/y[Pod]")] == "workload a/y[Pod] added"
    gone = diff_reachability(analyze(build_cluster([b])), analyze(build_cluster([a])))
    assert {line.workloads_diff_info for line in gone.lines() if line.src == "a/y[Pod]"} == {
        "workload a/y[Pod] removed"
    }
    both = [line for line in gone.lines() if (line.src, line.dst) == ("a/y[Pod]", "a/x[Pod]")]
    assert both == []  # never a pair on either side: y and x never coexist
    swap = diff_reachability(
        analyze(build_cluster([pod("a", "x", {}), pod("a", "y", {})])),
        analyze(build_cluster([pod("a", "x", {}), pod("a", "z", {})])),
    )
    info = {(line.src, line.dst): line.workloads_diff_info for line in swap.lines()}
    assert info[("a/x[Pod]", "a/z[Pod]")] == "workload a/z[Pod] added"
    assert info[("a/y[Pod]", "a/x[Pod]")] == "workload a/y[Pod] removed"


# -- properties -------------------------------------------------------------------------------


@st.composite
def selects_nothing_st(draw: Any) -> dict[str, Any]:
    """A policy with ipBlocks in both directions whose podSelector matches no pod."""
    policy = draw(policy_st(9))
    spec = policy["spec"]
    spec["podSelector"] = {"matchLabels": {"netpolui.test/nobody": "here"}}
    spec["policyTypes"] = ["Ingress", "Egress"]
    for direction, key in (("ingress", "from"), ("egress", "to")):
        cidr, excepts = draw(st.sampled_from(CIDRS))
        block: dict[str, Any] = {"cidr": cidr, "except": excepts} if excepts else {"cidr": cidr}
        spec[direction] = [*(spec.get(direction) or []), {key: [{"ipBlock": block}]}]
    return policy


@settings(settings.get_profile("engine"))
@given(cluster_st(), selects_nothing_st())
def test_a_policy_selecting_nothing_leaves_diff_empty(
    objs: list[dict[str, Any]], nothing: dict[str, Any]
) -> None:
    cluster = build_cluster(objs)
    with_it = build_cluster([*objs, copy.deepcopy(nothing)])
    assert diff_clusters(cluster, with_it).render() == ""
    # What-if and drift derive the new side from the old one's analyzer.
    before = Analyzer(cluster, families=address_families(with_it))
    d = diff_reachability(before.analyze(), before.replace_policy(nothing).analyze())
    assert d.is_empty, d.render()


def _at(reach: Reachability, workload: str, address_is_source: bool, addr: str) -> ConnSet:
    value = ipaddress.ip_address(addr)
    for c in reach.connections:
        ext, other = (c.src, c.dst) if address_is_source else (c.dst, c.src)
        if other.key != workload or not ext.is_external or ext.ip_range is None:
            continue
        lo, hi = (ipaddress.ip_address(a) for a in ext.ip_range)
        if lo.version == value.version and lo <= value <= hi:
            return c.conns
    return ConnSet.none()


@settings(settings.get_profile("engine"))
@given(cluster_st(), st.lists(st.integers(0, 9), max_size=3), st.data())
def test_diff_reports_exactly_the_addresses_whose_connections_changed(
    objs: list[dict[str, Any]], new_indexes: list[int], data: st.DataObject
) -> None:
    pods = [o for o in objs if o["kind"] != "NetworkPolicy"]
    others = [data.draw(policy_st(10 + i)) for i in new_indexes]
    before, after = build_cluster(objs), build_cluster([*pods, *others])
    families = address_families(before) | address_families(after)
    old = analyze(before, families=families)
    new = analyze(after, families=families)
    d = diff_reachability(old, new)
    lines = d.lines()

    # Workload pairs: exactly the pairs whose connections differ.
    def pairs(r: Reachability) -> dict[tuple[str, str], ConnSet]:
        return {
            (c.src.key, c.dst.key): c.conns
            for c in r.connections
            if not (c.src.is_external or c.dst.is_external)
        }

    po, pn = pairs(old), pairs(new)
    want = {
        k: (po.get(k, ConnSet.none()), pn.get(k, ConnSet.none()))
        for k in po.keys() | pn.keys()
        if po.get(k) != pn.get(k)
    }
    got = {
        (x.src, x.dst): (x.ref1, x.ref2)
        for x in lines
        if not (x.src.endswith("[External]") or x.dst.endswith("[External]"))
    }
    assert got == want

    # Address ranges: at every boundary of either side, the line covering the address
    # (if any) carries what each side allows there, and there is a line iff they differ.
    workloads = {n.key for n in (*old.nodes, *new.nodes) if not n.is_external}
    addresses = {
        a
        for r in (old, new)
        for n in r.nodes
        if n.is_external and n.ip_range is not None
        for a in n.ip_range
    }
    by_side: dict[tuple[str, bool], list[tuple[int, int, int, ConnSet, ConnSet]]] = {}
    for x in lines:
        src_ext = x.src.endswith("[External]")
        if not (src_ext or x.dst.endswith("[External]")):
            continue
        ext, wl = (x.src, x.dst) if src_ext else (x.dst, x.src)
        first, last = ext.removesuffix("[External]").split("-", 1)
        a, b = ipaddress.ip_address(first), ipaddress.ip_address(last)
        by_side.setdefault((wl, src_ext), []).append((a.version, int(a), int(b), x.ref1, x.ref2))
    for wl in workloads:
        for address_is_source in (True, False):
            runs = sorted(by_side.get((wl, address_is_source), []))
            # Maximal: two touching lines never carry the same pair of connection sets.
            for r1, r2 in zip(runs, runs[1:], strict=False):
                assert not (r1[0] == r2[0] and r1[2] + 1 == r2[1] and r1[3:] == r2[3:])
            for addr in addresses:
                c1 = _at(old, wl, address_is_source, addr)
                c2 = _at(new, wl, address_is_source, addr)
                ip = ipaddress.ip_address(addr)
                covering = [r for r in runs if r[0] == ip.version and r[1] <= int(ip) <= r[2]]
                if c1 == c2:
                    assert covering == [], (wl, address_is_source, addr)
                else:
                    assert [(r[3], r[4]) for r in covering] == [(c1, c2)], (wl, addr)


# -- the address partition of a connection list -------------------------------------------------


@pytest.mark.parametrize("level", ["workload", "pod"])
def test_every_source_gets_one_line_per_destination_range_selected_or_not(level: str) -> None:
    objs = [
        pod("a", "picky", {"app": "picky"}),
        pod("a", "free", {"app": "free"}),
        netpol(
            "a",
            "out",
            podSelector={"matchLabels": {"app": "picky"}},
            policyTypes=["Egress"],
            egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
        ),
    ]
    ranges = [
        "0.0.0.0-9.255.255.255[External]",
        "10.0.0.0-10.0.255.255[External]",
        "10.1.0.0-10.1.255.255[External]",
        "10.2.0.0-10.255.255.255[External]",
        "11.0.0.0-255.255.255.255[External]",
    ]
    analyzer = Analyzer(build_cluster(objs))
    # A derived analyzer (the cut unchanged) lists the same ranges.
    derived = analyzer.replace_policy({**objs[2], "spec": {**objs[2]["spec"]}})
    for reach in (analyzer.analyze(level=level), derived.analyze(level=level)):  # type: ignore[arg-type]
        out = {(c.src.key, c.dst.key) for c in reach.connections if c.dst.is_external}
        assert out == {("a/free[Pod]", r) for r in ranges} | {
            ("a/picky[Pod]", "10.0.0.0-10.0.255.255[External]"),
            ("a/picky[Pod]", "10.2.0.0-10.255.255.255[External]"),
        }
