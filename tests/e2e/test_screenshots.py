"""The README's screenshots: `make screenshots` takes them again on the demo cluster
(overview, tier graph, matrix, editor on a prepared fix, a cluster-wide policy, the
ClusterNetworkPolicy editor) into docs/screenshots/. Skipped
unless NETPOLUI_SCREENSHOTS names the directory to write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from policies.models import ClusterPolicy
from policies.services import fixes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TARGET = os.environ.get("NETPOLUI_SCREENSHOTS", "")


@pytest.mark.skipif(not TARGET, reason="set NETPOLUI_SCREENSHOTS=docs/screenshots (make screenshots)")
def test_take_the_readme_screenshots(demo_cluster, users, sign_in):
    out = Path(TARGET)
    out.mkdir(parents=True, exist_ok=True)
    page = sign_in("editor", "pw-editor")
    page.set_viewport_size({"width": 1440, "height": 900})
    base, pk = page.base_url, demo_cluster.pk

    page.goto(f"{base}/clusters/{pk}/")
    page.screenshot(path=str(out / "overview.png"), full_page=False)

    page.goto(f"{base}/clusters/{pk}/graph/")
    page.wait_for_selector("#graph[data-ready='1']", state="attached")
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / "graph.png"), full_page=False)

    page.goto(f"{base}/clusters/{pk}/matrix/?namespace=shop&namespace=payments")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out / "matrix.png"), full_page=False)

    query = fixes.fix_query("egress-without-dns", "payments", "Deployment", "payments-api")
    page.goto(f"{base}/clusters/{pk}/drafts/new/?{query}")
    page.locator("#what-if table.allowed").wait_for()
    page.screenshot(path=str(out / "editor.png"), full_page=False)

    guardrails = ClusterPolicy.objects.get(cluster=demo_cluster, name="team-a-guardrails")
    page.goto(f"{base}/cluster-policies/{guardrails.pk}/")
    page.screenshot(path=str(out / "cluster-policy.png"), full_page=False)

    page.goto(f"{base}/clusters/{pk}/cluster-drafts/new/?template=deny-cloud-metadata")
    page.locator("#cnp-what-if li").first.wait_for()
    page.screenshot(path=str(out / "cnp-editor.png"), full_page=False)

    for name in ("overview", "graph", "matrix", "editor", "cluster-policy", "cnp-editor"):
        assert (out / f"{name}.png").stat().st_size > 10_000
