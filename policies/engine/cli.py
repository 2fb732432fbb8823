"""The `netpolui` command: the engine on manifest files, no database needed.

    netpolui analyze PATH... [-o txt|json|csv|md|dot] [--level workload|pod]
                     [--direction combined|ingress|egress] [--focus WORKLOAD] [--explain]
    netpolui explain PATH... --src X --dst Y [--port P] [--protocol TCP] [-o txt|json]
    netpolui diff OLD NEW [-o txt|csv|md|json] [--level workload|pod] [--fail-on-change]
    netpolui lint PATH... [-o txt|json]

Every command reads within caps: --max-file-size (default 5M) for each file,
--max-total-size (default 50M) for all files together; beyond them exit 2.

Exit status: 0 success; 1 `diff --fail-on-change` found differences; 2 bad input or
usage, with `file:line: what is wrong` on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from .cluster import Cluster, build_cluster
from .diff import DIFF_FORMATS, diff_clusters
from .explain import UnknownEndpoint, explain
from .formats import FORMATS, render, write
from .lint import findings
from .manifests import InputError, ManifestError, load_paths
from .pairs import PairTable
from .reachability import Analyzer, analyze
from .safe_input import DEFAULT_LIMITS, ReadLimits

EXIT_OK = 0
EXIT_CHANGED = 1
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"netpolui: error: {message}\n")


_SIZE = re.compile(r"^(\d+)\s*([kmg]?)i?b?$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size_argument(text: str) -> int:
    """`5M`, `500k`, `1G` or a number of bytes."""
    match = _SIZE.match(text.strip())
    if not match or int(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 5M, 500k or 1048576")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def _limits(args: argparse.Namespace) -> ReadLimits:
    return ReadLimits(file_bytes=args.max_file_size, source_bytes=args.max_total_size)


def _load(paths: Sequence[str], limits: ReadLimits = DEFAULT_LIMITS) -> Cluster:
    inventory = load_paths(paths, limits)
    if not inventory.objects and not inventory.skipped:
        for note in inventory.notes:
            print(f"netpolui: note: {note}", file=sys.stderr)
        where = ", ".join(paths)
        raise ManifestError(
            [InputError(where, 0, "", "", "no Kubernetes object found (no YAML or JSON document with a kind)")]
        )
    cluster = build_cluster(inventory)
    for note in cluster.notes:
        print(f"netpolui: note: {note}", file=sys.stderr)
    return cluster


def _cmd_analyze(args: argparse.Namespace) -> int:
    cluster = _load(args.paths, _limits(args))
    if not args.explain:
        return _stream_analysis(cluster, args)
    reach = analyze(cluster, level=args.level, direction=args.direction)
    if args.focus:
        if not any(args.focus in (n.key, f"{n.namespace}/{n.name}", n.name) for n in reach.nodes):
            print(
                f"netpolui: error: --focus {args.focus!r} names no workload in the input",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        reach = reach.focus(args.focus)
    if not reach.connections:
        print(
            "netpolui: note: no allowed connections between the workloads and address ranges of the input",
            file=sys.stderr,
        )
    sys.stdout.write(render(reach, args.output, explain=cluster if args.explain else None))
    return EXIT_OK


def _stream_analysis(cluster: Cluster, args: argparse.Namespace) -> int:
    """The connection list written row by row from the cells: no pair is held as an
    object, so a cluster with millions of pairs streams in bounded memory."""
    table = PairTable(Analyzer(cluster), level=args.level, direction=args.direction)
    focus = None
    if args.focus:
        focus = table.focus_ranks(args.focus)
        if not focus:
            print(
                f"netpolui: error: --focus {args.focus!r} names no workload in the input",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
    if not write(table, args.output, sys.stdout, focus=focus):
        print(
            "netpolui: note: no allowed connections between the workloads and address ranges of the input",
            file=sys.stderr,
        )
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    cluster = _load(args.paths, _limits(args))
    port: int | str | None = args.port
    if isinstance(port, str) and port.isdigit() and port.isascii():
        port = int(port)
    result = explain(cluster, args.src, args.dst, port=port, protocol=args.protocol)
    if args.output == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(result.render_text())
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    limits = _limits(args)
    result = diff_clusters(_load([args.old], limits), _load([args.new], limits), level=args.level)
    if result.is_empty:
        print("netpolui: note: no connections diff", file=sys.stderr)
    sys.stdout.write(result.render(args.output))
    return EXIT_CHANGED if args.fail_on_change and not result.is_empty else EXIT_OK


def _cmd_lint(args: argparse.Namespace) -> int:
    found = findings(_load(args.paths, _limits(args)))
    if args.output == "json":
        sys.stdout.write(json.dumps([f.to_dict() for f in found], indent=2) + "\n")
    else:
        sys.stdout.write("".join(f"{f}\n" for f in found) or "no findings\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netpolui", description="Who can reach whom under Kubernetes NetworkPolicies."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    caps = _Parser(add_help=False)
    caps.add_argument(
        "--max-file-size",
        type=size_argument,
        default=DEFAULT_LIMITS.file_bytes,
        metavar="SIZE",
        help="refuse a file larger than this (default 5M)",
    )
    caps.add_argument(
        "--max-total-size",
        type=size_argument,
        default=DEFAULT_LIMITS.source_bytes,
        metavar="SIZE",
        help="refuse input adding up to more than this (default 50M)",
    )

    p = sub.add_parser("analyze", parents=[caps], help="list allowed connections (np-guard compatible txt)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="YAML/JSON files or directories")
    p.add_argument("-o", "--output", choices=FORMATS, default="txt")
    p.add_argument("--level", choices=("workload", "pod"), default="workload")
    p.add_argument("--direction", choices=("combined", "ingress", "egress"), default="combined")
    p.add_argument(
        "--focus",
        metavar="WORKLOAD",
        help="keep pairs involving this workload (name, ns/name or key)",
    )
    p.add_argument(
        "--explain", action="store_true", help="annotate each pair with the rules allowing it"
    )
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser("explain", parents=[caps], help="why one connection is allowed or denied")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--src", required=True, help="ns/name, ns/name[Kind] or an IP address")
    p.add_argument("--dst", required=True, help="ns/name, ns/name[Kind] or an IP address")
    p.add_argument("--port", help="port number or name (default: every connection)")
    p.add_argument("--protocol", type=str.upper, choices=("TCP", "UDP", "SCTP"), default="TCP")
    p.add_argument("-o", "--output", choices=("txt", "json"), default="txt")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser(
        "diff", parents=[caps], help="connections added, removed and changed between two manifest sets"
    )
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p.add_argument(
        "-o",
        "--output",
        choices=DIFF_FORMATS,
        default="txt",
        help="netpol-analyzer's diff format (txt, csv, md) or json",
    )
    p.add_argument("--level", choices=("workload", "pod"), default="workload")
    p.add_argument(
        "--fail-on-change", action="store_true", help="exit 1 when there are differences"
    )
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser(
        "lint", parents=[caps], help="findings: unprotected workloads, dead selectors, missing DNS..."
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-o", "--output", choices=("txt", "json"), default="txt")
    p.set_defaults(func=_cmd_lint)
    return parser


_CAP_FLAGS = (("limit for one file", "--max-file-size"), ("limit for one source", "--max-total-size"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ManifestError as exc:
        for err in exc.errors:
            hint = next((f" (see {flag})" for words, flag in _CAP_FLAGS if words in err.message), "")
            print(f"{err}{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (UnknownEndpoint, ValueError) as exc:
        print(f"netpolui: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
