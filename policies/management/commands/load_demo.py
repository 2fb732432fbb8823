from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from policies.models import Cluster
from policies.services.sync import ClusterSpec, load_manifests, register_cluster

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


class Command(BaseCommand):
    help = "Load (or reload) the bundled demo cluster: the 3-tier app of the seed article."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="demo")

    def handle(self, *args: Any, **opts: Any) -> None:
        cluster = Cluster.objects.filter(name=opts["name"]).first()
        if cluster is None:
            cluster = register_cluster(
                ClusterSpec(
                    name=opts["name"],
                    source=Cluster.Source.MANIFESTS,
                    manifests_dir=str(DEMO_DIR),
                    description="Bundled demo: the 3-tier app with default deny and DNS",
                )
            )
        counts = load_manifests(cluster)
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        self.stdout.write(f"demo cluster {cluster.name!r} loaded: {summary}")
