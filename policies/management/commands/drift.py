"""`manage.py drift CLUSTER [--fail-on-drift]`: the drift report, for people and CI.

Exit status: 0 when compared (with --fail-on-drift: and no drift), 1 with
--fail-on-drift when there is drift, 2 for an unknown cluster, a cluster without a
desired-state source, or a source that could not be read (the report says which).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from policies.models import Cluster, DesiredSource, DriftReport
from policies.services import drift

EXIT_DRIFT = 1
EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = (
        "Compare a cluster's desired state (its configured sources, or one given here) with "
        "the policies it runs; print the differences and their effect on reachability."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cluster", help="cluster name (or id)")
        parser.add_argument(
            "--fail-on-drift", action="store_true", help="exit 1 when the cluster differs from the desired state"
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--no-store", action="store_true", help="do not store the report in the cluster's drift history"
        )
        source = parser.add_argument_group(
            "a one-off desired state instead of the cluster's sources (the report is not stored)"
        )
        source.add_argument("--git", metavar="URL_OR_PATH", help="a Git repository")
        source.add_argument("--branch", default="", help="branch of --git (default: the remote's HEAD)")
        source.add_argument("--subdir", default="", help="sub-directory of --git or --directory")
        source.add_argument("--directory", metavar="PATH", help="a directory of manifests")
        source.add_argument("--file", metavar="PATH", help="a multi-document YAML file")
        source.add_argument("--namespaces", default="", help="comma-separated namespaces the source speaks for")

    def handle(self, *args: Any, **opts: Any) -> None:
        cluster = self._cluster(opts["cluster"])
        sources = self._one_off_source(cluster, opts)
        store = not opts["no_store"] and sources is None
        try:
            result = drift.run_drift(cluster, sources)
        except drift.NoSources as exc:
            raise CommandError(
                f"{exc}: add one on the drift page, with the API, or give --git, --directory or --file",
                returncode=EXIT_BAD_INPUT,
            ) from None
        if store:
            report = drift.store_report(result)
            items = list(report.items.all())
        else:
            report, items = drift.build_report(result, now=timezone.now())
        if opts["json"]:
            self.stdout.write(json.dumps(self._payload(report, items), indent=2, default=str))
        else:
            self.stdout.write(drift.render_text(report, items), ending="")
        if report.status != DriftReport.Status.OK:
            raise CommandError(
                f"drift of {cluster.name}: the desired state has errors (see above)", returncode=EXIT_BAD_INPUT
            )
        if opts["fail_on_drift"] and report.has_drift:
            raise CommandError(
                f"{cluster.name} differs from the desired state: {report.missing_count} missing, "
                f"{report.changed_count} changed, {report.extra_count} extra",
                returncode=EXIT_DRIFT,
            )

    @staticmethod
    def _cluster(name: str) -> Cluster:
        cluster = Cluster.objects.filter(name=name).first()
        if cluster is None and name.isdigit() and name.isascii() and len(name) < 19:
            cluster = Cluster.objects.filter(pk=int(name)).first()
        if cluster is None:
            known = ", ".join(Cluster.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"unknown cluster {name!r} (known: {known})", returncode=EXIT_BAD_INPUT)
        return cluster

    @staticmethod
    def _one_off_source(cluster: Cluster, opts: dict[str, Any]) -> list[DesiredSource] | None:
        given = [k for k in ("git", "directory", "file") if opts.get(k)]
        if not given:
            return None
        if len(given) > 1:
            raise CommandError("give only one of --git, --directory and --file", returncode=EXIT_BAD_INPUT)
        common = {"cluster": cluster, "namespaces": opts["namespaces"], "subdirectory": opts["subdir"]}
        if opts.get("git"):
            return [DesiredSource(kind=DesiredSource.Kind.GIT, location=opts["git"], branch=opts["branch"], **common)]
        if opts.get("directory"):
            return [DesiredSource(kind=DesiredSource.Kind.DIRECTORY, location=opts["directory"], **common)]
        try:
            text = drift.read_file_text(opts["file"])
        except drift.SourceUnreadable as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        return [
            DesiredSource(
                kind=DesiredSource.Kind.UPLOAD, yaml_text=text, file_name=opts["file"], **common
            )
        ]

    @staticmethod
    def _payload(report: DriftReport, items: list[Any]) -> dict[str, Any]:
        return {
            "cluster": report.cluster.name,
            "report": report.pk,
            "status": report.status,
            "computed_at": report.computed_at,
            "counts": {
                "missing": report.missing_count,
                "changed": report.changed_count,
                "extra": report.extra_count,
                "in_sync": report.in_sync_count,
                "desired": report.desired_count,
                "live": report.live_count,
            },
            "errors": report.errors,
            "sources": report.sources,
            "items": [
                {
                    "kind": item.kind,
                    "namespace": item.namespace,
                    "name": item.name,
                    "origin": item.origin,
                    "first_seen_at": item.first_seen_at,
                    "diff": drift.unified_diff(item, normalized=True),
                    "effect": item.effect,
                }
                for item in items
            ],
            "reachability": report.reachability,
            "findings": report.findings,
        }
