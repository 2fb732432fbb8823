"""The `netpolui` and `kubectl-netpolui` console scripts.

Both run the engine's command line (policies.engine.cli) and give it a reader for live
clusters. The kubernetes client is imported only when a command reads a cluster, so
file-only runs start as fast as the engine alone. Nothing here needs Django or a
database.

`kubectl netpolui ...` finds `kubectl-netpolui` on PATH (kubectl's plugin rule); as a
plugin, a command given no PATH reads kubectl's current context.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from policies.engine import cli as engine_cli

# The kubernetes client's log lines (and ours, unconfigured) would be extra stderr lines
# next to the one error in our words.
_SILENT = logging.NullHandler()


def read_live(request: engine_cli.LiveRequest) -> tuple[list[dict[str, Any]], str]:
    """The engine's LiveReader: one read-only pass over the cluster of `request`."""
    try:
        from policies.k8s.live import LiveReadError, read_cluster, resolve_context
    except ImportError as exc:  # installed without its dependencies
        raise engine_cli.SourceUnavailable(
            f"reading a live cluster needs the kubernetes Python client ({exc}): pip install kubernetes"
        ) from exc

    logging.getLogger().addHandler(_SILENT)
    try:
        context = resolve_context(request.context, request.kubeconfig)
        snapshot = read_cluster(
            context, kubeconfig=request.kubeconfig, namespaces=request.namespaces
        )
    except LiveReadError as exc:
        raise engine_cli.SourceUnavailable(str(exc)) from exc
    for note in snapshot.notes:
        print(f"netpolui: note: {note}", file=sys.stderr)
    return snapshot.objects, f"context {context}"


def main(argv: Sequence[str] | None = None) -> int:
    return engine_cli.main(argv, live_reader=read_live)


def kubectl_main(argv: Sequence[str] | None = None) -> int:
    return engine_cli.main(
        argv, live_reader=read_live, live_by_default=True, prog="kubectl netpolui"
    )


def exit_now(code: int) -> NoReturn:
    """End the process once its output is out, without freeing the heap object by
    object: a 1,000-workload cluster's model and analysis took 100-150 ms to tear
    down, a tenth of `netpolui analyze`'s run. Nothing of ours waits for an atexit
    hook; the kubernetes client's threads, if any, end with the process."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone, or a closed stream
            stream.flush()
    os._exit(code)


def run() -> NoReturn:
    """The `netpolui` console script."""
    exit_now(main())


def kubectl_run() -> NoReturn:
    """The `kubectl-netpolui` console script."""
    exit_now(kubectl_main())


if __name__ == "__main__":  # pragma: no cover - `python -m policies.cli`
    run()
