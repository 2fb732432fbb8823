"""The drift trend and the matrix legend in a real browser under the dashboard's CSP,
which allows no inline style: bar heights are set from the script, legend colours come
from the stylesheet, and the page logs no CSP violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from policies.models import NetworkPolicy
from policies.services import drift

from .conftest import git_source

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_trend_bars_are_as_high_as_their_share_of_the_highest(demo_cluster, demo_repo, users, sign_in, live_server):
    git_source(demo_cluster, demo_repo)
    drift.store_report(drift.run_drift(demo_cluster), now=timezone.now() - timedelta(hours=2))
    NetworkPolicy.objects.filter(cluster=demo_cluster, name__in=["allow-dns", "database-policy"]).delete()
    demo_cluster.bump_state_version()
    drift.store_report(drift.run_drift(demo_cluster), now=timezone.now() - timedelta(hours=1))
    NetworkPolicy.objects.filter(cluster=demo_cluster).exclude(name="allow-dns").first().delete()
    demo_cluster.bump_state_version()
    drift.compute_drift(demo_cluster)

    page = sign_in("viewer", "pw-viewer")
    page.goto(f"{live_server.url}/clusters/{demo_cluster.pk}/drift/")
    segments = page.locator(".trend-bars .seg-missing")
    expect(segments).to_have_count(2)
    expect(segments.first).to_have_attribute("style", "height: 66.7%;")
    expect(segments.last).to_have_attribute("style", "height: 100%;")
    bar = page.locator(".trend-bars a").last.bounding_box()
    tallest = segments.last.bounding_box()
    shorter = segments.first.bounding_box()
    assert None not in (bar, tallest, shorter)
    assert tallest["height"] == pytest.approx(bar["height"], abs=2)
    assert shorter["height"] == pytest.approx(bar["height"] * 2 / 3, abs=2)


def test_matrix_legend_swatches_are_coloured_by_the_stylesheet(demo_cluster, users, sign_in, live_server):
    page = sign_in("viewer", "pw-viewer")
    page.goto(f"{live_server.url}/clusters/{demo_cluster.pk}/matrix/")
    legend = page.locator(".matrix-legend .swatch")
    expect(legend).to_have_count(6)
    expect(legend.nth(0)).to_have_css("background-color", "rgb(29, 35, 48)")
    expect(legend.nth(1)).to_have_css("background-image", "repeating-linear-gradient(45deg, rgba(0, 0, 0, 0.09) 0px, rgba(0, 0, 0, 0.09) 2px, rgba(0, 0, 0, 0) 2px, rgba(0, 0, 0, 0) 5px)")
    expect(legend.nth(2)).to_have_css("background-color", "rgb(251, 227, 181)")
    expect(legend.nth(4)).to_have_css("background-color", "rgb(225, 220, 239)")
