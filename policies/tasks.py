"""Celery tasks: ids in, services called, nothing else."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from .models import Cluster
from .services import sync as sync_service

log = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def sync_cluster(cluster_id: int, duration: float | None = None) -> str:
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return "gone"
    if cluster.source == Cluster.Source.MANIFESTS:
        sync_service.load_manifests(cluster)
        return "loaded"
    try:
        sync_service.sync_cluster(cluster, duration=duration or settings.NETPOLUI_SYNC_RUN_SECONDS)
    except sync_service.ClusterBusy:
        return "busy"
    # A run watches for a bounded time, then hands over to its next run (which resumes
    # from the stored resourceVersions), so a worker restart loses at most one run; beat's
    # ensure_syncs restarts a chain that broke.
    if not settings.CELERY_TASK_ALWAYS_EAGER and duration is None:
        sync_cluster.apply_async((cluster_id,), expires=settings.NETPOLUI_SYNC_RUN_SECONDS)
    return "synced"


@shared_task(ignore_result=True)
def ensure_syncs() -> int:
    """Beat entry: make sure every live cluster has a sync running (the lock dedupes)."""
    ids = sync_service.clusters_to_sync()
    for cluster_id in ids:
        sync_cluster.apply_async((cluster_id,), expires=settings.SYNC_BEAT_SECONDS)
    return len(ids)



@shared_task(acks_late=True, ignore_result=True)
def compute_drift(cluster_id: int) -> str:
    """Compare one cluster's desired state with its mirror and store a drift report."""
    from .services import drift

    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return "gone"
    report = drift.compute_drift(cluster)
    return report.status if report is not None else "no source"


@shared_task(ignore_result=True)
def compute_all_drift() -> int:
    """Beat entry: a drift report for every cluster that has a desired-state source."""
    from .services import drift

    ids = drift.clusters_with_sources()
    for cluster_id in ids:
        compute_drift.apply_async((cluster_id,), expires=settings.NETPOLUI_DRIFT_BEAT_SECONDS)
    return len(ids)
