from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.models import Cluster
from policies.services.sync import ClusterSetupError, ClusterSpec, register_cluster


class Command(BaseCommand):
    help = "Register a cluster to mirror: a kubeconfig context, a URL and token, in-cluster, or manifests."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="a short name, letters, digits, '-' and '_'")
        how = parser.add_mutually_exclusive_group(required=True)
        how.add_argument("--kubeconfig", metavar="PATH", help="a kubeconfig file")
        how.add_argument("--server", metavar="URL", help="the API server URL (with --token-file)")
        how.add_argument("--in-cluster", action="store_true", help="this pod's service account")
        how.add_argument("--manifests", metavar="DIR", help="a directory of YAML/JSON manifests")
        parser.add_argument("--context", default="", help="the kubeconfig context (default: current)")
        parser.add_argument("--token-file", default="", help="a file holding the bearer token")
        tls = parser.add_mutually_exclusive_group()
        tls.add_argument("--ca-file", default="", help="the CA bundle to verify the server")
        tls.add_argument("--insecure", action="store_true", help="skip TLS verification (testing only)")
        parser.add_argument("--description", default="")
        parser.add_argument("--replace", action="store_true", help="update a cluster of that name")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["server"] and not opts["token_file"]:
            raise CommandError("--server needs --token-file")
        if (opts["token_file"] or opts["ca_file"] or opts["insecure"]) and not opts["server"]:
            raise CommandError("--token-file, --ca-file and --insecure go with --server")
        if opts["context"] and not opts["kubeconfig"]:
            raise CommandError("--context goes with --kubeconfig")
        if opts["kubeconfig"]:
            source = Cluster.Source.KUBECONFIG
        elif opts["server"]:
            source = Cluster.Source.TOKEN
        elif opts["in_cluster"]:
            source = Cluster.Source.IN_CLUSTER
        else:
            source = Cluster.Source.MANIFESTS
        spec = ClusterSpec(
            name=opts["name"],
            source=source,
            kubeconfig_path=opts["kubeconfig"] or "",
            context=opts["context"],
            server_url=opts["server"] or "",
            token_file=opts["token_file"],
            ca_file=opts["ca_file"],
            insecure_skip_tls_verify=opts["insecure"],
            manifests_dir=opts["manifests"] or "",
            description=opts["description"],
        )
        try:
            cluster = register_cluster(spec, replace=opts["replace"])
        except ClusterSetupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"cluster {cluster.name} registered ({cluster.get_source_display()}); "
            f"run `manage.py sync_cluster {cluster.name}` or let the workers pick it up"
        )
