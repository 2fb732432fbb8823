"""The API benchmark runs end to end on a tiny cluster (figures are not asserted: a bench,
not a timed test): throwaway database, first and repeated requests, a gunicorn load run."""

from __future__ import annotations

import pytest

from bench import api as bench_api

pytestmark = pytest.mark.integration


def test_bench_api_runs_on_a_small_cluster():
    figures = bench_api.run({"pods": 200, "workloads": 30, "namespaces": 8, "policies": 40}, duration=1.0, clients=2)
    by_name = {f.name: f for f in figures}
    assert by_name["load run, plain JSON: errors"].value == 0
    assert by_name["load run, gzip, as browsers ask: errors"].value == 0
    assert by_name["load run, plain JSON: requests served"].value > 0
    assert any("first request" in name for name in by_name)
    assert any("p95" in name for name in by_name)
