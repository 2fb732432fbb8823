"""The beat task: a drift report per cluster with a source, stored with its time; a
difference keeps the time it first appeared while it persists; identical results
confirm the latest report instead of piling up copies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from policies import tasks
from policies.models import Cluster, DesiredSource, DriftReport, NetworkPolicy
from policies.services import drift

from .conftest import by_name, demo_policies, git_source, policy

pytestmark = pytest.mark.django_db


def first_seen(report: DriftReport) -> dict[str, object]:
    return {f"{i.kind} {i.key}": i.first_seen_at for i in report.items.all()}


def run_at(cluster: Cluster, when) -> DriftReport:
    return drift.store_report(drift.run_drift(cluster), now=when)


def test_beat_task_stores_a_report_for_every_cluster_with_a_source(demo_cluster, demo_repo, eager_celery):
    other = Cluster.objects.create(name="no-source", source=Cluster.Source.MANIFESTS, manifests_dir="/x")
    git_source(demo_cluster, demo_repo)
    assert tasks.compute_all_drift() == 1
    report = DriftReport.objects.get(cluster=demo_cluster)
    assert report.status == DriftReport.Status.OK
    assert report.computed_at <= timezone.now()
    assert not DriftReport.objects.filter(cluster=other).exists()


def test_the_task_says_what_it_did(demo_cluster, demo_repo):
    assert tasks.compute_drift(demo_cluster.pk) == "no source"
    assert tasks.compute_drift(999_999) == "gone"
    git_source(demo_cluster, demo_repo, branch="nope")
    assert tasks.compute_drift(demo_cluster.pk) == "error"


def test_the_beat_schedule_runs_the_drift_task_with_an_expiry(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["compute-drift"]
    assert entry["task"] == "policies.tasks.compute_all_drift"
    assert entry["schedule"] == float(settings.NETPOLUI_DRIFT_BEAT_SECONDS)
    assert entry["options"]["expires"] == float(settings.NETPOLUI_DRIFT_BEAT_SECONDS)


def test_first_seen_is_carried_while_a_difference_persists(demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo)
    t0 = timezone.now() - timedelta(hours=3)
    NetworkPolicy.objects.filter(cluster=demo_cluster, namespace="shop", name="allow-dns").delete()
    demo_cluster.bump_state_version()
    first = run_at(demo_cluster, t0)
    assert first_seen(first) == {"missing shop/allow-dns": t0}

    # An hour later someone adds a policy by hand: a new report; allow-dns keeps t0.
    NetworkPolicy.objects.create(cluster=demo_cluster, uid="by-hand", namespace="team-a", name="by-hand",
                                 obj=policy("team-a", "by-hand", {"podSelector": {}}))
    demo_cluster.bump_state_version()
    t1 = t0 + timedelta(hours=1)
    second = run_at(demo_cluster, t1)
    assert second.pk != first.pk
    assert first_seen(second) == {"missing shop/allow-dns": t0, "extra team-a/by-hand": t1}

    # The hand-made policy goes away; the next time it comes back it is new again.
    NetworkPolicy.objects.filter(cluster=demo_cluster, name="by-hand").delete()
    demo_cluster.bump_state_version()
    third = run_at(demo_cluster, t1 + timedelta(hours=1))
    assert first_seen(third) == {"missing shop/allow-dns": t0}
    NetworkPolicy.objects.create(cluster=demo_cluster, uid="by-hand-2", namespace="team-a", name="by-hand",
                                 obj=policy("team-a", "by-hand", {"podSelector": {}}))
    demo_cluster.bump_state_version()
    t3 = t1 + timedelta(hours=2)
    assert first_seen(run_at(demo_cluster, t3))["extra team-a/by-hand"] == t3


def test_an_identical_result_confirms_the_latest_report(demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo)
    t0 = timezone.now() - timedelta(minutes=10)
    first = run_at(demo_cluster, t0)
    again = run_at(demo_cluster, t0 + timedelta(minutes=5))
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.computed_at == t0
    assert again.checked_at == t0 + timedelta(minutes=5)
    assert again.runs == 2
    assert DriftReport.objects.filter(cluster=demo_cluster).count() == 1


def test_a_source_error_in_between_does_not_reset_first_seen(demo_cluster, demo_repo):
    source = git_source(demo_cluster, demo_repo)
    docs = [d for d in demo_policies() if d["metadata"]["name"] != "allow-dns"]
    demo_repo.write_docs("policies/demo.yaml", docs)
    demo_repo.commit()
    t0 = timezone.now() - timedelta(hours=2)
    assert first_seen(run_at(demo_cluster, t0)) == {"extra shop/allow-dns": t0}

    DesiredSource.objects.filter(pk=source.pk).update(branch="deleted")
    broken = run_at(demo_cluster, t0 + timedelta(hours=1))
    assert broken.status == DriftReport.Status.ERROR
    assert broken.items.count() == 0

    DesiredSource.objects.filter(pk=source.pk).update(branch="main")
    healed = run_at(demo_cluster, t0 + timedelta(hours=2))
    assert healed.status == DriftReport.Status.OK
    assert first_seen(healed) == {"extra shop/allow-dns": t0}


def test_a_difference_that_changes_kind_is_a_new_difference(demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo)
    docs = demo_policies()
    by_name(docs, "allow-dns")["spec"]["egress"][0]["ports"].pop()
    demo_repo.write_docs("policies/demo.yaml", docs)
    demo_repo.commit()
    t0 = timezone.now() - timedelta(hours=1)
    assert first_seen(run_at(demo_cluster, t0)) == {"changed shop/allow-dns": t0}
    demo_repo.write_docs("policies/demo.yaml", [d for d in docs if d["metadata"]["name"] != "allow-dns"])
    demo_repo.commit()
    t1 = t0 + timedelta(minutes=30)
    assert first_seen(run_at(demo_cluster, t1)) == {"extra shop/allow-dns": t1}


def test_old_reports_are_pruned(demo_cluster, demo_repo, settings):
    settings.NETPOLUI_DRIFT_KEEP_REPORTS = 3
    source = git_source(demo_cluster, demo_repo)
    start = timezone.now() - timedelta(hours=10)
    for i in range(5):
        # Alternate between a good and a broken branch so every run is a new report.
        DesiredSource.objects.filter(pk=source.pk).update(branch="main" if i % 2 == 0 else "nope")
        run_at(demo_cluster, start + timedelta(hours=i))
    kept = list(DriftReport.objects.filter(cluster=demo_cluster).order_by("computed_at"))
    assert [r.computed_at for r in kept] == [start + timedelta(hours=i) for i in (2, 3, 4)]


def test_history_is_oldest_first_and_bounded(demo_cluster, demo_repo):
    source = git_source(demo_cluster, demo_repo)
    start = timezone.now() - timedelta(hours=10)
    for i in range(4):
        DesiredSource.objects.filter(pk=source.pk).update(branch="main" if i % 2 == 0 else "nope")
        run_at(demo_cluster, start + timedelta(hours=i))
    assert [r.computed_at for r in drift.history(demo_cluster, limit=3)] == [start + timedelta(hours=i) for i in (1, 2, 3)]
    assert drift.latest_report(demo_cluster).computed_at == start + timedelta(hours=3)
