"""The `netpolui` command: the engine on manifest files, no database needed.

    netpolui analyze PATH... [-o txt|json|csv|md|dot|svg|png|html] [--level workload|pod]
                     [--direction combined|ingress|egress] [--focus WORKLOAD]... [--explain]
    netpolui explain PATH... --src X --dst Y [--port P] [--protocol TCP] [-o txt|json]
    netpolui diff OLD NEW [-o txt|csv|md|json] [--level workload|pod] [--fail-on-change]
    netpolui lint PATH... [-o txt|json]

Every command reads within caps: --max-file-size (default 5M) for each file,
--max-total-size (default 50M) for all files together; beyond them exit 2.

Instead of PATH... every command can read a live cluster: `--context CTX [--kubeconfig
PATH] [--namespace NS ...]`; `diff --context CTX DIR` compares the cluster (old) with DIR
(new), `diff DIR --context CTX` compares DIR (old) with the cluster (new); without
--context (the kubectl plugin's current context) the cluster is old. The engine
never talks to a cluster itself: the caller passes `live_reader`, which returns plain
dicts (policies/cli.py does, with the kubernetes client).

Exit status: 0 success; 1 `diff --fail-on-change` found differences; 2 bad input, usage
or an unreadable cluster, with `file:line: what is wrong` (or the cluster's error) on
stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from .cluster import Cluster, build_cluster
from .cni.build import CNI_CHOICES
from .diff import DIFF_FORMATS, diff_clusters
from .explain import UnknownEndpoint, explain
from .formats import FORMATS, render, write
from .lint import findings
from .manifests import InputError, ManifestError, load_documents, load_paths
from .pairs import PairTable
from .pictures import PICTURE_FORMATS, GraphvizUnavailable, render_picture
from .reachability import Analyzer, analyze
from .safe_input import DEFAULT_LIMITS, ReadLimits

EXIT_OK = 0
EXIT_CHANGED = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class LiveRequest:
    """Which cluster to read: a kubeconfig context (None: the current one) and namespaces."""

    context: str | None
    kubeconfig: str
    namespaces: tuple[str, ...]


class SourceUnavailable(Exception):
    """A live cluster could not be read; the message says which and why."""


LiveReader = Callable[[LiveRequest], tuple[list[dict[str, Any]], str]]
"""Reads a cluster: its objects as plain dicts and a name for messages (`context dev`)."""


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


def _cni_notes(cluster: Cluster) -> None:
    if not cluster.cni_policies and cluster.cni == "none":
        return
    print(f"netpolui: note: policies enforced by CNI {cluster.cni} ({cluster.cni_detected_by})", file=sys.stderr)
    skipped = [i.key for i in cluster.cni_policies.values() if i.cni != cluster.cni]
    if skipped:
        print(
            f"netpolui: note: {len(skipped)} CNI polic{'y' if len(skipped) == 1 else 'ies'} of another CNI "
            f"listed, not applied: {', '.join(skipped)}",
            file=sys.stderr,
        )


@contextlib.contextmanager
def _bulk_reading() -> Iterator[None]:
    """The cyclic garbage collector paused while the input is read and modelled.

    Reading makes about a hundred objects per manifest object (a million on the
    1,000-workload cluster), all kept until the run ends and none of them cyclic
    garbage: the collector would walk them again and again, about a third of the time
    of the read. What was built is then frozen (left out of later collections);
    `main` unfreezes it when the command is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _load(
    paths: Sequence[str], limits: ReadLimits = DEFAULT_LIMITS, cni: str | None = None
) -> Cluster:
    with _bulk_reading():
        return _load_unpaused(paths, limits, cni)


def _load_unpaused(paths: Sequence[str], limits: ReadLimits, cni: str | None) -> Cluster:
    inventory = load_paths(paths, limits)
    if not inventory.objects and not inventory.skipped:
        for note in inventory.notes:
            print(f"netpolui: note: {note}", file=sys.stderr)
        where = ", ".join(paths)
        raise ManifestError(
            [InputError(where, 0, "", "", "no Kubernetes object found (no YAML or JSON document with a kind)")]
        )
    cluster = build_cluster(inventory, cni=cni)
    for note in cluster.notes:
        print(f"netpolui: note: {note}", file=sys.stderr)
    _cni_notes(cluster)
    return cluster


def _wants_live(args: argparse.Namespace, paths: Sequence[str]) -> bool:
    return bool(args.context is not None or args.kubeconfig or (args.live_by_default and not paths))


def _load_live(args: argparse.Namespace) -> Cluster:
    reader: LiveReader | None = args.live_reader
    if reader is None:
        raise SourceUnavailable(
            "reading a live cluster needs the kubernetes client: run the installed `netpolui` command"
        )
    objects, source = reader(
        LiveRequest(args.context, args.kubeconfig or "", tuple(dict.fromkeys(args.namespace or ())))
    )
    with _bulk_reading():
        cluster = build_cluster(load_documents(objects, source=source), cni=getattr(args, "cni", None))
    for note in cluster.notes:
        print(f"netpolui: note: {note}", file=sys.stderr)
    _cni_notes(cluster)
    return cluster


def _load_input(args: argparse.Namespace) -> Cluster:
    """The cluster to work on: the PATHs, or the live cluster of --context."""
    if _wants_live(args, args.paths):
        if args.paths:
            raise ValueError("give PATH... or --context, not both")
        return _load_live(args)
    if not args.paths:
        raise ValueError("give manifest PATH... or a live cluster with --context CTX")
    if args.namespace:
        raise ValueError("--namespace applies to a live cluster (--context) only")
    return _load(args.paths, _limits(args), args.cni)


def _cmd_analyze(args: argparse.Namespace) -> int:
    cluster = _load_input(args)
    if not args.explain and args.output not in PICTURE_FORMATS:
        return _stream_analysis(cluster, args)
    reach = analyze(cluster, level=args.level, direction=args.direction)
    if args.focus:
        for name in args.focus:
            if not any(n.is_named(name) for n in reach.nodes):
                return _unknown_focus(name)
        reach = reach.focus(*args.focus)
    if not reach.connections:
        print(
            "netpolui: note: no allowed connections between the workloads and address ranges of the input",
            file=sys.stderr,
        )
    if args.output in PICTURE_FORMATS:
        title = f"netpolui: {_source_name(args)}"
        sys.stdout.buffer.write(render_picture(reach, args.output, title=title))
        sys.stdout.flush()
        return EXIT_OK
    sys.stdout.write(render(reach, args.output, explain=cluster if args.explain else None))
    return EXIT_OK


def _unknown_focus(name: str) -> int:
    print(f"netpolui: error: --focus {name!r} names no workload in the input", file=sys.stderr)
    return EXIT_BAD_INPUT


def _source_name(args: argparse.Namespace) -> str:
    if args.paths:
        return " ".join(args.paths)
    return f"context {args.context}" if args.context else "the current context"


def _stream_analysis(cluster: Cluster, args: argparse.Namespace) -> int:
    """The connection list written row by row from the cells: no pair is held as an
    object, so a cluster with millions of pairs streams in bounded memory."""
    table = PairTable(Analyzer(cluster), level=args.level, direction=args.direction)
    focus: frozenset[int] | None = None
    if args.focus:
        focus = frozenset()
        for name in args.focus:
            ranks = table.focus_ranks(name)
            if not ranks:
                return _unknown_focus(name)
            focus |= ranks
    if not write(table, args.output, sys.stdout, focus=focus):
        print(
            "netpolui: note: no allowed connections between the workloads and address ranges of the input",
            file=sys.stderr,
        )
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    cluster = _load_input(args)
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
    old_cluster, new_cluster = _diff_sides(args)
    result = diff_clusters(old_cluster, new_cluster, level=args.level)
    if result.is_empty:
        print("netpolui: note: no connections diff", file=sys.stderr)
    sys.stdout.write(result.render(args.output))
    return EXIT_CHANGED if args.fail_on_change and not result.is_empty else EXIT_OK


def _diff_sides(args: argparse.Namespace) -> tuple[Cluster, Cluster]:
    given = [p for p in (args.old, args.new) if p is not None]
    if not _wants_live(args, given[1:]):
        if len(given) != 2:
            raise ValueError("diff needs OLD and NEW, or one DIR and --context CTX")
        return _load([args.old], _limits(args), args.cni), _load([args.new], _limits(args), args.cni)
    if len(given) != 1:
        raise ValueError("diff with a live cluster takes one DIR: `diff --context CTX DIR` or `diff DIR --context CTX`")
    files = _load(given, _limits(args), args.cni)
    live = _load_live(args)
    # The side written first is OLD: `--context CTX DIR` = what applying DIR would change,
    # `DIR --context CTX` = how the cluster drifted from DIR.
    return (files, live) if args.live_after_paths else (live, files)


class _ContextOption(argparse.Action):
    """--context, remembering whether a path came before it (diff's order: the side
    written first is OLD; without --context the cluster is OLD)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        first = getattr(namespace, "old", None) or getattr(namespace, "paths", None)
        namespace.live_after_paths = bool(first)


def _add_live_options(p: argparse.ArgumentParser) -> None:
    p.set_defaults(live_after_paths=False)
    live = p.add_argument_group("live cluster (instead of PATH)")
    live.add_argument(
        "--context", action=_ContextOption, metavar="CTX", help="kubeconfig context to read (read-only)"
    )
    live.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)"
    )
    live.add_argument(
        "-n", "--namespace", action="append", metavar="NS", help="read only this namespace (repeatable)"
    )


def _cmd_lint(args: argparse.Namespace) -> int:
    found = findings(_load_input(args))
    if args.output == "json":
        sys.stdout.write(json.dumps([f.to_dict() for f in found], indent=2) + "\n")
    else:
        sys.stdout.write("".join(f"{f}\n" for f in found) or "no findings\n")
    return EXIT_OK


def build_parser(prog: str = "netpolui") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="Who can reach whom under Kubernetes NetworkPolicies.")
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
    caps.add_argument(
        "--cni",
        choices=CNI_CHOICES,
        default=None,
        help="the CNI that enforces policies (default: detected from its agent pods or its policy objects); "
        "other CNIs' policies are listed, never applied",
    )

    p = sub.add_parser("analyze", parents=[caps], help="list allowed connections (np-guard compatible txt)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="YAML/JSON files or directories")
    _add_live_options(p)
    p.add_argument(
        "-o",
        "--output",
        choices=FORMATS + PICTURE_FORMATS,
        default="txt",
        help="svg and png are drawn by Graphviz's dot; html is one page with graph and matrix",
    )
    p.add_argument("--level", choices=("workload", "pod"), default="workload")
    p.add_argument("--direction", choices=("combined", "ingress", "egress"), default="combined")
    p.add_argument(
        "--focus",
        metavar="WORKLOAD",
        action="append",
        help="keep pairs involving this workload (name, ns/name or key); repeat for several",
    )
    p.add_argument(
        "--explain", action="store_true", help="annotate each pair with the rules allowing it"
    )
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser("explain", parents=[caps], help="why one connection is allowed or denied")
    p.add_argument("paths", nargs="*", metavar="PATH")
    _add_live_options(p)
    p.add_argument("--src", required=True, help="ns/name, ns/name[Kind] or an IP address")
    p.add_argument("--dst", required=True, help="ns/name, ns/name[Kind] or an IP address")
    p.add_argument("--port", help="port number or name (default: every connection)")
    p.add_argument("--protocol", type=str.upper, choices=("TCP", "UDP", "SCTP"), default="TCP")
    p.add_argument("-o", "--output", choices=("txt", "json"), default="txt")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser(
        "diff", parents=[caps], help="connections added, removed and changed between two manifest sets"
    )
    p.add_argument("old", metavar="OLD", nargs="?")
    p.add_argument("new", metavar="NEW", nargs="?")
    _add_live_options(p)
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
    p.add_argument("paths", nargs="*", metavar="PATH")
    _add_live_options(p)
    p.add_argument("-o", "--output", choices=("txt", "json"), default="txt")
    p.set_defaults(func=_cmd_lint)
    return parser


_CAP_FLAGS = (("limit for one file", "--max-file-size"), ("limit for one source", "--max-total-size"))


def main(
    argv: Sequence[str] | None = None,
    *,
    live_reader: LiveReader | None = None,
    live_by_default: bool = False,
    prog: str = "netpolui",
) -> int:
    """Run one command. `live_reader` reads --context clusters; with `live_by_default`
    (the kubectl plugin) a command without PATH reads the current context."""
    args = build_parser(prog).parse_args(argv)
    args.live_reader = live_reader
    args.live_by_default = live_by_default
    try:
        code: int = args.func(args)
    except ManifestError as exc:
        for err in exc.errors:
            hint = next((f" (see {flag})" for words, flag in _CAP_FLAGS if words in err.message), "")
            print(f"{err}{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (UnknownEndpoint, ValueError, SourceUnavailable, GraphvizUnavailable) as exc:
        print(f"netpolui: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    finally:
        gc.unfreeze()  # what _bulk_reading froze
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
