"""Server time and SQL queries of the list pages at realistic volume.

    .venv/bin/python bench/lists.py [--orgs 5000] [--repeat 15]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gongyi_bench .venv/bin/python bench/lists.py

Builds a throwaway database (SQLite file under var/ unless DATABASE_URL is set), loads
the demo regions and staff, bulk-creates N organisations spread over every street, then
requests each page in-process with Django's test client (server time: middleware, views,
templates; no network) and prints the median, the 90th percentile and the query count.
Targets (DEVELOPERS.md): any staff list ≤ 80 ms and ≤ 15 queries at 5,000 rows."""

import argparse
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    setup(os.environ.get("DATABASE_URL"))
    t = time.perf_counter()
    ids = load(args.orgs)
    print(f"loaded {args.orgs} organisations in {time.perf_counter() - t:.1f}s")

    from django.db import connection
    from django.test import Client

    from accounts.models import Region, User

    district = Region.objects.get(code="420704")
    pages = {
        "shi_minzheng": [
            "/admin/orgs/",
            "/admin/orgs/?page=40",
            "/admin/orgs/?status=verified",
            f"/admin/orgs/?region={district.pk}&grade=4A",
            "/admin/orgs/?q=凤凰街道第1",
            "/admin/orgs/review/",
            f"/admin/orgs/review/{ids[1]}/",
        ],
        "echeng_minzheng": ["/admin/orgs/", "/admin/orgs/review/"],
        None: ["/directory/", "/directory/?page=30", f"/directory/?district={district.pk}", "/"],
    }
    print(f"database: {connection.vendor}\n{'page':<52}{'median ms':>10}{'p90 ms':>9}{'queries':>9}")
    for username, urls in pages.items():
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        for url in urls:
            median, p90, queries = measure(client, url, args.repeat)
            who = username or "public"
            print(f"{who + ' ' + url:<52}{median:>10.1f}{p90:>9.1f}{queries:>9}")


if __name__ == "__main__":
    main()
