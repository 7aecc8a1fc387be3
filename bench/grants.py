"""Server time and SQL queries of the grant pages at realistic volume, beside Wagtail's stock
user listing of the same number of rows, in one run.

    make bench                                   (= .venv/bin/python bench/run.py)
    .venv/bin/python bench/grants.py [--proposals 5000] [--repeat 21]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gongyi_bench .venv/bin/python bench/grants.py

Builds a throwaway database (SQLite file under var/ unless DATABASE_URL is set) with the
demo's regions and staff, `seed_volume --proposals N` (grants/volume/: calls at every level
over five years, proposals in every status with budgets, versions and history) and as
many users as proposals, then measures in-process with Django's test client (server time:
middleware, views, templates; no network), every page once a round, interleaved:

- the staff proposal list /admin/grants/proposals/: page 1, a middle page, filtered by
  status and call, searched (and a few more filters and sorts);
- one proposal's staff page /admin/grants/proposals/<pk>/ (one with two versions);
- the applicant's draft save: grants.services.proposals.proposal_save of one section,
  and the portal's save URL (/me/proposals/<pk>/save/<section>/) as the page posts it;
- Wagtail's own /admin/users/ (5,000 users) on the same kinds of page: the yardstick.

Targets: every staff list at or below the stock listing's slowest median and ≤ 15 queries;
the proposal page ≤ 15 queries. A page that does not exist yet is reported as missing.
Exits 1 when a target is missed."""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "site")]
MAX_QUERIES = 15


def setup(db_url: str | None, name: str = "bench_grants"):
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")  # persistent connections, as in production
    if db_url:
        os.environ["DATABASE_URL"] = db_url
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    if not db_url:
        path = ROOT / "var" / f"{name}.sqlite3"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        settings.DATABASES["default"]["NAME"] = str(path)
        connections["default"].close()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load(n: int) -> dict:
    from accounts.demo import seed_regions, seed_staff
    from accounts.models import User
    from cms.setup import ensure_site
    from grants.volume import seed_volume

    seed_regions()
    seed_staff()
    ensure_site()
    result = seed_volume(n)
    more = n - User.objects.count()
    if more > 0:  # the yardstick lists as many users as there are proposals
        User.objects.bulk_create(
            [User(username=f"bench{i}", name=f"测试用户{i}", mobile=f"177{i:08d}", password="!") for i in range(more)],
            batch_size=1000,
        )
    return result


class Page:
    """One thing measured: a GET of `url`, or a callable (a save) run as `who`."""

    def __init__(self, label, who, url=None, run=None, kind="list"):
        self.label, self.who, self.url, self.run, self.kind = label, who, url, run, kind
        self.times, self.queries, self.missing = [], 0, ""

    def once(self, client):
        if self.run is not None:
            return self.run(client)
        response = client.get(self.url)
        assert response.status_code == 200, (self.url, response.status_code)
        return response


def exists(client, url) -> str:
    """'' when `url` answers 200, else why it is missing."""
    from django.urls import Resolver404, resolve

    try:
        resolve(url.split("?")[0])
    except Resolver404:
        return "no URL"
    status = client.get(url).status_code
    return "" if status == 200 else f"HTTP {status}"


def measure(pages, clients, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    live = [p for p in pages if not p.missing]
    for p in live:  # warm caches and templates
        p.once(clients[p.who])
    for _ in range(repeat):
        for p in live:
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                p.once(clients[p.who])
                p.times.append((time.perf_counter() - t) * 1000)
            p.queries = len(ctx.captured_queries)


# ---- the applicant's saves -------------------------------------------------------------------------


def service_save(proposal, user, section):
    """grants.services.proposals.proposal_save of one section (objectives, or the budget)."""
    from grants.services.proposals import proposal_save

    state = {"revision": proposal.revision}
    lines = [
        {
            k: getattr(line, k)
            for k in ("category", "item", "unit", "quantity", "unit_price", "source", "nature", "note")
        }
        for line in proposal.budget_lines.all()
    ]

    def run(_client):
        kwargs = {"budget_lines": lines} if section == "budget" else {"fields": {"objectives": proposal.objectives}}
        saved = proposal_save(proposal=proposal, by=user, revision=state["revision"], **kwargs)
        state["revision"] = saved.revision

    return run


def portal_save(client, proposal, section):
    """The portal's save URL, posted as the edit page's form for `section` posts it (read
    from the page), with the revision each answer gives back."""
    from django.urls import reverse

    from tests.html_forms import read_form

    url = reverse("grants:save", args=[proposal.pk, section])
    page = client.get(reverse("grants:proposal", args=[proposal.pk]))
    data = read_form(page.content.decode(), action=url).post_data()
    state = {"revision": int(data["revision"])}

    def run(c):
        response = c.post(url, {**data, "revision": state["revision"]}, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        state["revision"] = response.json()["revision"]

    return url, run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proposals", "--rows", type=int, default=5000, dest="rows")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    setup(os.environ.get("DATABASE_URL"))
    t = time.perf_counter()
    volume = load(args.rows)
    print(f"seed_volume --proposals {args.rows}: {volume['seconds']['total']:.1f}s; {args.rows} users")
    print(f"loaded in {time.perf_counter() - t:.1f}s")

    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from accounts.models import User
    from grants.models import Proposal, ProposalStatus
    from grants.selectors.proposals import STAFF_VISIBLE
    from orgs.models import ServiceArea

    P = ProposalStatus
    staff_rows = Proposal.objects.filter(STAFF_VISIBLE).count()
    middle = max(2, staff_rows // 50 // 2)
    busiest = Proposal.objects.filter(status=P.SUBMITTED).values("call").annotate(n=Count("pk")).order_by("-n").first()
    detail = Proposal.objects.filter(status=P.ELIGIBLE, versions__number=2).order_by("pk").first()
    # four drafts in open calls, one per save measured (each save moves its draft's revision on)
    drafts = list(Proposal.objects.filter(status=P.DRAFT, call__status="open").order_by("-pk")[:4])
    superuser = User.objects.create_superuser("bench_admin", password="!")
    clients = {}
    users = [("shi_minzheng", User.objects.get(username="shi_minzheng")), ("admin", superuser)]
    users += [(f"applicant{i}", User.objects.get(pk=d.created_by_id)) for i, d in enumerate(drafts)]
    for who, user in users:
        clients[who] = Client()
        clients[who].force_login(user)
    elderly = ServiceArea.objects.get(code="elderly").pk

    lists = "/admin/grants/proposals/"
    pages = [
        Page("staff list, page 1", "shi_minzheng", lists),
        Page(f"staff list, middle page ({middle})", "shi_minzheng", f"{lists}?p={middle}"),
        Page("staff list, status + call", "shi_minzheng", f"{lists}?status=submitted&call={busiest['call']}"),
        Page("staff list, searched", "shi_minzheng", f"{lists}?q=老宝贝"),
        Page("staff list, level + category", "shi_minzheng", f"{lists}?level=3&category={elderly}"),
        Page("staff list, by organisation", "shi_minzheng", f"{lists}?ordering=organisation__name&p={middle}"),
        Page("staff list, by grant share", "shi_minzheng", f"{lists}?ordering=-grant_share"),
        Page("proposal staff page", "shi_minzheng", f"/admin/grants/proposals/{detail.pk}/", kind="page"),
        Page("stock users, page 1", "admin", "/admin/users/", kind="stock"),
        Page(f"stock users, middle page ({middle})", "admin", f"/admin/users/?p={middle}", kind="stock"),
        Page("stock users, searched", "admin", "/admin/users/?q=测试用户1", kind="stock"),
    ]
    for p in pages:
        p.missing = exists(clients[p.who], p.url)
    for i, section in enumerate(("objectives", "budget")):
        draft, who = drafts[i], f"applicant{i}"
        run = service_save(draft, users[2 + i][1], section)
        pages.append(Page(f"draft save: proposal_save({section})", who, run=run, kind="save"))
    for i, section in enumerate(("objectives", "budget"), start=2):
        draft, who = drafts[i], f"applicant{i}"
        try:
            url, run = portal_save(clients[who], draft, section)
            pages.append(Page(f"draft save: POST …/save/{section}/", who, run=run, kind="save"))
        except Exception as exc:  # the portal's page is not there yet
            pages.append(Page(f"draft save: POST …/save/{section}/", who, kind="save"))
            pages[-1].missing = f"{type(exc).__name__}: {exc}"[:80]
    # Interleaved: every round runs every page once, so a burst of load on this shared
    # machine slows the yardstick and the grant pages alike.
    measure(pages, clients, args.repeat)

    print(f"database: {connection.vendor}; {staff_rows} proposals in the staff list of {args.rows}")
    print(f"{'page':<58}{'median ms':>10}{'p90 ms':>9}{'queries':>9}")
    for p in pages:
        if p.missing:
            print(f"{p.label:<58}{'MISSING (' + p.missing + ')':>28}")
            continue
        ts = sorted(p.times)
        p.median = statistics.median(ts)
        print(f"{p.label:<58}{p.median:>10.1f}{ts[int(len(ts) * 0.9) - 1]:>9.1f}{p.queries:>9}")
    measured = [p for p in pages if not p.missing]
    yardstick = max(p.median for p in measured if p.kind == "stock")
    missed = [p for p in measured if p.kind == "list" and (p.median > yardstick or p.queries > MAX_QUERIES)]
    missed += [p for p in measured if p.kind == "page" and p.queries > MAX_QUERIES]
    print(f"\nstock Wagtail user listing ({User.objects.count()} users): slowest page {yardstick:.1f} ms")
    for p in missed:
        print(f"MISSED: {p.label}: {p.median:.1f} ms, {p.queries} queries")
    for p in pages:
        if p.missing:
            print(f"MISSING: {p.label} ({p.missing})")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
