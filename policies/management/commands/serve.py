"""`make run`: the development server, plus the sync of every live cluster in background
threads when there is no Celery broker (the embedded default)."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from django.conf import settings
from django.core.management.commands.runserver import Command as RunserverCommand

from policies.models import Cluster
from policies.services.sync import (
    ClusterBusy,
    ClusterSetupError,
    ClusterSpec,
    register_cluster,
    sync_cluster,
)

log = logging.getLogger(__name__)


class Command(RunserverCommand):
    help = "Serve the dashboard; without a broker, sync live clusters in this process."

    def inner_run(self, *args: Any, **options: Any) -> None:
        self._register_kubeconfig_cluster()
        if settings.CELERY_TASK_ALWAYS_EAGER:
            for cluster in Cluster.objects.exclude(source=Cluster.Source.MANIFESTS):
                threading.Thread(
                    target=self._sync_forever, args=(cluster.pk,), name=f"sync-{cluster.name}", daemon=True
                ).start()
                self.stdout.write(f"syncing cluster {cluster.name} in the background")
        super().inner_run(*args, **options)

    def _register_kubeconfig_cluster(self) -> None:
        """KUBECONFIG / NETPOLUI_KUBE_CONTEXT set: mirror that cluster beside the demo."""
        kubeconfig = os.environ.get("KUBECONFIG")
        context = os.environ.get("NETPOLUI_KUBE_CONTEXT", "")
        if not kubeconfig and not context:
            return
        name = (context or "local").replace(".", "-").replace(":", "-")[:63]
        if Cluster.objects.filter(name=name).exists():
            return
        try:
            register_cluster(
                ClusterSpec(name=name, source=Cluster.Source.KUBECONFIG, kubeconfig_path=kubeconfig or "", context=context)
            )
            self.stdout.write(f"registered cluster {name} from your kubeconfig")
        except ClusterSetupError as exc:
            self.stderr.write(f"cannot mirror your kubeconfig cluster: {exc}")

    @staticmethod
    def _sync_forever(cluster_id: int) -> None:
        cluster = Cluster.objects.get(pk=cluster_id)
        try:
            sync_cluster(cluster)
        except ClusterBusy:
            log.info("cluster %s is synced elsewhere", cluster.name)
