"""Server time and SQL queries of the list pages at realistic volume, beside Wagtail's
stock user listing of the same number of rows, in one run.

    make bench                                   (= .venv/bin/python bench/run.py)
    .venv/bin/python bench/lists.py [--rows 5000] [--repeat 15]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gongyi_bench .venv/bin/python bench/lists.py

Builds a throwaway database (SQLite file under var/ unless DATABASE_URL is set), loads
the demo regions, staff and bases, bulk-creates N organisations spread over every street,
N stays, N promotions and N users, then requests each page in-process with Django's test
client (server time: middleware, views, templates; no network) and prints the median, the
90th percentile and the query count: every staff list on page 1, a late page, each filter
and a search, and /admin/users/ (Wagtail's own listing) on the same pages.
Target: every staff list at or below the stock user listing's median, ≤ 15 queries.
Exits 1 when a staff list misses it."""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "site")]


def setup(db_url: str | None):
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")  # persistent connections, as in production
    if db_url:
        os.environ["DATABASE_URL"] = db_url
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    if not db_url:
        path = ROOT / "var" / "bench.sqlite3"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        settings.DATABASES["default"]["NAME"] = str(path)
        connections["default"].close()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load(n: int):
    from accounts.demo import seed_regions, seed_staff
    from accounts.models import Region
    from cms.setup import ensure_site
    from orgs.demo import make_uscc
    from orgs.models import Organisation, OrganisationStatus, ServiceArea

    seed_regions()
    seed_staff()
    ensure_site()
    streets = list(Region.objects.filter(level__gte=Region.Level.STREET))
    areas = list(ServiceArea.objects.all())
    statuses = [s for s, _ in OrganisationStatus.choices]
    rows = []
    for i in range(n):
        region = streets[i % len(streets)]
        rows.append(
            Organisation(
                name=f"鄂州市{region.name}第{i}号社会工作服务中心",
                org_type="service_org",
                uscc=make_uscc("2", region.code[:6], 100000 + i),
                legal_representative="张三",
                address="鄂州市",
                region=region,
                contact_name="张三",
                contact_phone="13800000000",
                introduction="为社区居民提供服务。" * 3,
                latest_grade=["", "3A", "4A", "5A"][i % 4],
                latest_inspection_result=["passed", "basic", ""][i % 3],
            )
        )
    Organisation.objects.bulk_create(rows, batch_size=1000)
    now = datetime.datetime.now(datetime.UTC)
    Organisation.objects.filter(pk__in=Organisation.objects.values("pk")).update(submitted_at=now)
    # statuses are protected FSM fields: set them in bulk with an UPDATE per status
    ids = list(Organisation.objects.values_list("pk", flat=True))
    for k, status in enumerate(statuses):
        Organisation.objects.filter(pk__in=ids[k :: len(statuses)]).update(status=status)
    Through = Organisation.service_areas.through
    Through.objects.bulk_create(
        [Through(organisation_id=pk, servicearea_id=areas[i % len(areas)].pk) for i, pk in enumerate(ids)],
        batch_size=2000,
    )
    from django.db import connection

    if connection.vendor == "postgresql":  # fresh tables have no statistics until autovacuum runs
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return ids


def load_incubation(n: int, org_ids: list[int]):
    """N stays over the demo bases (all statuses, a share overdue) and N promotions."""
    from incubator.demo import seed_bases
    from incubator.models import Incubation, IncubationStatus, Promotion, PromotionState, Residence

    bases = list(seed_bases().values())
    statuses = [s for s, _ in IncubationStatus.choices]
    today = datetime.date.today()
    stays = Incubation.objects.bulk_create(
        [
            Incubation(
                base=bases[i % len(bases)],
                organisation_id=org_ids[i % len(org_ids)],
                status=statuses[i % len(statuses)],
                plan="社区服务",
                applied_on=today - datetime.timedelta(days=i % 40),
                screening_due=today - datetime.timedelta(days=i % 40 - 7),
                residence=Residence.VIRTUAL,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    with_parent = [b for b in bases if b.parent_id]
    Promotion.objects.bulk_create(
        [
            Promotion(
                incubation=stays[i],
                to_base_id=with_parent[i % len(with_parent)].parent_id,
                reason="服务成效突出，推荐至上级基地继续孵化。",
                state=[PromotionState.PENDING, PromotionState.ACCEPTED, PromotionState.DECLINED][i % 3],
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    return bases


def load_users(n: int):
    from accounts.models import User

    User.objects.bulk_create(
        [User(username=f"bench{i}", name=f"测试用户{i}", mobile=f"177{i:08d}", password="!") for i in range(n)],
        batch_size=1000,
    )


def measure(client, url, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm caches and templates
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], len(ctx.captured_queries)


def measure_interleaved(pages, repeat):
    """[(median ms, p90 ms, queries)] of each (client, url), requested round-robin."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = [[] for _ in pages]
    queries = [0] * len(pages)
    for client, url in pages:  # warm caches and templates
        assert client.get(url).status_code == 200, url
    for _ in range(repeat):
        for i, (client, url) in enumerate(pages):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                response = client.get(url)
                times[i].append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            queries[i] = len(ctx.captured_queries)
    out = []
    for ts, q in zip(times, queries, strict=True):
        ts.sort()
        out.append((statistics.median(ts), ts[int(len(ts) * 0.9) - 1], q))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", "--orgs", type=int, default=5000, dest="rows")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    setup(os.environ.get("DATABASE_URL"))
    t = time.perf_counter()
    ids = load(args.rows)
    bases = load_incubation(args.rows, ids)
    load_users(args.rows)
    print(f"loaded {args.rows} organisations, stays, promotions and users in {time.perf_counter() - t:.1f}s")

    from django.db import connection
    from django.test import Client

    from accounts.models import Region, User
    from incubator.models import IncubationStatus, PromotionState

    district = Region.objects.get(code="420704")
    late = max(2, args.rows // 50 - 1)  # a late page of 50
    city_base = next(b for b in bases if not b.parent_id)
    # (who, url, stock): `stock` marks Wagtail's own user listing, the yardstick
    staff_lists = [
        "/admin/orgs/",
        f"/admin/orgs/?p={late}",
        "/admin/orgs/?org_type=social_group",
        "/admin/orgs/?status=verified",
        f"/admin/orgs/?region={district.pk}",
        "/admin/orgs/?grade=4A",
        "/admin/orgs/?inspection=passed",
        "/admin/orgs/?q=凤凰街道第1",
        "/admin/orgs/?ordering=name",
        "/admin/orgs/review/",
        f"/admin/orgs/review/?p={max(2, late // 6)}",
        "/admin/orgs/review/?org_type=service_org",
        "/admin/orgs/review/?q=凤凰街道第1",
        "/admin/incubator/incubations/",
        f"/admin/incubator/incubations/?p={late}",
        f"/admin/incubator/incubations/?base={city_base.pk}",
        f"/admin/incubator/incubations/?status={IncubationStatus.APPLIED}",
        "/admin/incubator/incubations/?overdue=on",
        "/admin/incubator/incubations/?ordering=organisation",
        "/admin/incubator/promotions/",
        f"/admin/incubator/promotions/?p={late}",
        f"/admin/incubator/promotions/?state={PromotionState.PENDING}",
        "/admin/incubator/bases/",
    ]
    stock = ["/admin/users/", f"/admin/users/?p={late}", "/admin/users/?q=测试用户1"]
    superuser = User.objects.create_superuser("bench_admin", password="!")
    pages = [("shi_minzheng", url) for url in staff_lists] + [("bench_admin", url) for url in stock]
    pages += [("echeng_minzheng", "/admin/orgs/"), ("echeng_minzheng", "/admin/orgs/review/")]
    clients = {}
    for username, _url in pages:
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(
                superuser if username == "bench_admin" else User.objects.get(username=username)
            )
    # Interleaved: every round requests every page once, so a burst of load on this shared
    # machine slows the yardstick and the staff lists alike instead of whichever page it hits.
    timed = measure_interleaved([(clients[u], url) for u, url in pages], args.repeat)
    results = []
    print(f"database: {connection.vendor}\n{'page':<66}{'median ms':>10}{'p90 ms':>9}{'queries':>9}")
    for (username, url), (median, p90, queries) in zip(pages, timed, strict=True):
        results.append((username, url, median, queries))
        print(f"{username + ' ' + url:<66}{median:>10.1f}{p90:>9.1f}{queries:>9}")

    yardstick = max(m for u, url, m, q in results if url in stock)
    missed = [(u, url, m, q) for u, url, m, q in results if url not in stock and (m > yardstick or q > 15)]
    print(f"\nstock Wagtail user listing ({args.rows} users): slowest page {yardstick:.1f} ms")
    slowest = max((r for r in results if r[1] not in stock), key=lambda r: r[2])
    most = max(r[3] for r in results if r[1] not in stock)
    print(f"staff lists: slowest {slowest[2]:.1f} ms ({slowest[1]}), most queries {most}")
    for u, url, m, q in missed:
        print(f"MISSED: {u} {url}: {m:.1f} ms, {q} queries")
    for url in ("/directory/", "/directory/?page=30", f"/directory/?district={district.pk}", "/"):
        median, p90, queries = measure(Client(), url, args.repeat)
        print(f"{'public ' + url:<66}{median:>10.1f}{p90:>9.1f}{queries:>9}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
