from __future__ import annotations

import signal
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.models import Cluster
from policies.services.sync import ClusterBusy, ClusterSetupError, sync_cluster


class Command(BaseCommand):
    help = "Sync a cluster in the foreground: list, then watch (or --once: one list pass)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--once", action="store_true", help="one list pass, then exit")
        parser.add_argument("--duration", type=float, default=None, help="watch for this many seconds")

    def handle(self, *args: Any, **opts: Any) -> None:
        cluster = Cluster.objects.filter(name=opts["name"]).first()
        if cluster is None:
            names = ", ".join(Cluster.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"no cluster named {opts['name']!r} (clusters: {names})")

        def progress(message: str) -> None:
            self.stdout.write(f"{cluster.name}: {message}")
            self.stdout.flush()

        running = []

        def stop(signum: int, frame: Any) -> None:
            progress("stopping")
            for sync in running:
                sync.stop()

        # Trap SIGTERM/SIGINT so a stop finishes the current write and releases the lock.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            ok = sync_cluster(
                cluster,
                once=opts["once"],
                duration=opts["duration"],
                progress=progress,
                on_start=running.append,
            )
        except ClusterBusy as exc:
            raise CommandError(str(exc)) from exc
        except ClusterSetupError as exc:
            raise CommandError(str(exc)) from exc
        cluster.refresh_from_db()
        if not ok:
            self.stderr.write(f"{cluster.name}: sync failed: {cluster.last_error}")
            sys.exit(1)
        progress(f"done, state version {cluster.state_version}")
