"""Volume calls: one at every level (市, 区, 街道, 社区) for each of the last five years,
past rounds finished and this year's in every stage (some implementing since the spring),
each lower call linked to the one above it (三级联动), and the community needs each call
collected (民呼我应). This year the city also runs a 大赛 (`CONTEST`): one call under review
that takes a quarter of the proposals, the size the review benchmarks measure (5,000 at
`--proposals 20000`)."""

import datetime
from collections import Counter
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import OuterRef

from accounts.models import Region
from core.workflow import CREATED
from orgs.models import OrgType, ServiceArea

from ..models import Call, CallLevel, CallStatus, Need, NeedStatus, SubmitterKind
from ..models.calls import DEFAULT_CATEGORY_CODES
from .base import VOLUME_SUMMARY, Ctx, keep_dates, log, short, stamp, walk
from .words import theme

CS = CallStatus
YEARS = 5
STARTED = "started"  # a round implementing since the autumn (ANCHOR), its mid-term evaluations to come
STAGES = {  # this year's calls of each kind cycle through these stages (ANCHOR); past years are finished
    "city": [CS.OPEN],
    "contest": [CS.REVIEWING],
    "district": [CS.CLOSED, CS.REVIEWING, CS.OPEN],
    "street": [CS.IMPLEMENTING, CS.CLOSED, CS.OPEN, CS.NEEDS, CS.REVIEWING, STARTED, CS.DRAFT, CS.OPEN],
    "community": [CS.IMPLEMENTING, CS.NEEDS, CS.OPEN, CS.CLOSED, CS.DRAFT, STARTED, CS.OPEN, CS.CLOSED, CS.NEEDS],
}
# apply_from - today: an implementing round started in the spring, its mid-term evaluations held
ANCHOR = {CS.DRAFT: 45, CS.NEEDS: 12, CS.OPEN: -12, CS.CLOSED: -35, CS.REVIEWING: -50, CS.IMPLEMENTING: -280}
ANCHOR[STARTED] = -180
PANEL = {"city": 5, "contest": 5, "district": 5, "street": 3, "community": 3}  # experts per proposal
MONEY = {  # pool, grant min, grant max
    "city": (5_000_000, 50_000, 300_000),
    "contest": (10_000_000, 50_000, 300_000),
    "district": (2_000_000, 30_000, 200_000),
    "street": (500_000, 10_000, 100_000),
    "community": (100_000, 5_000, 30_000),
}


CONTEST = "“五社联动”公益创投大赛"  # in the title of this year's city contest


def kind(call: Call) -> str:
    if call.level == CallLevel.CITY:
        if call.region.level != Region.Level.CITY:
            return "district"
        return "contest" if CONTEST in call.title else "city"
    return "street" if call.level == CallLevel.STREET else "community"


def timeline(apply_from: datetime.date) -> dict:
    d = datetime.timedelta
    implement_from = (apply_from + d(71) + relativedelta(months=1)).replace(day=1)  # after the 公示
    return {
        "needs_from": apply_from - d(30),
        "needs_until": apply_from - d(1),
        "apply_from": apply_from,
        "apply_until": apply_from + d(29),
        "eligibility_until": apply_from + d(39),
        "review_from": apply_from + d(40),
        "review_until": apply_from + d(59),
        "publicity_from": apply_from + d(65),
        "publicity_until": apply_from + d(71),
        "implement_from": implement_from,
        "implement_until": implement_from + relativedelta(months=12) - d(1),
    }


# the transition taking a call into each status, the timeline date it runs on, and the
# status it reaches (a call's status follows its timeline)
CALL_STEPS = [
    ("start_needs", "needs_from", 0),
    ("open_applications", "apply_from", 0),
    ("close_applications", "apply_until", 1),
    ("start_review", "review_from", 0),
    ("publicise", "publicity_from", 0),
    ("decide", "publicity_until", 1),
    ("start_implementation", "implement_from", 0),
    ("finish", "implement_until", 1),
]


def call_path(t: dict, today: datetime.date) -> list[tuple[str, datetime.date]]:
    """The call transitions that have happened by `today` under timeline `t`, with their days."""
    days = [(name, t[date] + datetime.timedelta(days=after)) for name, date, after in CALL_STEPS]
    return [(name, day) for name, day in days if day <= today]


def _call_slots(ctx: Ctx):
    """(kind, region, year) of every call of the grid, upper levels first."""
    kinds = {Region.Level.CITY: "city", Region.Level.DISTRICT: "district"}
    kinds |= {Region.Level.STREET: "street", Region.Level.COMMUNITY: "community"}
    for level in sorted(kinds):
        for region in (r for r in ctx.regions if r.level == level):
            for year in range(ctx.today.year - YEARS + 1, ctx.today.year + 1):
                yield kinds[level], region, year
            if level == Region.Level.CITY:
                yield "contest", region, ctx.today.year


def ensure_calls(ctx: Ctx) -> list[Call]:
    """Every volume call of the grid, creating the missing ones with their needs."""
    grid = {
        (kind(c), c.region_id, c.year): c for c in Call.objects.filter(summary=VOLUME_SUMMARY).select_related("region")
    }
    index, created, entries = Counter(), [], []
    for k, region, year in _call_slots(ctx):
        n, index[(k, year)] = index[(k, year)], index[(k, year)] + 1
        if (k, region.pk, year) in grid:
            continue
        if year == ctx.today.year:
            t = timeline(ctx.today + datetime.timedelta(days=ANCHOR[STAGES[k][n % len(STAGES[k])]]))
        else:
            t = timeline(datetime.date(year, 3, 1) + datetime.timedelta(days={"city": 0, "district": 3}.get(k, 7)))
        upper = next(
            (
                c
                for (uk, _r, y), c in grid.items()
                if y == year
                and uk in {"community": ("street",), "street": ("district", "city")}.get(k, ())
                and c.region.contains(region)
            ),
            None,
        )
        steps = walk(Call, [name for name, _day in call_path(t, ctx.today)])
        call = _call(ctx, k, region, year, t, upper, steps[-1][2] if steps else CS.DRAFT)
        grid[(k, region.pk, year)] = call
        created.append(call)
        for (name, source, target), (_n, day) in zip(steps, call_path(t, ctx.today), strict=True):
            entries.append((call.pk, (name, source, target), ctx.at(day, 9, 0), ctx.checker, ""))
    through = Call.categories.through
    areas = list(ServiceArea.objects.filter(code__in=DEFAULT_CATEGORY_CODES).values_list("pk", flat=True))
    through.objects.bulk_create([through(call_id=c.pk, servicearea_id=a) for c in created for a in areas])
    log(Call, entries)
    make_needs(ctx, created)
    ctx.counts["calls"] += len(created)
    return list(grid.values())


def _call(ctx, k, region, year, t, upper, status) -> Call:
    place, brief = region.name, short(region.name)
    pool, low, high = MONEY[k]
    call = Call(
        title={
            # worded apart from the demo's calls, which may share the database
            "city": f"{place}{year}年“三社联动”公益创投项目征集",
            "contest": f"{place}{year}年{CONTEST}",
            "district": f"{place}{year}年社区公益创投项目征集",
            "street": f"{brief}{year}年“邻里守望”公益微创投项目征集",
        }.get(k, f"{place}{year}年“民呼我应”微心愿项目征集"),
        year=year,
        level={"street": CallLevel.STREET, "community": CallLevel.COMMUNITY}.get(k, CallLevel.CITY),
        region=region,
        organiser={"street": f"{brief}{'人民政府' if '镇' in place else '办事处'}"}.get(
            k,
            f"{place}{'村民委员会' if place.endswith('村') else '居民委员会'}"
            if k == "community"
            else f"{place}民政局",
        ),
        summary=VOLUME_SUMMARY,
        pool_total=Decimal(pool),
        grant_min=Decimal(low),
        grant_max=Decimal(high),
        eligible_types=[OrgType.SOCIAL_GROUP, OrgType.SERVICE_ORG, OrgType.FOUNDATION, OrgType.COMMUNITY_FILED],
        allow_preparing_in_incubation=k == "community",
        panel_size=PANEL[k],
        next_round=upper,
        created_by=ctx.checker,
        status=status,
        **t,
    )
    call.full_clean(exclude=["status"])
    call.save()
    return call


def make_needs(ctx: Ctx, calls: list[Call]) -> None:
    """Each call's community needs (民呼我应): a few accepted and published, one still
    waiting for moderation in calls collecting needs, one not taken up."""
    rng, needs = ctx.rng, []
    for call in calls:
        communities = [r for r in ctx.regions if call.region.contains(r) and r.level == Region.Level.COMMUNITY]
        for i in range(rng.randint(3, 6)):
            code = rng.choice(DEFAULT_CATEGORY_CODES)
            title, text = rng.choice(theme(code).needs)
            status = NeedStatus.SUBMITTED if call.status == CS.NEEDS and i == 0 else NeedStatus.ACCEPTED
            status = NeedStatus.REJECTED if i == 1 and rng.random() < 0.3 else status
            created = ctx.at(call.needs_from + datetime.timedelta(days=rng.randrange(0, 25)))
            needs.append(
                Need(
                    title=title,
                    description=text,
                    affected=theme(code).affected,
                    people_count=rng.randrange(20, 400),
                    region=rng.choice(communities or [call.region]),
                    submitter_kind=rng.choice(SubmitterKind.values),
                    submitter_name=f"{rng.choice('王李张刘陈杨赵黄周吴')}{rng.choice(['女士', '先生'])}",
                    phone=f"13{rng.randrange(10**8, 10**9)}",
                    call=call,
                    status=status,
                    status_reason="已有同类公共服务覆盖，暂不纳入本次征集。" if status == NeedStatus.REJECTED else "",
                    supporters=rng.randint(1, 12),
                    moderated_at=ctx.at(call.needs_until, 15, 0) if status != NeedStatus.SUBMITTED else None,
                    created_at=created,
                )
            )
            needs[-1].code = code
    codes = dict(ServiceArea.objects.values_list("code", "pk"))
    for need in needs:
        need.category_id = codes.get(need.code)
    with keep_dates(Need, "created_at"):
        Need.objects.bulk_create(needs, batch_size=1000)
    entries = [(n.pk, (CREATED, "submitted", "submitted"), None, None, "提交需求") for n in needs]
    for n in needs:
        for step in walk(Need, {"accepted": ("accept",), "rejected": ("reject",)}.get(n.status, ()), "submitted"):
            entries.append((n.pk, step, n.moderated_at, ctx.checker, n.status_reason))
    since = log(Need, entries)
    stamp(Need, since, CREATED, Need.objects.filter(pk=OuterRef("object_id")), "created_at", "submitted_by_id")
    ctx.counts["needs"] += len(needs)
