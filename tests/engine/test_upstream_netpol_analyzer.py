"""np-guard/netpol-analyzer's own test cases and their expected outputs
(upstream/netpol_analyzer/, see upstream/README.md): NetworkPolicy and
AdminNetworkPolicy / BaselineAdminNetworkPolicy connection lists, their csv, md and json
forms, a focus-workload run, diffs, and the inputs upstream refuses.

The expected files are upstream's, unchanged; ``upstream_text`` only bridges two changes
of upstream's own format between the versions the outputs were recorded with and the
current one netpolui keeps: the ``[External]`` suffix on address ranges, and ``All but:
X`` written out as the complement (``SCTP 1-65535,TCP 1-65535,UDP 1-5352,5354-65535``).
Where upstream departs from the Kubernetes API's semantics, ``EXPECTED_DIFFERENCES``
names each line and the reason."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from policies.engine import analyze, build_cluster, diff_clusters, load_paths, render

UPSTREAM = Path(__file__).parent / "upstream" / "netpol_analyzer"
CASES = sorted(p.name for p in UPSTREAM.iterdir() if list(p.glob("expected.*")))


@dataclass(frozen=True)
class Difference:
    """A line where upstream departs from the Kubernetes API's semantics: ``upstream`` is
    its line (after the format bridges), ``ours`` netpolui's (None: no pair at all)."""

    upstream: str
    ours: str | None
    reason: str


UNRESOLVED_NAMED_PORT = (
    "since np-guard/netpol-analyzer#412 a named port that no container of the destination "
    "declares with the rule's protocol is listed by name (`UDP newport`); Kubernetes resolves "
    "a named port on the destination pod only, so such a rule port admits no packet"
)

INGRESS_CONTROLLER = (
    "upstream's ingress analysis adds the cluster's ingress controller as a source of the "
    "pods an Ingress or Route exposes; netpolui does not model ingress controllers (a "
    "NetworkPolicy decides what reaches a pod, whichever pod forwards it)"
)


def _ingress_controller(line: str) -> Difference:
    return Difference(upstream=line, ours=None, reason=INGRESS_CONTROLLER)


_BOOKINFO_DETAILS_INGRESS = [
    _ingress_controller(f"{controller} => default/details-v1-79f774bdb9[ReplicaSet] : TCP 9080")
    for controller in ("{ingress-nginx}", "{openshift-ingress-operator}")
]

EXPECTED_DIFFERENCES: dict[str, list[Difference]] = {
    "demo_app_with_routes_and_ingress": [
        _ingress_controller(f"{controller} => {workload} : TCP {port}")
        for controller in ("{ingress-nginx}", "{openshift-ingress-operator}")
        for workload, port in (
            ("helloworld/hello-world[Deployment]", 8000),
            ("ingressworld/ingress-world[Deployment]", 8090),
            ("routeworld/route-world[Deployment]", 8060),
        )
    ],
    "k8s_ingress_test": _BOOKINFO_DETAILS_INGRESS,
    "diff_between_k8s_ingress_test_new_and_k8s_ingress_test": [
        _ingress_controller(
            "diff-type: added, source: {ingress-controller}, destination: default/unicorn[Deployment], "
            "ref1: No Connections, ref2: TCP 8080, workloads-diff-info: workload default/unicorn[Deployment] added"
        ),
    ],
    "k8s_ingress_test_new": [
        _ingress_controller("{ingress-controller} => default/details-v1-79f774bdb9[ReplicaSet] : TCP 9080"),
        _ingress_controller("{ingress-controller} => default/unicorn[Deployment] : TCP 8080"),
    ],
    "k8s_ingress_test_focus_workload_details-v1-79f774bdb9": _BOOKINFO_DETAILS_INGRESS,
    "multiple_ingress_objects_with_different_ports": [
        _ingress_controller(f"{controller} => ingressworld/ingress-world-multiple-ports[Deployment] : TCP 8050,8090")
        for controller in ("{ingress-nginx}", "{openshift-ingress-operator}")
    ],
    "one_ingress_multiple_services": [
        _ingress_controller(f"{controller} => ingressworld/ingress-world-multiple-ports[Deployment] : TCP 8000,8090")
        for controller in ("{ingress-nginx}", "{openshift-ingress-operator}")
    ],
    "one_ingress_multiple_ports": [
        _ingress_controller(
            "{ingress-controller} => ingressworld/ingress-world-multiple-ports[Deployment] : TCP 8000,8090"
        ),
    ],
    "netpol_named_port_test": [
        Difference(
            upstream="helloworld/new-pod[Deployment] => helloworld/pod-a[Deployment] : UDP newport",
            ours=None,
            reason=UNRESOLVED_NAMED_PORT,
        ),
    ],
    "netpol_named_port_test_2": [
        Difference(
            upstream="helloworld/pod-a[Deployment] => helloworld/new-pod[Deployment] : SCTP 8956,9090,not-found,UDP newport",
            ours="helloworld/pod-a[Deployment] => helloworld/new-pod[Deployment] : SCTP 8956,9090",
            reason=UNRESOLVED_NAMED_PORT,
        ),
    ],
}

_PROTOCOLS = ("SCTP", "TCP", "UDP")
_FULL = (1, 65535)


def _ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.append((int(lo), int(hi or lo)))
    return out


def _parse_conns(text: str) -> dict[str, list[tuple[int, int]]]:
    """Upstream's CONNS text as protocol -> sorted disjoint ranges (independent of our
    ConnSet, so a bug there cannot hide here)."""
    if text == "All Connections":
        return {p: [_FULL] for p in _PROTOCOLS}
    out: dict[str, list[tuple[int, int]]] = {}
    for m in re.finditer(r"(SCTP|TCP|UDP) ([0-9,\-]+?)(?=,(?:SCTP|TCP|UDP) |$)", text):
        out[m.group(1)] = _ranges(m.group(2))
    return out


def _complement(conns: dict[str, list[tuple[int, int]]]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for proto in _PROTOCOLS:
        free, start = [], 1
        for lo, hi in sorted(conns.get(proto, [])):
            if lo > start:
                free.append((start, lo - 1))
            start = max(start, hi + 1)
        if start <= 65535:
            free.append((start, 65535))
        if free:
            out[proto] = free
    return out


def _conns_text(conns: dict[str, list[tuple[int, int]]]) -> str:
    if all(conns.get(p) == [_FULL] for p in _PROTOCOLS):
        return "All Connections"
    return ",".join(
        f"{p} " + ",".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in conns[p])
        for p in _PROTOCOLS
        if conns.get(p)
    )


def upstream_text(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        line = re.sub(r"(\d+\.\d+\.\d+\.\d+-\d+\.\d+\.\d+\.\d+|[0-9a-f:]+/\d+)(?= )", r"\1[External]", line)
        line = line.replace("[External][External]", "[External]")
        head, sep, conns = line.rpartition(" : ")
        if conns.startswith("All but: "):
            conns = _conns_text(_complement(_parse_conns(conns[len("All but: ") :])))
        lines.append(f"{head}{sep}{conns}")
    return "".join(f"{line}\n" for line in lines)


EXPOSURE_HEADER = "\n\nExposure Analysis Result:\n"


def expected_text(case: str) -> str:
    """Upstream's connlist of the case: its txt output; or the connection list its
    exposure run printed first (``expected.exposure.txt`` up to ``Exposure Analysis
    Result:``, the same lines a run without --exposure prints) when upstream tests the
    directory only with exposure; or its csv output (src,dst,conn rows, the same lines)
    when only the csv has the current upstream version."""
    txt = UPSTREAM / case / "expected.txt"
    if txt.exists():
        return upstream_text(txt.read_text())
    exposure = UPSTREAM / case / "expected.exposure.txt"
    if exposure.exists():
        connlist, found, _ = ("\n\n" + exposure.read_text()).partition(EXPOSURE_HEADER)
        assert found, f"{exposure} has no exposure section"
        return upstream_text(connlist)
    rows = (UPSTREAM / case / "expected.csv").read_text().splitlines()
    assert rows[0] == "src,dst,conn"
    lines = []
    for row in rows[1:]:
        src, dst, conns = row.split(",", 2)
        lines.append(f"{src} => {dst} : {conns}\n")
    return upstream_text("".join(lines))


def with_expected_differences(case: str, text: str) -> str:
    lines = text.splitlines()
    for difference in EXPECTED_DIFFERENCES.get(case, []):
        assert difference.upstream in lines, f"{case}: upstream no longer prints {difference.upstream!r}"
        at = lines.index(difference.upstream)
        lines[at : at + 1] = [difference.ours] if difference.ours else []
    return "".join(f"{line}\n" for line in lines)


def case_paths(case: str) -> list[Path]:
    """The case's directory and the shared input directories its ``uses.txt`` names."""
    paths = [UPSTREAM / case]
    uses = UPSTREAM / case / "uses.txt"
    if uses.exists():
        paths += [UPSTREAM / name for name in uses.read_text().split()]
    return paths


def test_upstream_text_bridges_only_format() -> None:
    assert upstream_text("a[Pod] => b[Pod] : All but: UDP 5353\n") == (
        "a[Pod] => b[Pod] : SCTP 1-65535,TCP 1-65535,UDP 1-5352,5354-65535\n"
    )
    assert upstream_text("0.0.0.0-255.255.255.255 => b[Pod] : TCP 80,UDP 53\n") == (
        "0.0.0.0-255.255.255.255[External] => b[Pod] : TCP 80,UDP 53\n"
    )


@pytest.mark.parametrize("case", CASES)
def test_connlist_matches_netpol_analyzer(case: str) -> None:
    reach = analyze(build_cluster(load_paths(case_paths(case))))
    expected = with_expected_differences(case, expected_text(case))
    assert render(reach, "txt") == expected


Row = tuple[str, str, str]
TABLE_FORMATS = ("csv", "md", "json")
FORMAT_CASES = sorted(
    (case, fmt) for case in CASES for fmt in TABLE_FORMATS if (UPSTREAM / case / f"expected.{fmt}").exists()
)


def _table_rows(fmt: str, text: str) -> tuple[list[str], list[Row]]:
    """(header lines, (src, dst, conn) rows) of upstream's csv, md or json list, which
    netpolui's csv and md share and its json carries in ``connections``."""
    if fmt == "csv":
        header, *rows = list(csv.reader(io.StringIO(text)))
        return [",".join(header)], [(r[0], r[1], r[2]) for r in rows]
    if fmt == "md":
        lines = text.strip("\n").splitlines()
        cells = [line.strip("| ").split(" | ") for line in lines[2:]]
        return lines[:2], [(c[0], c[1], c[2]) for c in cells]
    data = json.loads(text)
    items = data["connections"] if isinstance(data, dict) else data
    return [], [(c["src"], c["dst"], c["conn"]) for c in items]


def _bridged(case: str, rows: list[Row]) -> list[Row]:
    """Upstream's rows through the format bridges and the case's expected differences."""
    text = upstream_text("".join(f"{s} => {d} : {c}\n" for s, d, c in rows))
    out = []
    for line in with_expected_differences(case, text).splitlines():
        pair, _, conn = line.rpartition(" : ")
        src, _, dst = pair.partition(" => ")
        out.append((src, dst, conn))
    return out


@pytest.mark.parametrize(("case", "fmt"), FORMAT_CASES)
def test_table_formats_match_netpol_analyzer(case: str, fmt: str) -> None:
    """Upstream's csv and md are ours row for row; its json is a bare list of
    ``{src, dst, conn}``, which netpolui's json carries as ``connections`` (with the
    structured ``conns`` besides)."""
    reach = analyze(build_cluster(load_paths(case_paths(case))))
    upstream_header, upstream_rows = _table_rows(fmt, (UPSTREAM / case / f"expected.{fmt}").read_text())
    header, rows = _table_rows(fmt, render(reach, fmt))
    assert header == upstream_header
    assert rows == _bridged(case, upstream_rows)


_DOT_NODE = re.compile(r'^\t+"([^"]+)" \[label="([^"]*)" color="([^"]*)" fontcolor="([^"]*)"\]$')
_DOT_EDGE = re.compile(r'^\t+"([^"]+)" -> "([^"]+)" \[label="([^"]*)" color="([^"]*)" fontcolor="([^"]*)"')
_DOT_CLUSTER = re.compile(r'^\t+label="([^"]*)"$')


def _dot_graph(text: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(nodes as (namespace box, id, label, colours), edges as (src, dst, label, colours)) of
    a dot file, in file order; layout-only attributes (upstream's edge ``weight``,
    ``newrank``) and the quoting of subgraph names are left out."""
    nodes: list[tuple[str, ...]] = []
    edges: list[tuple[str, ...]] = []
    pending: list[tuple[str, ...]] = []
    for line in text.splitlines():
        if m := _DOT_NODE.match(line):
            pending.append(m.groups())
        elif m := _DOT_EDGE.match(line):
            edges.append(m.groups())
        elif m := _DOT_CLUSTER.match(line):
            nodes += [(m.group(1), *node) for node in pending]
            pending = []
    return nodes + [("", *node) for node in pending], edges


def _bridged_dot(text: str) -> str:
    text = re.sub(r'"(\d+\.\d+\.\d+\.\d+-\d+\.\d+\.\d+\.\d+)"', r'"\1[External]"', text)
    return re.sub(
        r'label="All but: ([^"]+)"',
        lambda m: f'label="{_conns_text(_complement(_parse_conns(m.group(1))))}"',
        text,
    )


DOT_CASES = sorted(case for case in CASES if (UPSTREAM / case / "expected.dot").exists())


@pytest.mark.parametrize("case", DOT_CASES)
def test_dot_draws_netpol_analyzers_graph(case: str) -> None:
    """The same namespace boxes, nodes and edges with the same labels and colours."""
    reach = analyze(build_cluster(load_paths(case_paths(case))))
    expected = _bridged_dot((UPSTREAM / case / "expected.dot").read_text())
    assert _dot_graph(render(reach, "dot")) == _dot_graph(expected)


FOCUS = UPSTREAM / "focus"
BLOG_DEMO = Path(__file__).parent / "golden" / "upstream_anp_banp_blog_demo" / "input"
# upstream's --focus-workload runs (connlist_test.go's goodPathTests): output name -> inputs,
# workloads; netpolui's --focus is given once per workload.
FOCUS_CASES = {
    "anp_banp_blog_demo_focus_workload_myfoo_mybar": ([BLOG_DEMO], ("myfoo", "mybar")),
    "k8s_ingress_test_focus_workload_details-v1-79f774bdb9": (
        case_paths("k8s_ingress_test"),
        ("details-v1-79f774bdb9",),
    ),
}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [(n, f) for n in sorted(FOCUS_CASES) for f in ("txt", *TABLE_FORMATS) if (FOCUS / f"{n}.{f}").exists()],
)
def test_focus_workloads_match_netpol_analyzer(name: str, fmt: str) -> None:
    inputs, workloads = FOCUS_CASES[name]
    res = _cli("analyze", *inputs, "-o", fmt, *(arg for w in workloads for arg in ("--focus", w)))
    assert res.returncode == 0, res.stderr
    expected = (FOCUS / f"{name}.{fmt}").read_text()
    if fmt == "txt":
        assert res.stdout == with_expected_differences(name, upstream_text(expected))
        return
    upstream_header, upstream_rows = _table_rows(fmt, expected)
    header, rows = _table_rows(fmt, res.stdout)
    assert (header, rows) == (upstream_header, _bridged(name, upstream_rows))


DIFF = UPSTREAM / "diff"
# upstream's test_outputs/diff/diff_between_<dir2>_and_<dir1>.txt: ref1 is dir1, ref2 dir2.
DIFF_CASES = {
    "diff_between_k8s_ingress_test_new_and_k8s_ingress_test": ("k8s_ingress_test", "k8s_ingress_test_new"),
    "diff_between_semanticDiff-same-topologies-new2_and_semanticDiff-same-topologies-old2": (
        "semanticDiff-same-topologies-old2",
        "semanticDiff-same-topologies-new2",
    ),
    "diff_between_anp_banp_core_test_and_anp_np_banp_core_test": (
        "anp_np_banp_core_test",
        "anp_banp_core_test",
    ),
    "diff_between_new_online_boutique_synthesis_and_new_online_boutique": (
        "new_online_boutique",
        "new_online_boutique_synthesis",
    ),
    "diff_between_deny_all_to_from_a_deployment_changed_netpol_and_deny_all_to_from_a_deployment": (
        "deny_all_to_from_a_deployment",
        "deny_all_to_from_a_deployment_changed_netpol",
    ),
}


def upstream_diff_text(text: str) -> str:
    """Upstream's diff with the `[External]` suffix its older outputs lack."""
    return re.sub(r"(: \d+\.\d+\.\d+\.\d+-\d+\.\d+\.\d+\.\d+)(?=,)", r"\1[External]", text)


def test_upstream_diff_text_bridges_only_the_external_suffix() -> None:
    line = "diff-type: added, source: 0.0.0.0-255.255.255.255, destination: a[Pod], ref1: No Connections"
    assert upstream_diff_text(line) == line.replace("255.255.255.255,", "255.255.255.255[External],")
    assert upstream_diff_text(upstream_diff_text(line)) == upstream_diff_text(line)


@pytest.mark.parametrize("name", sorted(DIFF_CASES))
def test_diff_matches_netpol_analyzer(name: str) -> None:
    ref1, ref2 = (build_cluster(load_paths(case_paths(case))) for case in DIFF_CASES[name])
    expected = with_expected_differences(name, upstream_diff_text((DIFF / f"{name}.txt").read_text()))
    assert diff_clusters(ref1, ref2).render("txt") == expected


def test_enough_cases_are_ported() -> None:
    assert len(CASES) >= 50


@dataclass(frozen=True)
class FatalInput:
    upstream_error: str
    names: str


# connlist_test.go's TestConnlistAnalyzeFatalErrors: inputs upstream refuses outright, each
# with the upstream alert it expects and the field netpolui's message must name.
UPSTREAM_FATAL_INPUTS = {
    "bad_netpols/subdir1": FatalInput("CidrErrTitle, InvalidCIDRAddr", 'ipBlock.cidr "A"'),
    "bad_netpols/subdir2": FatalInput("SelectorErrTitle, InvalidKeyVal", 'key "app@b"'),
    "bad_netpols/subdir3": FatalInput("RulePeerErrTitle, CombinedRulePeerErrStr", "may not combine ipBlock"),
    "bad_netpols/subdir4": FatalInput("RulePeerErrTitle, EmptyRulePeerErrStr", "must specify podSelector"),
    "bad_netpols/subdir7": FatalInput("SelectorErrTitle", 'value "$backendservice"'),
    "np_bad_path_test_2": FatalInput("EndPortWithNamedPortErrStr", 'endPort may not be set when port is the named port "http"'),
    "np_test_with_empty_port_range": FatalInput("IllegalPortRangeError(10, 1)", "endPort 1 is below port 10"),
}


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policies.engine.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("case", sorted(UPSTREAM_FATAL_INPUTS))
def test_input_upstream_refuses_is_refused_naming_the_field(case: str) -> None:
    res = _cli("analyze", UPSTREAM / case)
    assert res.returncode == 2, res.stdout
    assert UPSTREAM_FATAL_INPUTS[case].names in res.stderr


def test_named_port_towards_an_ipblock_is_read_as_the_api_server_reads_it() -> None:
    """Upstream refuses bad_netpols/subdir6 (NamedPortErrTitle, ConvertNamedPortErrStr: a
    named port in a rule whose peer is an ipBlock). The API server accepts that policy and a
    named port resolves on destination pods only, so the rule admits nothing towards the
    addresses and the policy is analysed like the others."""
    res = _cli("analyze", UPSTREAM / "bad_netpols" / "subdir6", UPSTREAM / "new_online_boutique_manifests")
    assert res.returncode == 0, res.stderr
    shipping_out = [line for line in res.stdout.splitlines() if line.startswith("default/shippingservice[")]
    assert shipping_out == []
