"""The public site under load, served by gunicorn as in production, beside static files of
the same sizes served by the same server in the same run, with the public page cache off
and on.

    .venv/bin/python bench/public_site.py [--proposals 20000] [--requests 300] [--concurrency 2]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_public .venv/bin/python bench/public_site.py

1. The database (SQLite var/bench_public/db.sqlite3 unless DATABASE_URL is set; kept
   between runs, `--fresh` starts again): migrated, the demo's regions and staff, the page
   tree (cms.setup.ensure_site) and `seed_volume --proposals N` (grants/volume/: at 20,000
   about 5,000 funded projects over five years at every level and in every region, with
   their money and evaluations). A second run with the same N adds nothing.
2. `collectstatic` with the production settings into var/bench_public/static.
3. For each cache setting (PUBLIC_CACHE_SECONDS=0, then 300): gunicorn with
   config.settings.production (gthread, `--workers` 2×CPUs+1 as deployed, `--threads 4`, the local-memory cache
   of each worker as there is no Redis client installed; DB_CONN_MAX_AGE=60 as in
   deploy/env.example) serving the home page, a filtered project list (year, service
   category and street), a search for a two-character word, one project's page, the
   statistics page, and the calls and notices lists; and beside each a file of exactly the
   same size under /static/bench/, served by WhiteNoise in the same process (the same
   middleware stack up to WhiteNoise, which answers before Django's URL routing).
4. The load: `--concurrency` threads, each with its own keep-alive http.client
   connection, `--requests` GETs of a page and as many of its static twin (half just before
   the page, half just after), after `--warm` unmeasured ones (a cookie-less visitor each
   time: the CSRF cookie set on every page is dropped); latency p50 and p95 in ms, requests
   per second (concurrency / mean latency), and the page's p95 over its twin's.

Goals (issue 12): the filtered list's p95 at most 2× its static file's with the cache on,
at most 10× with it off. Pages that do not exist yet (a stub answering 404) are reported
as missing. Exits 1 when a goal is missed."""

import argparse
import http.client
import math
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "site")]
VAR = ROOT / "var" / "bench_public"
HOST = "127.0.0.1"
GOALS = {"on": 2.0, "off": 10.0}  # filtered list p95 / static p95
SECRET = "bench-only-" + secrets.token_hex(24)


def setup(db_url: str | None, fresh: bool) -> str:
    VAR.mkdir(parents=True, exist_ok=True)
    if not db_url:
        path = VAR / "db.sqlite3"
        if fresh:
            path.unlink(missing_ok=True)
        db_url = f"sqlite:///{path}"
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["VAR_DIR"] = str(VAR)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return db_url


def seed(n: int) -> dict:
    from accounts.demo import seed_regions, seed_staff
    from cms.setup import ensure_site
    from grants.volume import seed_volume

    seed_regions()
    seed_staff()
    ensure_site()
    return seed_volume(n, say=lambda line: print(f"  {line}", flush=True))


def pages() -> list[tuple[str, str]]:
    """(label, URL) of what is measured, the filters and the word chosen so that they
    find projects in the volume data."""
    from django.db.models import Count
    from django.utils import timezone

    from accounts.models import Region
    from grants.volume import volume_proposals

    year = timezone.localdate().year - 1
    funded = volume_proposals().filter(call__year=year, status__in=("closed", "terminated", "final_evaluated"))
    category = (
        funded.values_list("category", flat=True).annotate(n=Count("pk")).order_by("-n", "category").first() or ""
    )
    streets = Region.objects.filter(level=Region.Level.STREET).order_by("path")
    busiest = max(streets, key=lambda s: funded.filter(places__path__startswith=s.path).count(), default=None)
    filtered = f"/projects/?year={year}&category={category}&region={busiest.pk if busiest else ''}"
    project = funded.filter(status="closed", final_grade="优秀").order_by("pk").first() or funded.first()
    return [
        ("首页 /", "/"),
        ("资助项目：按年度+领域+街道筛选", filtered),
        ("资助项目：搜索“儿童”", "/projects/?q=%E5%84%BF%E7%AB%A5"),
        ("项目页 /projects/<pk>/", f"/projects/{project.pk if project else 0}/"),
        ("数据统计 /stats/", "/stats/"),
        ("项目征集 /calls/", "/calls/"),
        ("公示公告 /notices/", "/notices/"),
    ]


def collectstatic(env: dict) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"], env=env, check=True)


def server_env(db_url: str, cache_seconds: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": db_url,
        "DB_CONN_MAX_AGE": "60",
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": str(VAR),
        "PUBLIC_CACHE_SECONDS": str(cache_seconds),
        "LOG_LEVEL": "WARNING",
    }


class Server:
    """gunicorn as deploy/gunicorn.conf.py runs it, with `workers` processes."""

    def __init__(self, env: dict, port: int, workers: int):
        self.port = port
        command = [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "--pythonpath", "site,."]
        command += ["--bind", f"{HOST}:{port}", "--workers", str(workers), "--worker-class", "gthread"]
        command += ["--threads", "4", "--timeout", "120", "--log-level", "warning"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _headers, _body = get(http.client.HTTPConnection(HOST, port, timeout=30), "/static/bench/0")
                if status < 500:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def get(conn, url):
    conn.request("GET", url, headers={"Host": HOST, "User-Agent": "bench/public_site"})
    response = conn.getresponse()
    body = response.read()
    return response.status, dict(response.getheaders()), body


def load(port: int, url: str, twin: str, requests: int, concurrency: int, warm: int) -> tuple[dict, dict]:
    """`requests` GETs of `url` and as many of its static `twin` (half just before the
    page, half just after: they share the machine's load of that minute, and a static
    request never waits behind a page being rendered), from `concurrency` threads each on
    its own keep-alive connection, after `warm` GETs of each on 8 connections (so that
    every worker has served the page: the cache of a worker is its own). Each: p50 and p95
    latency (ms) and the requests per second `concurrency` clients get (Little's law:
    concurrency / mean latency)."""
    if warm:
        _run(port, url, warm * 8, 8)
        _run(port, twin, warm * 8, 8)
    before = _run(port, twin, requests // 2, concurrency)
    page = _run(port, url, requests, concurrency)
    after = _run(port, twin, requests - requests // 2, concurrency)
    merged = {k: before[k] + after[k] for k in before}
    return _summary(page, concurrency), _summary(merged, concurrency)


def _run(port: int, url: str, requests: int, concurrency: int) -> dict:
    times, hits, failures = [], [], []
    lock, left = threading.Lock(), [requests]

    def worker():
        c = http.client.HTTPConnection(HOST, port, timeout=120)
        while True:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            t = time.perf_counter()
            status, headers, _body = get(c, url)
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                times.append(elapsed)
                hits.append(headers.get("X-Public-Cache") == "hit")
                if status != 200:
                    failures.append(status)
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"times": times, "hits": hits, "failures": failures}


def _summary(run: dict, concurrency: int) -> dict:
    times = sorted(run["times"])
    return {
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)],
        "rps": concurrency * 1000 / statistics.fmean(times),
        "hits": sum(run["hits"]),
        "failures": run["failures"],
    }


def static_twins(measured: list[tuple[str, str]], env: dict, port: int, workers: int) -> dict[str, int]:
    """Each page's size (as the server sends it), and a file of that size under /static/bench/."""
    server = Server(env, port, workers)
    sizes = {}
    try:
        for _label, url in measured:
            status, _headers, body = get(http.client.HTTPConnection(HOST, port, timeout=120), url)
            sizes[url] = len(body) if status == 200 else -status
    finally:
        server.stop()
    folder = VAR / "static" / "bench"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    filler = ("<p>公益创投 静态对照文件 static twin of a public page</p>\n" * 4000).encode()
    for i, size in enumerate(sizes.values()):
        if size > 0:
            (folder / f"{i}.html").write_bytes((filler * (size // len(filler) + 1))[:size])
    return sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=20000, help="seed_volume --proposals")
    parser.add_argument("--requests", type=int, default=300, help="measured GETs per URL and setting")
    parser.add_argument("--warm", type=int, default=3, help="unmeasured GETs first, on each of 8 connections")
    parser.add_argument("--concurrency", type=int, default=2, help="client threads")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() * 2 + 1, help="gunicorn workers (as deploy/gunicorn.conf.py)"
    )
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument("--fresh", action="store_true", help="a new SQLite database (seed from scratch)")
    parser.add_argument("--cache", choices=("off", "on", "both"), default="both", help="which page cache settings")
    parser.add_argument(
        "--only", help="measure only the pages whose URL contains this (the goal needs /projects/?year)"
    )
    args = parser.parse_args()

    db_url = setup(os.environ.get("DATABASE_URL"), args.fresh)
    from django.db import connection

    print(f"数据库：{connection.vendor}（{db_url.split('@')[-1]}）", flush=True)
    started = time.perf_counter()
    result = seed(args.proposals)
    seeded = time.perf_counter() - started
    from django.db.models import Count

    from grants.models import FUNDED_STATES
    from grants.volume import volume_proposals

    funded = volume_proposals().filter(status__in=FUNDED_STATES)
    levels = dict(funded.values_list("call__level").annotate(n=Count("pk")).order_by())
    print(
        f"seed_volume --proposals {args.proposals}：{seeded:.1f} 秒（新增 {result['added'].get('proposals', 0)} 个申报项目）；"
        f"资助项目 {funded.count()} 个，按层级 {levels}，年度 {sorted(set(funded.values_list('call__year', flat=True)))}",
        flush=True,
    )
    measured = [(label, url) for label, url in pages() if not args.only or args.only in url]
    connection.close()
    collectstatic(server_env(db_url, 0))
    sizes = static_twins(measured, server_env(db_url, 0), args.port, args.workers)

    report, missed = {}, []
    for mode, seconds in (("off", 0), ("on", 300)):
        if args.cache not in (mode, "both"):
            continue
        server = Server(server_env(db_url, seconds), args.port, args.workers)
        try:
            for i, (label, url) in enumerate(measured):
                if sizes[url] <= 0:
                    report[(mode, label)] = None
                    continue
                twin = f"/static/bench/{i}.html"
                page, twin = load(args.port, url, twin, args.requests, args.concurrency, args.warm)
                report[(mode, label)] = (page, twin)
        finally:
            server.stop()

    print(
        f"\ngunicorn {args.workers} workers × 4 threads, {args.concurrency} client threads, "
        f"{args.requests} requests per URL; static twin = a file of the same size under /static/bench/ (WhiteNoise)"
    )
    header = f"{'cache':<6}{'page':<34}{'bytes':>9}{'p50':>9}{'p95':>9}{'rps':>8}  {'static p50':>10}{'p95':>8}{'rps':>8}{'p95×':>8}"
    print(header)
    for (mode, label), row in report.items():
        size = sizes[dict(measured)[label]]
        if row is None:
            print(f"{mode:<6}{label:<34}{'missing (HTTP ' + str(-size) + ')':>30}")
            continue
        page, twin = row
        ratio = page["p95"] / twin["p95"]
        hits = f"  hits {page['hits']}/{args.requests}" if mode == "on" else ""
        bad = f"  FAILED {sorted(set(page['failures']))}" if page["failures"] else ""
        print(
            f"{mode:<6}{label:<34}{size:>9}{page['p50']:>9.1f}{page['p95']:>9.1f}{page['rps']:>8.0f}  "
            f"{twin['p50']:>10.1f}{twin['p95']:>8.1f}{twin['rps']:>8.0f}{ratio:>8.1f}{hits}{bad}"
        )
        if page["failures"]:
            missed.append(f"{label}（{mode}）: HTTP {sorted(set(page['failures']))}")
        if label.startswith("资助项目：按") and ratio > GOALS[mode]:
            missed.append(f"{label}：缓存{mode} p95 为静态文件的 {ratio:.1f} 倍（目标 ≤ {GOALS[mode]:g} 倍）")
    goal = next((label for label, _url in measured if label.startswith("资助项目：按")), None)
    for mode in ("on", "off"):
        if goal is None or args.cache not in (mode, "both"):
            continue
        if report.get((mode, goal)) is None:
            missed.append(f"{goal}：页面不存在（缓存{mode}）")
    if missed:
        print("\nMISSED:\n  " + "\n  ".join(missed))
        sys.exit(1)
    print("\n目标达成：筛选后的项目列表 p95 ≤ 静态文件 2 倍（缓存开）、≤ 10 倍（缓存关）。")


if __name__ == "__main__":
    main()
