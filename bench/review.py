"""Server time and SQL queries of the review screens on a call of about 5,000 proposals
scored by 5 reviewers each, beside Wagtail's stock user listing, in one run; and the time of
storing the ranking and writing the ranking workbook of that call.

    make bench                                   (= .venv/bin/python bench/run.py)
    .venv/bin/python bench/review.py [--proposals 20000] [--repeat 11]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gongyi_bench .venv/bin/python bench/review.py

Builds a throwaway database (SQLite file under var/ unless DATABASE_URL is set) with the
demo's regions and staff and `seed_volume --proposals N` (grants/volume/): the city's 大赛
this year takes a quarter of them, ~4,850 reviewed at N = 20,000, by an expert pool of
about 140 (grants/volume/reviews.py); every other volume call under review or past it has
its panels and scores too. Then, in-process with Django's test client (server time:
middleware, views, templates; no network), every page once a round, interleaved:

- the reviewer's queue /admin/grants/reviews/ of the expert with the most assignments
  (page 1, a later page, filtered by the 大赛, by status);
- the 大赛's review console /admin/grants/calls/<pk>/review/, ranking /ranking/ (page 1
  and the last page) and award list /award/, as the city's call manager;
- Wagtail's own /admin/users/ (page 1, a middle page, searched): the yardstick;

and times grants.services.award.store_ranking and grants.exports_ranking.ranking_workbook
on the 大赛 (`--repeat-slow` runs each).

Targets: every page ≤ 15 queries (the issue: the reviewer queue and the ranking page at
5,000 proposals); the queue, a staff list, at or below the stock listing's slowest median.
The console, ranking and award pages compute the call's ranking with pandas on each request:
their time is reported beside the yardstick, not held to it. Exits 1 when a target is missed."""

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_grants", HERE / "grants.py")
bench_grants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_grants)  # its Page, exists, measure and setup (and the sys.path it sets)
MAX_QUERIES = bench_grants.MAX_QUERIES


def load(n: int) -> dict:
    from accounts.demo import seed_regions, seed_staff
    from accounts.models import User
    from cms.setup import ensure_site
    from grants.volume import seed_volume

    seed_regions()
    seed_staff()
    ensure_site()
    result = seed_volume(n)
    more = 5000 - User.objects.count()
    if more > 0:  # the yardstick lists at least 5,000 users
        User.objects.bulk_create(
            [User(username=f"bench{i}", name=f"测试用户{i}", mobile=f"177{i:08d}", password="!") for i in range(more)],
            batch_size=1000,
        )
    return result


def timed(label, run, repeat):
    if repeat > 1:
        run()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    print(f"{label:<58}{median * 1000:>10.0f}{max(times) * 1000:>9.0f}")
    return median


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--proposals", type=int, default=20000, help="seed_volume --proposals (the 大赛 takes a quarter)"
    )
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument(
        "--repeat-slow", type=int, default=1, dest="repeat_slow", help="runs of store_ranking and the workbook"
    )
    args = parser.parse_args()
    bench_grants.setup(os.environ.get("DATABASE_URL"), name="bench_review")
    t = time.perf_counter()
    volume = load(args.proposals)
    seconds = volume["seconds"]
    print(
        f"seed_volume --proposals {args.proposals}: {seconds['total']:.1f}s "
        f"(reviews {seconds.get('reviews', 0):.1f}s); loaded in {time.perf_counter() - t:.1f}s"
    )

    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from accounts.models import User
    from grants.exports_ranking import ranking_workbook
    from grants.models import Assignment, AssignmentStatus, Call
    from grants.services.award import store_ranking
    from grants.volume.calls import CONTEST

    contest = Call.objects.get(title__contains=CONTEST)
    assignments = Assignment.objects.filter(round__call=contest)
    ranked = assignments.values("proposal").distinct().count()
    submitted = assignments.filter(status=AssignmentStatus.SUBMITTED).count()
    busiest = assignments.values("expert__user").annotate(n=Count("pk")).order_by("-n").first()
    reviewer = User.objects.get(pk=busiest["expert__user"])
    queue_rows = Assignment.objects.filter(expert__user=reviewer).count()
    superuser = User.objects.create_superuser("bench_admin", password="!")
    clients = {}
    for who, user in (
        ("manager", User.objects.get(username="shi_minzheng")),
        ("reviewer", reviewer),
        ("admin", superuser),
    ):
        clients[who] = Client()
        clients[who].force_login(user)
    users = User.objects.count()
    middle = max(2, users // 50 // 2)
    last_rank_page = max(1, -(-ranked // 100))
    call = f"/admin/grants/calls/{contest.pk}"
    queue = "/admin/grants/reviews/"
    Page = bench_grants.Page
    pages = [
        Page("reviewer queue, page 1", "reviewer", queue),
        Page("reviewer queue, page 3", "reviewer", f"{queue}?p=3"),
        Page("reviewer queue, the 大赛", "reviewer", f"{queue}?call={contest.pk}"),
        Page("reviewer queue, submitted", "reviewer", f"{queue}?status=submitted"),
        Page("review console (大赛)", "manager", f"{call}/review/", kind="page"),
        Page("ranking, page 1", "manager", f"{call}/ranking/", kind="page"),
        Page(f"ranking, last page ({last_rank_page})", "manager", f"{call}/ranking/?p={last_rank_page}", kind="page"),
        Page("award list, page 1", "manager", f"{call}/award/", kind="page"),
        Page("stock users, page 1", "admin", "/admin/users/", kind="stock"),
        Page(f"stock users, middle page ({middle})", "admin", f"/admin/users/?p={middle}", kind="stock"),
        Page("stock users, searched", "admin", "/admin/users/?q=测试用户1", kind="stock"),
    ]
    for p in pages:
        p.missing = bench_grants.exists(clients[p.who], p.url)
    bench_grants.measure(pages, clients, args.repeat)

    print(
        f"database: {connection.vendor}; the 大赛: {ranked} proposals ranked, {submitted} scores; "
        f"the reviewer's queue: {queue_rows} assignments; {users} users"
    )
    print(f"{'page':<58}{'median ms':>10}{'p90 ms':>9}{'queries':>9}")
    for p in pages:
        if p.missing:
            print(f"{p.label:<58}{'MISSING (' + p.missing + ')':>28}")
            continue
        ts = sorted(p.times)
        p.median = statistics.median(ts)
        print(f"{p.label:<58}{p.median:>10.1f}{ts[int(len(ts) * 0.9) - 1]:>9.1f}{p.queries:>9}")
    print(f"\n{'done once, on the 大赛':<58}{'median ms':>10}{'max ms':>9}")
    timed("store_ranking (grants.services.award)", lambda: store_ranking(contest), args.repeat_slow)
    timed("ranking_workbook (grants.exports_ranking)", lambda: ranking_workbook(contest), args.repeat_slow)

    measured = [p for p in pages if not p.missing]
    yardstick = max(p.median for p in measured if p.kind == "stock")
    missed = [p for p in measured if p.kind != "stock" and p.queries > MAX_QUERIES]
    missed += [p for p in measured if p.kind == "list" and p.median > yardstick and p not in missed]
    print(f"\nstock Wagtail user listing ({users} users): slowest page {yardstick:.1f} ms")
    for p in missed:
        print(f"MISSED: {p.label}: {p.median:.1f} ms, {p.queries} queries")
    for p in pages:
        if p.missing:
            print(f"MISSING: {p.label} ({p.missing})")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
