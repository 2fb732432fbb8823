"""The drift pages in a real browser: a new user points netpolui at a Git directory of
policies, sees the differences from the demo cluster with their effect on reachability,
opens one, and downloads the YAML that reconciles them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.builders import demo_counts

from .conftest import by_name, demo_policies, policy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def intended_repo(git_repo):
    """What the team intends: the demo's policies, with DNS for payments added, the
    database port moved, and the legacy policy gone."""
    docs = demo_policies()
    by_name(docs, "database-policy")["spec"]["ingress"][0]["ports"][0]["port"] = 6432
    docs = [d for d in docs if d["metadata"]["name"] != "legacy-allow-batch"]
    docs.append(policy("payments", "allow-dns", {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}],
    }))
    repo = git_repo("intended")
    repo.write_docs("netpol/policies.yaml", docs)
    repo.commit()
    return repo


def test_a_new_user_reviews_drift_from_a_git_directory(page, sign_in, users, demo_cluster, intended_repo, eager_celery):
    sign_in("admin", "pw-admin")
    page.goto(f"{page.base_url}/clusters/{demo_cluster.pk}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Drift").click()
    page.get_by_text("No desired state yet").wait_for()
    page.get_by_role("link", name="Add a desired-state source").click()

    # The form shows the fields of the chosen kind only.
    page.get_by_label("uploaded YAML").check()
    assert page.get_by_label("YAML file").is_visible()
    assert not page.get_by_label("Branch").is_visible()
    page.get_by_label("Git repository").check()
    assert page.get_by_label("Branch").is_visible()

    page.get_by_label("Repository URL or path / directory").fill(str(intended_repo.path))
    page.get_by_label("Branch").fill("main")
    page.get_by_label("Sub-directory").fill("netpol")
    page.get_by_role("button", name="Add and check").click()

    page.wait_for_url(re.compile(rf"/clusters/{demo_cluster.pk}/drift/$"))
    counts = " ".join(page.get_by_role("list", name="Differences by kind").inner_text().split())
    in_sync = demo_counts()["policies"] - 2  # one changed, one extra
    assert counts == f"1 missing in the cluster 1 changed 1 extra in the cluster {in_sync} in sync"
    assert page.locator('tr[data-kind="missing"]').inner_text().startswith("payments/allow-dns")
    assert page.locator('tr[data-kind="changed"]').inner_text().startswith("shop/database-policy")
    assert page.locator('tr[data-kind="extra"]').inner_text().startswith("payments/legacy-allow-batch")
    # The effect on reachability, by workload and port.
    live_only = page.locator(".side-live table").inner_text()
    assert "shop/backend (Deployment)" in live_only
    assert "shop/database (StatefulSet)" in live_only
    assert "TCP 5432" in live_only
    desired_only = page.locator(".side-desired table").inner_text()
    assert "payments/payments-api (Deployment)" in desired_only
    assert "UDP 53" in desired_only

    # One difference: the side-by-side diff and what it opens or closes.
    page.get_by_role("link", name="shop/database-policy").click()
    page.get_by_role("heading", name="NetworkPolicy shop/database-policy").wait_for()
    changed = page.locator("table.diff tr.d-replace")
    assert changed.count() == 1
    assert re.search(r"port: 6432\s+\d+\s+\+\s*port: 5432", changed.inner_text())
    assert "TCP 5432" in page.locator(".side-live").inner_text()
    page.get_by_role("link", name="Normalized (meaning only)").click()
    assert page.get_by_role("link", name="Normalized (meaning only)").get_attribute("aria-current") == "true"
    page.go_back()

    # The YAML that makes the cluster match.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Drift").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download YAML to make the cluster match").click()
    download = download_info.value
    assert download.suggested_filename.startswith("demo-drift-reconcile-")
    text = Path(download.path()).read_text()
    assert "#   kubectl delete networkpolicy -n payments legacy-allow-batch" in text
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert sorted(f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in docs) == [
        "payments/allow-dns", "shop/database-policy",
    ]


def test_a_bad_branch_is_shown_in_words(page, sign_in, users, demo_cluster, intended_repo, eager_celery):
    sign_in("admin", "pw-admin")
    page.goto(f"{page.base_url}/clusters/{demo_cluster.pk}/drift/sources/")
    page.get_by_label("Repository URL or path / directory").fill(str(intended_repo.path))
    page.get_by_label("Branch").fill("release-9")
    page.get_by_role("button", name="Add and check").click()
    alert = page.get_by_role("alert").filter(has_text="problem")
    assert f"cannot fetch the Git repository …/{intended_repo.path.name} (branch 'release-9')" in alert.inner_text()
    assert "Not compared" in page.locator("main").inner_text()


def test_viewers_see_the_report_without_editing(page, sign_in, users, demo_cluster, intended_repo):
    from policies.models import DesiredSource
    from policies.services import drift

    DesiredSource.objects.create(cluster=demo_cluster, kind="git", location=str(intended_repo.path),
                                 branch="main", subdirectory="netpol")
    drift.compute_drift(demo_cluster)
    sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{demo_cluster.pk}/drift/")
    counts = " ".join(page.get_by_role("list", name="Differences by kind").inner_text().split())
    in_sync = demo_counts()["policies"] - 2  # one changed, one extra
    assert counts == f"1 missing in the cluster 1 changed 1 extra in the cluster {in_sync} in sync"
    assert page.get_by_role("button", name="Check now").count() == 0
    assert page.get_by_role("link", name="Download YAML to make the cluster match").count() == 0
    page.get_by_role("link", name="History").click()
    assert page.locator("table.drift-history tbody tr").count() == 1
