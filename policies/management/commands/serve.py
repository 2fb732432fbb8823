"""`make run`: the development server, plus what Celery workers and beat do in production
(every live cluster's sync, the periodic drift check) in background threads when there is
no Celery broker (the embedded default)."""

from __future__ import annotations

import logging
import os
import threading
import time
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
            threading.Thread(target=self._drift_beat, name="drift-beat", daemon=True).start()
        super().inner_run(*args, **options)

    @staticmethod
    def _drift_beat() -> None:
        """Beat's compute-drift entry, in-process: every cluster with a desired source."""
        from django.db import close_old_connections

        from policies.services import drift

        while True:
            time.sleep(settings.NETPOLUI_DRIFT_BEAT_SECONDS)
            for cluster in Cluster.objects.filter(pk__in=drift.clusters_with_sources()):
                try:
                    drift.compute_drift(cluster)
                except Exception:  # one cluster's failure must not stop the others
                    log.exception("drift check of cluster %s failed", cluster.name)
            close_old_connections()

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
