from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from policies.models import Cluster
from policies.services.sync import ClusterSpec, load_manifests, register_cluster

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
CILIUM_DEMO_DIR = Path(__file__).resolve().parents[2] / "demo_cilium"
CILIUM_DEMO = "demo-cilium"


class Command(BaseCommand):
    help = (
        "Load (or reload) the bundled demo clusters: the 3-tier app of the seed article, and "
        "demo-cilium, the same app run by Cilium with Cilium policies that change its answers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="demo")
        parser.add_argument(
            "--without-cilium", action="store_true", help=f"do not load the {CILIUM_DEMO} cluster"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        self._load(opts["name"], DEMO_DIR, "Bundled demo: the 3-tier app with default deny and DNS")
        if not opts["without_cilium"]:
            self._load(
                CILIUM_DEMO,
                CILIUM_DEMO_DIR,
                "Bundled demo: the same app run by Cilium, with deny, FQDN and clusterwide Cilium policies",
            )

    def _load(self, name: str, directory: Path, description: str) -> None:
        cluster = Cluster.objects.filter(name=name).first()
        if cluster is None:
            cluster = register_cluster(
                ClusterSpec(
                    name=name,
                    source=Cluster.Source.MANIFESTS,
                    manifests_dir=str(directory),
                    description=description,
                )
            )
        counts = load_manifests(cluster)
        summary = ", ".join(f"{n} {kind.removeprefix('cni:')}" for kind, n in counts.items() if n)
        self.stdout.write(f"demo cluster {cluster.name!r} loaded: {summary}")
