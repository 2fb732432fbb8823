"""API benchmark: reachability of the generated 1,000-workload cluster through the REST API.

The generated cluster (10,000 pods, 1,000 workloads, 200 namespaces, 2,000 policies) is
loaded through the mirror into a throwaway database: a new PostgreSQL database on the
server of DATABASE_URL when it is set (dropped afterwards), else an SQLite file in a
temporary directory. Then:

- the first and the repeated workload-level reachability request, through Django's test
  client with a token (the first computes; the repeated ones come from the cache). Above
  NETPOLUI_API_WHOLE_SOURCES source nodes (500) that request answers the first page of
  sources: the API has no unbounded payload;
- load runs: gunicorn on 127.0.0.1 against that database with the Redis cache (REDIS_URL,
  default redis://127.0.0.1:6379/13, under a key prefix of this run only), and many
  concurrent clients (threads with http.client) for about 20 s each, asking for plain
  JSON, then for gzip as browsers do; p50, p95 and errors.

The Django part runs in a child process (`python -m bench.api --child`) so its settings
come from the environment set here and never from whoever imported this module.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import Figure
from bench.django_env import print_figures, run_child, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"pods": 10_000, "workloads": 1_000, "namespaces": 200, "policies": 2_000}
TARGET_P95 = 0.3
QUERIES = {
    "workload level, no offset (first page above 500 sources)": "level=workload",
    "namespace level, edges": "level=namespace",
}


def run(sizes: dict[str, int] | None = None, *, duration: float = 20.0, clients: int = 8) -> list[Figure]:
    """Set up the throwaway database and cache, run the child, return its figures."""
    sizes = sizes or SIZES
    with throwaway_database() as database_url:
        redis_url = _redis_url()
        env = {
            **os.environ,
            "NETPOLUI_ENV": "development",
            "DATABASE_URL": database_url,
            "NETPOLUI_CACHE_PREFIX": f"bench-{uuid.uuid4().hex[:12]}",
            # The load run measures serving, not the per-user rate limit.
            "NETPOLUI_API_THROTTLE": "100000000/min",
            "DJANGO_SETTINGS_MODULE": "netpolui.settings",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        args = ["--sizes", json.dumps(sizes), "--duration", str(duration), "--clients", str(clients)]
        figures = run_child("bench.api", args, env)
        if redis_url:
            _forget_keys(redis_url, env["NETPOLUI_CACHE_PREFIX"])
    return figures


# --- throwaway database and cache ----------------------------------------------------------


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/13"
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
        client.close()
        return url
    except Exception:  # noqa: BLE001 - no Redis: each gunicorn worker caches for itself
        print(f"no Redis at {url}: the load run uses per-process caches")
        return None


def _forget_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


# --- the child: Django, the loaded cluster, requests -----------------------------------------


def child(sizes: dict[str, int], duration: float, clients: int) -> list[Figure]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from bench.generate import generate_cluster
    from policies.mirror import load_snapshot
    from policies.models import Cluster

    call_command("migrate", verbosity=0)
    objs = generate_cluster(**sizes)
    cluster = Cluster.objects.create(name="bench", source=Cluster.Source.MANIFESTS, manifests_dir="/generated")
    t0 = time.perf_counter()
    load_snapshot(cluster, objs)
    t_load = time.perf_counter() - t0
    print(f"loaded {len(objs):,} generated objects into the mirror in {t_load:.1f} s")
    token = _token()

    figures = [Figure("api", "load the generated cluster into the mirror", t_load, "s")]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    for label, query in QUERIES.items():
        path = f"/api/clusters/{cluster.pk}/reachability/?{query}"
        t0 = time.perf_counter()
        response = client.get(path)
        t_first = time.perf_counter() - t0
        assert response.status_code == 200, response.content[:500]
        body = json.loads(response.content)
        repeated = []
        for _ in range(20):
            t0 = time.perf_counter()
            again = client.get(path)
            repeated.append(time.perf_counter() - t0)
            assert again.status_code == 200
        print(
            f"{label}: {body['counts']['nodes']:,} nodes, {body['counts']['edges']:,} edges, "
            f"{len(response.content) / 2**20:.1f} MiB of JSON"
        )
        figures += [
            Figure("api", f"{label}: first request (computes)", t_first, "s"),
            Figure("api", f"{label}: repeated request, p95 of 20 (test client)", _pct(repeated, 95), "s", TARGET_P95),
        ]

    figures += _pieces(client, cluster.pk)
    figures += _connections(client, cluster.pk)

    path = f"/api/clusters/{cluster.pk}/reachability/?{QUERIES['workload level, no offset (first page above 500 sources)']}"
    with gunicorn() as port:
        for encoding, label in (("identity", "plain JSON"), ("gzip", "gzip, as browsers ask")):
            result = load_run(port, path, token, duration=duration, clients=clients, encoding=encoding)
            print(
                f"load run ({label}): {clients} concurrent clients for {result['seconds']:.0f} s against "
                f"gunicorn ({result['workers']} workers): {result['requests']:,} requests, "
                f"{result['errors']} errors, {result['requests'] / result['seconds']:.1f} requests/s, "
                f"{result['size'] / 2**20:.1f} MiB per response"
            )
            figures += [
                Figure("api", f"load run, {clients} clients, {label}: p50", result["p50"], "s"),
                Figure("api", f"load run, {clients} clients, {label}: p95", result["p95"], "s", TARGET_P95),
                Figure("api", f"load run, {label}: errors", float(result["errors"]), "", 0.0),
                Figure("api", f"load run, {label}: requests served", float(result["requests"]), ""),
            ]
    return figures


# The pieces a large cluster's pages ask for instead of the whole workload level; the
# summary's target is the project target for summary endpoints (docs/architecture.md, README).
TARGET_SUMMARY = 0.2


def _pieces(client: Any, cluster_id: int) -> list[Figure]:
    """Summary, a page of 100 sources and one node's edges: first and warm (p95 of 20)."""
    base = f"/api/clusters/{cluster_id}"
    first = client.get(f"{base}/reachability/?level=workload&limit=1").json()
    node = first["edges"][0]["source"] if first["edges"] else first["nodes"][0]["id"]
    pieces = {
        "summary (pair counts per namespace and tier pair, most open)": (f"{base}/summary/", TARGET_SUMMARY),
        "workload level, one page of 100 sources": (f"{base}/reachability/?limit=100&offset=200", TARGET_P95),
        "workload level, edges of one node": (f"{base}/reachability/?node={quote(node)}", TARGET_P95),
    }
    figures = []
    for label, (path, target) in pieces.items():
        t0 = time.perf_counter()
        response = client.get(path)
        t_first = time.perf_counter() - t0
        assert response.status_code == 200, response.content[:500]
        repeated = []
        for _ in range(20):
            t0 = time.perf_counter()
            assert client.get(path).status_code == 200
            repeated.append(time.perf_counter() - t0)
        print(f"{label}: {len(response.content) / 2**10:.0f} KiB of JSON")
        figures += [
            Figure("api", f"{label}: first request", t_first, "s"),
            Figure("api", f"{label}: warm, p95 of 20", _pct(repeated, 95), "s", target),
        ]
    return figures


def _connections(client: Any, cluster_id: int) -> list[Figure]:
    """/api/workloads/{id}/connections/ of the most open workload (most peers, inbound plus
    outbound, from the workload level's pair table): the default answer (first and warm,
    p95 of 20) and its size, then every page walked through `next` with page_size=1000,
    the most a page holds."""
    from policies.models import TOP_LEVEL_WORKLOAD, Cluster, Workload
    from policies.services import engine_cache

    table = engine_cache.pair_table(Cluster.objects.get(pk=cluster_id), "workload", "combined")
    out_degree, in_degree = table.degrees()
    ranked = [i for i, n in enumerate(table.nodes) if not n.is_external]
    if not ranked:
        return []
    most = max(ranked, key=lambda i: (out_degree[i] + in_degree[i], table.nodes[i].key))
    key = table.nodes[most].key
    namespace, rest = key.split("/", 1)
    name, kind = rest[:-1].split("[", 1)
    workload = Workload.objects.filter(
        TOP_LEVEL_WORKLOAD, cluster_id=cluster_id, namespace=namespace, name=name, kind=kind
    ).first()
    if workload is None:
        return []
    path = f"/api/workloads/{workload.pk}/connections/"
    t0 = time.perf_counter()
    response = client.get(path)
    t_first = time.perf_counter() - t0
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    repeated = []
    for _ in range(20):
        t0 = time.perf_counter()
        assert client.get(path).status_code == 200
        repeated.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    url: str | None = f"{path}?page_size=1000"
    pages = inbound = outbound = 0
    while url:
        page = client.get(url).json()
        pages += 1
        inbound += len(page["inbound"])
        outbound += len(page["outbound"])
        url = page.get("next")
    t_walk = time.perf_counter() - t0
    print(
        f"connections of {key} (the most open workload): {len(body['inbound']):,} inbound and "
        f"{len(body['outbound']):,} outbound in the default answer, {len(response.content) / 2**10:.0f} KiB "
        f"of JSON; all {inbound:,} inbound and {outbound:,} outbound in {pages} page(s) of page_size=1000"
    )
    return [
        Figure(
            "api",
            "connections of the most open workload, default answer: first request",
            t_first,
            "s",
        ),
        Figure(
            "api",
            "connections of the most open workload, default answer: warm, p95 of 20",
            _pct(repeated, 95),
            "s",
            TARGET_P95,
        ),
        Figure(
            "api",
            "connections of the most open workload, default answer: size",
            len(response.content) / 2**10,
            "KiB",
        ),
        Figure(
            "api", "connections of the most open workload, every page (page_size=1000)", t_walk, "s"
        ),
    ]


def _token() -> str:
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from policies.roles import ensure_roles

    ensure_roles()
    user = User.objects.create_user("bench")
    user.groups.add(Group.objects.get(name="viewer"))
    return Token.objects.create(user=user).key


def _pct(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


WORKERS = max(2, (os.cpu_count() or 1) + 1)


@contextlib.contextmanager
def gunicorn(workers: int = WORKERS) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "netpolui.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", "2", "--log-level", "warning", "--timeout", "120"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "netpolui.settings"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def load_run(port: int, path: str, token: str, *, duration: float, clients: int, encoding: str = "identity") -> dict[str, Any]:
    headers = {"Authorization": f"Token {token}", "Accept": "application/json", "Accept-Encoding": encoding}
    sizes: list[int] = []

    def fetch(conn: http.client.HTTPConnection) -> int:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        sizes.append(len(response.read()))
        return response.status

    # Warm every worker's connection to the cache (the answer is computed by now).
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(WORKERS * 2):
        fetch(warm)
    warm.close()

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                status = fetch(conn)
                ok = status == 200
                problem = f"HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:
                ok, problem = False, repr(exc)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = time.perf_counter() - t0
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors.append(problem)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    if errors:
        print(f"load run errors (first 3): {errors[:3]}")
    return {
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": _pct(latencies, 95) if latencies else float("nan"),
        "errors": len(errors),
        "requests": len(latencies) + len(errors),
        "seconds": seconds,
        "workers": WORKERS,
        "size": sizes[-1] if sizes else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=json.dumps(SIZES))
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    sizes = json.loads(args.sizes)
    if args.child:
        figures = child(sizes, args.duration, args.clients)
        print_figures(figures)
        return 0
    from bench.__main__ import print_table

    print_table(run(sizes, duration=args.duration, clients=args.clients))
    return 0


if __name__ == "__main__":
    sys.exit(main())
