"""The home page (HomePage): what each featured block shows, read when the page is served.

Editors arrange the blocks (HomePage.featured, cms/blocks.py); each kind is read here by
one function taking the block's value, in a fixed number of queries whatever the data:

- open_calls: calls taking applications (deadline and days left), then those collecting
  community needs, each linked to its published call page;
- notices: the 公示 whose window is open today first, then the newest notices;
- projects: the latest public projects (批复立项 and after), linked to /projects/<pk>/;
- figures: one year's key figures (projects funded, money awarded and released,
  beneficiaries, organisations incubated and graduated); the current year unless the
  block names one, the latest year with funded projects while this one has none;
- news: the newest news.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.db import models
from django.db.models import Case, Count, Max, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator

from core.dates import chinese_date

NEWS_SUMMARY_CHARS = 80


class Reading:
    """What every block of one request reads: the request, today, and which pages are in a
    private section (asked once, not once per block as each `.public()` would)."""

    def __init__(self, request, today: datetime.date):
        self.request, self.today = request, today

    @cached_property
    def private(self) -> Q:
        from wagtail.models import Page

        return Page.objects.all().private_q()

    def live(self, pages):
        return pages.live().exclude(self.private)


@dataclass
class Featured:
    """One block as the template reads it: its kind, what the editor set, what it shows."""

    kind: str
    value: object
    data: object
    id: str = ""

    @property
    def template(self) -> str:
        return f"cms/blocks/{self.kind}.html"


# ---- 正在征集 -------------------------------------------------------------------------------------


def open_calls(reading: Reading, value) -> dict:
    """Calls taking applications, the nearest deadline first, then those collecting needs."""
    from grants.models import CallStatus
    from grants.rules import fmt_money

    from .models import CallPage

    request, today = reading.request, reading.today
    pages = (
        reading.live(CallPage.objects)
        .filter(
            Q(call__status=CallStatus.OPEN, call__apply_until__gte=today)
            | Q(call__status=CallStatus.NEEDS, call__needs_until__gte=today)
        )
        .select_related("call__region")
        .annotate(
            stage=Case(When(call__status=CallStatus.OPEN, then=Value(0)), default=Value(1)),
            deadline=Case(When(call__status=CallStatus.OPEN, then="call__apply_until"), default="call__needs_until"),
        )
        .order_by("stage", "deadline", "pk")[: value["count"]]
    )
    calls = []
    for page in pages:
        call = page.call
        taking = call.status == CallStatus.OPEN
        if taking and call.apply_from > today:
            note = f"{chinese_date(call.apply_from)}开始申报"
        elif taking:
            days = (call.apply_until - today).days
            note = "今天截止" if days == 0 else f"还剩 {days} 天"
        else:
            note = "征集社区需求中"
        calls.append(
            {
                "title": page.title,
                "url": page.get_url(request),
                "place": f"{call.region.name} · {call.get_level_display()}",
                "taking": taking,
                "deadline": chinese_date(page.deadline),
                "deadline_iso": page.deadline.isoformat(),
                "deadline_label": "申报截止" if taking else "需求征集截止",
                "note": note,
                "grant_max": fmt_money(call.grant_max),
                "needs_url": f"/needs/new/?call={call.pk}" if not taking else "",
            }
        )
    return {"calls": calls, "more_url": "/calls/"}


# ---- 公示公告 -------------------------------------------------------------------------------------


def current_notices(reading: Reading, value) -> dict:
    """The 公示 open today first (公示中, with the window), then the newest notices."""
    from grants.services.publicity import window_text

    from .models import NoticePage
    from .notices import state_of

    request, today = reading.request, reading.today
    window_open = Q(publicity__closes_on__isnull=False, publicity__opens_on__lte=today, publicity__closes_on__gte=today)
    pages = (
        reading.live(NoticePage.objects)
        .select_related("publicity__call__region")
        .annotate(
            is_open=Case(When(window_open, then=Value(1)), default=Value(0), output_field=models.IntegerField()),
            sort_at=Coalesce("publicity__published_at", "first_published_at"),
        )
        .order_by("-is_open", "-sort_at", "-pk")[: value["count"]]
    )
    notices = []
    for page in pages:
        state, label = state_of(page.publicity, today)
        if page.publicity is not None:
            when = window_text(page.publicity)
        else:
            when = f"发布日期：{chinese_date(timezone.localdate(page.sort_at))}" if page.sort_at else ""
        notices.append(
            {"title": page.title, "url": page.get_url(request), "state": state, "label": label, "when": when}
        )
    return {"notices": notices, "open_count": sum(1 for p in pages if p.is_open), "more_url": "/notices/"}


# ---- 最新资助项目 ---------------------------------------------------------------------------------


def latest_projects(reading: Reading, value) -> dict:
    """The newest public projects, as the 资助项目 list reads them (grants.selectors.public:
    public status words, the grade once published): two queries (the places)."""
    from grants.public_hooks import project_url
    from grants.selectors.public import project_cards

    projects = project_cards(limit=value["count"])
    for p in projects:
        p.url = project_url(p.pk)
    return {"projects": projects, "more_url": "/projects/"}


# ---- 年度数据 -------------------------------------------------------------------------------------


def wan_yuan(amount: Decimal) -> str:
    """An amount in 万元 with two decimals, for a headline figure: 18.25."""
    return f"{(amount / Decimal(10000)).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


def year_figures(year: int) -> dict:
    """The key figures of `year`: the projects funded by that year's calls, the money
    awarded to them and released on them, their direct beneficiaries; the organisations
    that entered (入壳) and left (出壳) an incubation base that year. Three queries."""
    from grants.models import Tranche, TrancheStatus
    from grants.rules import fmt_money
    from grants.selectors.public import PUBLIC_STATES, public_projects
    from incubator.models import Incubation

    funded = public_projects().filter(call__year=year)
    grants = funded.aggregate(
        projects=Count("pk"),
        awarded=Sum("awarded_amount"),
        beneficiaries=Sum("beneficiaries_direct"),
    )
    released = Tranche.objects.filter(
        status=TrancheStatus.RELEASED, proposal__status__in=PUBLIC_STATES, proposal__call__year=year
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    incubation = Incubation.objects.aggregate(
        incubated=Count("organisation", distinct=True, filter=Q(starts_on__year=year)),
        graduated=Count("organisation", distinct=True, filter=Q(graduated_on__year=year)),
    )
    awarded = grants["awarded"] or Decimal("0")
    return {
        "year": year,
        "projects": grants["projects"],
        "awarded": awarded,
        "awarded_wan": wan_yuan(awarded),
        "awarded_text": f"¥{fmt_money(awarded)}",
        "released": released,
        "released_wan": wan_yuan(released),
        "released_text": f"¥{fmt_money(released)}",
        "beneficiaries": grants["beneficiaries"] or 0,
        "incubated": incubation["incubated"],
        "graduated": incubation["graduated"],
    }


def latest_funded_year() -> int | None:
    from grants.selectors.public import public_projects

    return public_projects().aggregate(year=Max("call__year"))["year"]


def figures(reading: Reading, value) -> dict:
    if value.get("year"):
        return year_figures(value["year"])
    this_year = reading.today.year
    data = year_figures(this_year)
    if not data["projects"]:
        latest = latest_funded_year()
        if latest and latest != this_year:
            data = year_figures(latest)
    return {**data, "more_url": "/stats/"}


# ---- 新闻动态 -------------------------------------------------------------------------------------


def news_summary(page, chars: int = NEWS_SUMMARY_CHARS) -> str:
    """A news item's summary, or the start of its text when the editor left it blank."""
    if page.summary:
        return page.summary
    text = " ".join(strip_tags(page.body or "").split())
    return Truncator(text).chars(chars)


def latest_news(reading: Reading, value) -> dict:
    from .news import live_news

    items = list(live_news(private=reading.private)[: value["count"]])
    for item in items:
        item.summary_text = news_summary(item)
        item.link = item.get_url(reading.request)
    return {"news": items, "more_url": "/news/"}


READERS = {
    "open_calls": open_calls,
    "notices": current_notices,
    "projects": latest_projects,
    "figures": figures,
    "news": latest_news,
}


def featured_blocks(request, page, today: datetime.date | None = None) -> list[Featured]:
    """The home page's blocks, in the editor's order, each with what it shows."""
    reading = Reading(request, today or timezone.localdate())
    blocks = []
    for block in page.featured:
        reader = READERS.get(block.block_type)
        data = reader(reading, block.value) if reader else None
        blocks.append(Featured(kind=block.block_type, value=block.value, data=data, id=block.id or ""))
    return blocks


def platform_figures() -> dict:
    """The platform at a glance (the hero): verified organisations, active bases, streets
    and communities covered. One query (four counts, UNION ALL)."""
    from accounts.models import Region
    from incubator.models import IncubationBase
    from orgs.selectors import public_organisations

    def counted(kind, qs):
        return qs.order_by().annotate(kind=Value(kind)).values("kind").annotate(n=Count("pk")).values_list("kind", "n")

    parts = [
        counted("organisations", public_organisations()),
        counted("bases", IncubationBase.objects.filter(is_active=True)),
        counted("streets", Region.objects.filter(level=Region.Level.STREET)),
        counted("communities", Region.objects.filter(level=Region.Level.COMMUNITY)),
    ]
    found = dict(parts[0].union(*parts[1:], all=True))
    return {kind: found.get(kind, 0) for kind in ("organisations", "bases", "streets", "communities")}
