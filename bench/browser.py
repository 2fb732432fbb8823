"""Browser benchmark: the matrix, graph and overview pages of the generated 1,000-workload
cluster in headless Chromium (Debian's /usr/bin/chromium through Playwright).

The cluster is loaded through the mirror into a throwaway database (as bench.api does),
served by gunicorn with one worker (so "warm" means the answer this process cached), and
each page is timed from navigation until it is usable:

- matrix: the canvas is drawn (`#matrix[data-ready]`);
- graph: the first drawing is laid out (`#graph[data-ready]`);
- overview: the page has loaded (it is rendered on the server).

"cold" is the first visit after the load (the server computes the answer); "warm" the
median of three visits after it. The targets are the warm ones. The matrix is also
scrolled, one step per frame, and the 95th percentile of the time between frames is
held against 1/30 s. With NETPOLUI_BENCH_SCREENSHOTS=DIR each page's last visit is also
saved as DIR/NAME.png, to see what the timings are of.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from typing import Any

from bench import Figure
from bench.django_env import print_figures, run_child, throwaway_database

CHROMIUM = os.environ.get("NETPOLUI_CHROMIUM", "/usr/bin/chromium")
SIZES = {"pods": 10_000, "workloads": 1_000, "namespaces": 200, "policies": 2_000}
# page -> (path below /clusters/{id}/, what says it is usable, warm target in seconds)
PAGES: dict[str, tuple[str, str, float]] = {
    "matrix": ("matrix/", "#matrix[data-ready='1']", 2.0),
    "graph": ("graph/", "#graph[data-ready]", 3.0),
    "overview": ("", "", 1.0),
}
WARM_VISITS = 3


def run(sizes: dict[str, int] | None = None) -> list[Figure]:
    if not os.path.exists(CHROMIUM):
        print(f"browser part skipped: {CHROMIUM} is missing (make browser)")
        return []
    sizes = sizes or SIZES
    with throwaway_database() as database_url:
        env = {
            **os.environ,
            "NETPOLUI_ENV": "development",
            "DATABASE_URL": database_url,
            "NETPOLUI_CACHE_PREFIX": f"bench-{uuid.uuid4().hex[:12]}",
            "DJANGO_SETTINGS_MODULE": "netpolui.settings",
            "LOG_LEVEL": "WARNING",
        }
        # one process, its own cache: warm visits hit what the cold one computed
        env.pop("REDIS_URL", None)
        return run_child("bench.browser", ["--sizes", json.dumps(sizes)], env)


def child(sizes: dict[str, int]) -> list[Figure]:
    from bench.django_env import django_setup

    django_setup()
    from django.contrib.auth.models import Group, User
    from playwright.sync_api import sync_playwright

    from bench.api import gunicorn
    from bench.generate import generate_cluster
    from policies.mirror import load_snapshot
    from policies.models import Cluster
    from policies.roles import ensure_roles

    cluster = Cluster.objects.create(name="bench", source=Cluster.Source.MANIFESTS, manifests_dir="/generated")
    load_snapshot(cluster, generate_cluster(**sizes))
    ensure_roles()
    user = User.objects.create_user("bench", password="bench-browser-pw")
    user.groups.add(Group.objects.get(name="viewer"))
    print(f"browser: {sizes['workloads']:,} workloads loaded; gunicorn with one worker, headless {CHROMIUM}")

    figures: list[Figure] = []
    with gunicorn(workers=1) as port, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(180_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("User name").fill("bench")
        page.get_by_label("Password").fill("bench-browser-pw")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        for name, (path, ready, target) in PAGES.items():
            url = f"{base}/clusters/{cluster.pk}/{path}"
            cold = _visit(page, url, ready)
            warm = [_visit(page, url, ready) for _ in range(WARM_VISITS)]
            detail = _detail(page, name)
            if shots := os.environ.get("NETPOLUI_BENCH_SCREENSHOTS"):
                os.makedirs(shots, exist_ok=True)
                page.screenshot(path=os.path.join(shots, f"{name}.png"))
            print(f"browser {name}: cold {cold:.2f} s, warm {', '.join(f'{w:.2f}' for w in warm)} s{detail}")
            figures += [
                Figure("browser", f"{name} page usable, cold (first visit computes)", cold, "s"),
                Figure("browser", f"{name} page usable, warm (median of {WARM_VISITS})", statistics.median(warm), "s", target),
            ]
            if name == "matrix":
                frames = page.evaluate(SCROLL_FRAMES, SCROLL_STEPS)
                print(f"browser matrix scrolling: {SCROLL_STEPS} steps of 5 cells, frame p95 {_p95(frames):.0f} ms")
                figures.append(
                    Figure("browser", f"matrix scrolling, frame p95 of {SCROLL_STEPS} steps", _p95(frames) / 1000, "s", SMOOTH_FRAME)
                )
        if errors:
            print(f"browser: JavaScript errors: {errors[:3]}")
        figures.append(Figure("browser", "JavaScript errors", float(len(errors)), "", 0.0))
        browser.close()
    return figures


# Scrolling the matrix diagonally, 5 cells a step, one step per frame: the time between
# frames (the page redraws the visible cells on each scroll event).
SCROLL_STEPS = 60
SMOOTH_FRAME = 1 / 30
SCROLL_FRAMES = """(steps) => new Promise((done) => {
  const wrap = document.querySelector('[data-matrix-wrap]');
  const frames = [];
  let last = performance.now();
  function step(now) {
    frames.push(now - last);
    last = now;
    if (frames.length > steps) { done(frames.slice(1)); return; }
    wrap.scrollTop += 90;
    wrap.scrollLeft += 90;
    requestAnimationFrame(step);
  }
  requestAnimationFrame(step);
})"""


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def _visit(page: Any, url: str, ready: str) -> float:
    t0 = time.perf_counter()
    page.goto(url, wait_until="load")
    if ready:
        page.wait_for_selector(ready, state="attached")
    return time.perf_counter() - t0


NAVIGATION = """() => { const n = performance.getEntriesByType('navigation')[0];
  return [n.responseStart - n.requestStart, n.responseEnd - n.responseStart, n.transferSize]; }"""


def _detail(page: Any, name: str) -> str:
    server, download, size = page.evaluate(NAVIGATION)
    timing = f"; last visit: server {server:.0f} ms, page {size / 2**20:.1f} MiB"
    if name == "matrix":
        shape = page.evaluate("[window.netpoluiMatrix.rows.length, window.netpoluiMatrix.columns.length]")
        built = page.get_attribute("#matrix", "data-build-ms")
        return f" ({shape[0]:,} x {shape[1]:,} cells, drawn in {built} ms{timing})"
    if name == "graph":
        drawn = page.evaluate(
            "window.netpoluiGraph ? [window.netpoluiGraph.cy.nodes().length, window.netpoluiGraph.cy.edges().length] : null"
        )
        layout = page.get_attribute("#graph", "data-layout-ms")
        return f" ({drawn[0]:,} nodes, {drawn[1]:,} edges drawn, laid out in {layout} ms{timing})" if drawn else timing
    return f" ({timing[2:]})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=json.dumps(SIZES))
    args = parser.parse_args()
    sizes = json.loads(args.sizes)
    if args.child:
        print_figures(child(sizes))
        return 0
    from bench.__main__ import print_table

    print_table(run(sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
