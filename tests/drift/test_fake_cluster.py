"""Drift of a cluster served by the fake API server (mirrored by the real sync) against a
Git repository made by the test: edits, deletions and additions on either side, each
kind of difference, the semantic no-drift cases, and the reconcile bundle that ends it."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from policies.models import DriftItem, DriftReport
from policies.services import drift

from .conftest import by_name, demo_policies, git_source, policy

pytestmark = pytest.mark.django_db(transaction=True)


def items(report: DriftReport) -> set[tuple[str, str]]:
    return {(i.kind, i.key) for i in report.items.all()}


def rows(delta: dict, side: str) -> set[tuple[str, str, str]]:
    return {(r["src"], r["dst"], r["label"]) for r in delta[side]}


def apply_bundle(fake, text: str) -> None:
    """What an operator does with the reconcile bundle: the commented kubectl delete
    commands, then kubectl apply of the documents."""
    for namespace, name in re.findall(r"^#\s+kubectl delete networkpolicy -n (\S+) (\S+)$", text, re.M):
        fake.delete("NetworkPolicy", namespace, name)
    for doc in yaml.safe_load_all(text):
        if doc:
            fake.put(doc)


def test_the_demo_against_its_own_policies_has_no_drift(fake_demo, demo_repo):
    cluster, _, _ = fake_demo
    git_source(cluster, demo_repo)
    report = drift.compute_drift(cluster)
    assert report.status == DriftReport.Status.OK
    assert report.live_count == report.desired_count == report.in_sync_count == len(demo_policies())
    assert items(report) == set()
    assert report.reachability["counts"] == {"live_only": 0, "desired_only": 0}


def test_the_same_meaning_written_differently_in_git_is_not_drift(fake_demo, git_repo):
    cluster, fake, _ = fake_demo
    docs = demo_policies()
    # The API server stored these with its defaults; Git leaves them out or reorders.
    del by_name(docs, "backend-policy")["spec"]["policyTypes"]
    del by_name(docs, "database-policy")["spec"]["ingress"][0]["ports"][0]["protocol"]
    by_name(docs, "allow-dns")["spec"]["egress"][0]["ports"].reverse()
    by_name(docs, "frontend-policy")["spec"]["ingress"][0].pop("from")  # `from: []` live
    backend_egress = by_name(docs, "backend-egress")["spec"]
    backend_egress["egress"].reverse()
    assert fake.get("NetworkPolicy", "shop", "backend-policy")["spec"]["policyTypes"] == ["Ingress"]
    repo = git_repo()
    repo.write_docs("policies/shop.yaml", [d for d in docs if d["metadata"]["namespace"] == "shop"])
    repo.write_docs("policies/others.yaml", [d for d in docs if d["metadata"]["namespace"] != "shop"])
    repo.commit()
    git_source(cluster, repo)
    report = drift.compute_drift(cluster)
    assert items(report) == set()
    assert report.in_sync_count == len(docs)


def test_live_edits_deletions_and_additions_are_changed_missing_and_extra(fake_demo, demo_repo):
    cluster, fake, resync = fake_demo
    git_source(cluster, demo_repo)
    edited = fake.get("NetworkPolicy", "shop", "database-policy")
    edited["spec"]["ingress"][0]["ports"][0]["port"] = 5433
    fake.put(edited)
    fake.delete("NetworkPolicy", "shop", "allow-dns")
    fake.put(policy("team-a", "allow-all-by-hand", {"podSelector": {}, "ingress": [{}]}))
    resync()

    report = drift.compute_drift(cluster)
    assert items(report) == {
        ("changed", "shop/database-policy"),
        ("missing", "shop/allow-dns"),
        ("extra", "team-a/allow-all-by-hand"),
    }
    assert (report.missing_count, report.changed_count, report.extra_count) == (1, 1, 1)

    changed = report.items.get(kind="changed")
    assert changed.desired["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert changed.live["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5433}]
    assert "uid" not in changed.live["metadata"]  # cleaned of server fields
    assert changed.origin.startswith("policies/demo.yaml:")
    diff = drift.item_diff(changed)
    assert {(r["left"].strip(), r["right"].strip()) for r in diff["rows"] if r["tag"] == "replace"} == {
        ("port: 5432", "port: 5433")
    }

    # Reachability, by workload and port: the drift closes backend -> database on 5432
    # (the backend's egress allows only 5432, so 5433 opens nothing) ...
    assert ("shop/backend[Deployment]", "shop/database[StatefulSet]", "TCP 5432") in rows(changed.effect, "desired_only")
    assert rows(changed.effect, "live_only") == set()
    # ... the missing allow-dns closes DNS for every shop workload ...
    missing = report.items.get(kind="missing")
    assert {
        ("shop/frontend[Deployment]", "kube-system/coredns[Deployment]", "TCP 53,UDP 53"),
        ("shop/backend[Deployment]", "kube-system/coredns[Deployment]", "TCP 53,UDP 53"),
        ("shop/database[StatefulSet]", "kube-system/coredns[Deployment]", "TCP 53,UDP 53"),
    } <= rows(missing.effect, "desired_only")
    # ... and the extra allow-all opens team-a/api to everyone.
    extra = report.items.get(kind="extra")
    opened = rows(extra.effect, "live_only")
    assert ("shop/backend[Deployment]", "team-a/api[Deployment]", "All Connections") not in opened  # backend egress is isolated
    assert ("monitoring/prometheus[Deployment]", "team-a/api[Deployment]", "All Connections") in opened
    # The report's delta is the union of the three.
    assert rows(report.reachability, "live_only") == opened
    assert rows(report.reachability, "desired_only") == rows(missing.effect, "desired_only") | rows(
        changed.effect, "desired_only"
    )


def test_git_edits_deletions_and_additions_are_changed_extra_and_missing(fake_demo, demo_repo):
    cluster, _, _ = fake_demo
    git_source(cluster, demo_repo)
    docs = demo_policies()
    by_name(docs, "frontend-policy")["spec"]["ingress"][0]["ports"][0]["port"] = 8443
    docs = [d for d in docs if d["metadata"]["name"] != "legacy-allow-batch"]
    docs.append(policy("team-a", "default-deny", {"podSelector": {}, "policyTypes": ["Ingress"]}))
    demo_repo.write_docs("policies/demo.yaml", docs)
    demo_repo.commit("intended changes")

    report = drift.compute_drift(cluster)
    assert items(report) == {
        ("changed", "shop/frontend-policy"),
        ("extra", "payments/legacy-allow-batch"),
        ("missing", "team-a/default-deny"),
    }
    assert report.in_sync_count == len(demo_policies()) - 2
    deny = report.items.get(kind="missing")
    # team-a/web has no policy live: the default deny closes its ingress.
    assert ("team-a/api[Deployment]", "team-a/web[Deployment]", "All Connections") in rows(deny.effect, "live_only")


def test_coverage_of_the_desired_state(fake_demo, demo_repo):
    cluster, _, _ = fake_demo
    git_source(cluster, demo_repo)
    docs = demo_policies()
    docs.append(policy("monitoring", "default-deny", {"podSelector": {}, "policyTypes": ["Ingress"]}))
    docs = [d for d in docs if d["metadata"]["namespace"] != "team-a"]
    demo_repo.write_docs("policies/demo.yaml", docs)
    demo_repo.commit()
    report = drift.compute_drift(cluster)
    found = {(f["code"], f["namespace"], f["object_name"], f["in_live"]) for f in report.findings["desired"]}
    assert ("namespace-without-policy", "team-a", "team-a", False) in found  # new: its only policy goes
    assert ("namespace-without-policy", "default", "default", True) in found  # live too
    resolved = {(f["code"], f["namespace"]) for f in report.findings["resolved"]}
    assert ("namespace-without-policy", "monitoring") in resolved


def test_the_reconcile_bundle_makes_the_cluster_match(fake_demo, demo_repo):
    cluster, fake, resync = fake_demo
    git_source(cluster, demo_repo)
    docs = demo_policies()
    by_name(docs, "backend-policy")["spec"]["ingress"][0]["from"].append(
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    )
    docs.append(policy("team-a", "deny-all", {"podSelector": {}}))
    docs = [d for d in docs if d["metadata"]["name"] != "payments-egress"]
    demo_repo.write_docs("policies/demo.yaml", docs)
    demo_repo.commit()
    fake.put(policy("default", "by-hand", {"podSelector": {}, "ingress": [{}]}))
    resync()

    report = drift.compute_drift(cluster)
    assert items(report) == {
        ("changed", "shop/backend-policy"),
        ("missing", "team-a/deny-all"),
        ("extra", "payments/payments-egress"),
        ("extra", "default/by-hand"),
    }
    bundle = drift.reconcile_yaml(report)
    head = bundle.split("---", 1)[0]
    assert "#   kubectl delete networkpolicy -n default by-hand" in head
    assert "#   kubectl delete networkpolicy -n payments payments-egress" in head
    applied = [d for d in yaml.safe_load_all(bundle) if d]
    assert sorted(f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in applied) == [
        "shop/backend-policy", "team-a/deny-all",
    ]

    apply_bundle(fake, bundle)
    resync()
    after = drift.compute_drift(cluster)
    assert items(after) == set()
    assert after.reachability["counts"] == {"live_only": 0, "desired_only": 0}


def test_the_adopt_bundle_makes_the_desired_state_match(fake_demo, demo_repo):
    cluster, fake, resync = fake_demo
    git_source(cluster, demo_repo)
    edited = fake.get("NetworkPolicy", "shop", "frontend-policy")
    edited["spec"]["ingress"][0]["ports"].append({"protocol": "TCP", "port": 443})
    fake.put(edited)
    fake.put(policy("default", "by-hand", {"podSelector": {}, "ingress": [{}]}))
    fake.delete("NetworkPolicy", "team-a", "allow-specific-pods")
    resync()
    report = drift.compute_drift(cluster)
    bundle = drift.adopt_yaml(report)
    assert "#   team-a/allow-specific-pods" in bundle.split("---", 1)[0]  # to remove from Git

    # Commit what the bundle says into the repository.
    adopted = {f"{d['metadata']['namespace']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(bundle) if d}
    docs = {f"{d['metadata']['namespace']}/{d['metadata']['name']}": d for d in demo_policies()}
    docs.pop("team-a/allow-specific-pods")
    docs.update(adopted)
    demo_repo.write_docs("policies/demo.yaml", list(docs.values()))
    demo_repo.commit("adopt the live policies")
    assert items(drift.compute_drift(cluster)) == set()


def test_a_policy_rejected_in_git_leaves_its_live_twin_alone(fake_demo, demo_repo):
    cluster, _, _ = fake_demo
    git_source(cluster, demo_repo)
    docs = demo_policies()
    by_name(docs, "allow-dns")["spec"]["egress"][0]["ports"][0]["protocol"] = "ICMP"
    demo_repo.write_docs("policies/demo.yaml", docs)
    demo_repo.commit()
    report = drift.compute_drift(cluster)
    assert report.status == DriftReport.Status.PARTIAL
    assert items(report) == set()  # neither missing nor extra: it could not be compared
    [error] = report.errors
    assert error["file"] == "policies/demo.yaml"
    assert error["line"] > 0
    assert "NetworkPolicy shop/allow-dns: spec.egress[0].ports[0].protocol" in error["message"]


def test_a_bad_source_stores_an_error_report_without_differences(fake_demo, demo_repo):
    cluster, _, _ = fake_demo
    git_source(cluster, demo_repo, branch="gone")
    report = drift.compute_drift(cluster)
    assert report.status == DriftReport.Status.ERROR
    assert not report.compared
    assert report.items.count() == 0
    assert report.errors[0]["message"].startswith(f"cannot fetch the Git repository …/{demo_repo.path.name} (branch 'gone'): ")
    assert report.errors[0]["fatal"] is True


def test_items_keep_their_objects_for_both_sides(fake_demo, demo_repo):
    cluster, fake, resync = fake_demo
    git_source(cluster, demo_repo)
    fake.delete("NetworkPolicy", "shop", "allow-dns")
    fake.put(policy("shop", "extra", {"podSelector": {}}))
    resync()
    report = drift.compute_drift(cluster)
    missing = report.items.get(kind=DriftItem.Kind.MISSING)
    extra = report.items.get(kind=DriftItem.Kind.EXTRA)
    assert missing.live == {}
    assert missing.desired["metadata"] == copy.deepcopy(by_name(demo_policies(), "allow-dns")["metadata"])
    assert extra.desired == {}
    assert extra.live["spec"]["policyTypes"] == ["Ingress"]  # as the API server stored it
