"""Volume proposals: spread over the calls by their size, each by a verified organisation
of the call's region (one per organisation and call), in the statuses a call's stage
allows, with everything a real applicant leaves: sections, a budget of 3–8 lines (totals
and shares computed by grants.rules and stored), activities, KPIs, team, places, cited
needs, a frozen version per submission, and the audit rows of the path it took."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.db.models import Case, CharField, OuterRef, Value, When
from django.db.models.functions import Cast, Concat, LPad

from accounts.models import Region
from core.dates import chinese_date
from core.workflow import CREATED
from orgs.models import ServiceArea

from .. import rules
from ..models import (
    KPI,
    Activity,
    BudgetLine,
    Call,
    CallStatus,
    Need,
    NeedStatus,
    Proposal,
    ProposalStatus,
    ProposalVersion,
    TeamMember,
)
from ..services.proposals import LINE_TABLES, _plain
from .base import Ctx, insert_many, keep_dates, log, pick, short, stamp, walk
from .calls import kind
from .words import (
    INELIGIBLE_REASONS,
    RETURN_REASONS,
    activity_rows,
    budget_lines,
    kpi_rows,
    proposal_fields,
    team_rows,
    theme,
)

P, CS = ProposalStatus, CallStatus
WEIGHT = {"city": 10, "district": 5, "street": 3, "community": 1}  # proposals per call, relatively
CONTEST_SHARE = 4  # the city's 大赛 takes one proposal in this many (as many as its organisations allow)
MIX = {  # the statuses of a call's proposals by the call's stage, in percent
    CS.OPEN: {P.DRAFT: 55, P.SUBMITTED: 40, P.WITHDRAWN: 5},
    CS.CLOSED: {P.SUBMITTED: 40, P.ELIGIBLE: 25, P.RETURNED: 14, P.INELIGIBLE: 9, P.WITHDRAWN: 5, P.DRAFT: 7},
    "done": {P.ELIGIBLE: 78, P.INELIGIBLE: 12, P.WITHDRAWN: 5, P.DRAFT: 5},
    "contest": {P.ELIGIBLE: 97, P.INELIGIBLE: 2, P.WITHDRAWN: 1},  # a 大赛 screened before it opened
}
RESUBMITTED = ("submit", "return_for_correction", "resubmit")
PATHS = {  # the transitions that lead to each status, with their odds
    P.DRAFT: {(): 1},
    P.SUBMITTED: {("submit",): 85, RESUBMITTED: 15},
    P.RETURNED: {("submit", "return_for_correction"): 1},
    P.ELIGIBLE: {("submit", "mark_eligible"): 85, (*RESUBMITTED, "mark_eligible"): 15},
    P.INELIGIBLE: {("submit", "mark_ineligible"): 70, ("submit", "return_for_correction", "expire"): 30},
    P.WITHDRAWN: {("withdraw",): 40, ("submit", "withdraw"): 60},
}
STAFF = {"return_for_correction", "mark_eligible", "mark_ineligible", "expire"}


def allocate(ctx: Ctx, calls: list[Call], orgs: list, n: int) -> list[tuple[Call, object]]:
    """`n` (call, organisation) pairs: calls that have taken applications share them by
    their weight, each organisation of the call's region at most once per call (the
    organisations of a community's street may apply to its call too)."""
    takers = [c for c in calls if c.status not in (CS.DRAFT, CS.NEEDS)]
    by_node = defaultdict(list)
    for org in orgs:
        by_node[org.region.path].append(org)
    used = defaultdict(set)
    for call_id, org_id in Proposal.objects.filter(call__in=takers).values_list("call_id", "organisation_id"):
        used[call_id].add(org_id)
    pools = {}
    for c in takers:
        paths = {p for p in by_node if p.startswith(c.region.path)}
        if kind(c) == "community":
            paths.add(c.region.path[: -Region.steplen])
        pools[c.pk] = [o for p in sorted(paths) for o in by_node.get(p, ()) if o.pk not in used[c.pk]]
    quota, left = dict.fromkeys(pools, 0), n
    for c in takers:
        if kind(c) == "contest":
            quota[c.pk] = min(n // CONTEST_SHARE, len(pools[c.pk]))
            left -= quota[c.pk]
    while left > 0:
        live = [c for c in takers if quota[c.pk] < len(pools[c.pk]) and kind(c) != "contest"]
        if not live:
            break
        weight = sum(WEIGHT[kind(c)] for c in live)
        exact = {c.pk: left * WEIGHT[kind(c)] / weight for c in live}
        for c in live:
            give = min(int(exact[c.pk]), len(pools[c.pk]) - quota[c.pk])
            quota[c.pk] += give
            left -= give
        for c in sorted(live, key=lambda c: exact[c.pk] % 1, reverse=True)[:left]:
            if quota[c.pk] < len(pools[c.pk]):
                quota[c.pk] += 1
                left -= 1
    return [(c, org) for c in takers for org in ctx.rng.sample(pools[c.pk], quota[c.pk])]


@dataclass
class Row:
    call: Call
    org: object
    proposal: Proposal
    steps: list
    tables: dict
    places: list
    needs: list
    submitted: list = field(default_factory=list)  # the time of each submission
    staff: list = field(default_factory=list)  # (step, at, by, reason) of the staff's acts


class Days:
    """A call's working days: when applications came in and when staff acted on them."""

    def __init__(self, ctx: Ctx, call: Call):
        d, today = datetime.timedelta, ctx.today
        self.first, self.last = call.apply_from, min(call.apply_until, today - d(1))
        self.returned = min(call.apply_until + d(3), today - d(3))
        self.checked = min(call.apply_until + d(9), today - d(1))
        # a correction still awaited is due in a few days; an old one lapsed long ago
        self.deadline = today + d(3) if call.status == CS.CLOSED else self.returned + d(5)

    def spread(self, rng, start: datetime.date, most: int) -> datetime.date:
        return min(self.last, start + datetime.timedelta(days=rng.randint(0, most)))


def plan(ctx: Ctx, call: Call, org, days: Days, needs: list, areas: dict, codes: set) -> Row:
    """One proposal of `org` to `call`: its status and path, sections, tables and times."""
    rng = ctx.rng
    status = pick(rng, MIX.get(kind(call)) or MIX.get(call.status, MIX["done"]))
    paths = {
        p: w
        for p, w in PATHS[status].items()
        if not (call.status == CS.OPEN and STAFF & set(p)) and not (call.status == CS.CLOSED and "expire" in p)
    }
    steps = walk(Proposal, pick(rng, paths))
    names = [s[0] for s in steps]
    # mostly in the organisation's own field
    code = org.area_code if org.area_code in codes and rng.random() < 0.85 else rng.choice(sorted(codes or areas))
    th, place = theme(code), short(call.region.name)
    texts = proposal_fields(rng, th, place)
    if status == P.DRAFT and rng.random() < 0.35:  # a draft still being written
        texts.update(objectives="", risks="")
    start = rules.month_start(call.implement_from)
    end = min(rules.month_start(call.implement_until), start + relativedelta(months=rng.randint(7, 11)))
    lines = budget_lines(rng, call, breaks=status == P.DRAFT and rng.random() < 0.1)
    totals = rules.budget_totals(lines)
    leader = org.leader_id
    created_day = days.spread(rng, days.first, max(0, (days.last - days.first).days - 3))
    created = ctx.at(created_day, 9)
    row = Row(
        call=call,
        org=org,
        steps=steps,
        tables={
            "budget_lines": lines,
            "activities": activity_rows(rng, th, start, end),
            "team": team_rows(rng, leader, org.legal_representative),
            "kpis": kpi_rows(rng, th, texts["beneficiaries_direct"]),
        },
        places=_places(ctx, call),
        needs=rng.sample(needs, min(len(needs), rng.randint(0, 2))),
        proposal=Proposal(
            call=call,
            organisation_id=org.pk,
            status=status,
            category_id=areas[code],
            start_month=start,
            end_month=end,
            budget_total=totals.total,
            grant_amount=totals.grant,
            self_funded=totals.self_funded,
            personnel_amount=totals.personnel,
            revision=rng.randint(3, 14),
            created_by_id=leader,
            created_at=created,
            **texts,
        ),
    )
    p, last = row.proposal, created
    if "submit" in names:
        last = ctx.at(days.spread(rng, created_day, 5), 16)
        row.submitted.append(last)
    if "return_for_correction" in names:
        reason = rng.choice(RETURN_REASONS)
        last = ctx.at(days.returned, 10, 0)
        row.staff.append(("return_for_correction", last, ctx.checker, reason))
        p.status_reason, p.checked_at, p.correction_deadline = reason, last, days.deadline
    if "resubmit" in names:
        gap = max(1, (days.checked - days.returned).days - 1)
        last = ctx.at(days.returned + datetime.timedelta(days=rng.randint(1, gap)), 15)
        row.submitted.append(last)
        p.correction_deadline = None
    if "expire" in names:
        reason = f"补正截止日期（{chinese_date(days.deadline)}）前未重新提交。"
        last = ctx.at(days.deadline + datetime.timedelta(days=1), 1, 0)
        row.staff.append(("expire", last, None, reason))
        p.status_reason = reason
    for name in ("mark_eligible", "mark_ineligible"):
        if name in names:
            reason = rng.choice(INELIGIBLE_REASONS) if name == "mark_ineligible" else ""
            last = ctx.at(days.checked, 17, 0)
            row.staff.append((name, last, ctx.checker, reason))
            p.status_reason, p.checked_at = reason, last
    if "withdraw" in names:
        last += datetime.timedelta(hours=3)
    p.submitted_at = row.submitted[-1] if row.submitted else None
    p.last_saved_at = (row.submitted[-1] if row.submitted else last) - datetime.timedelta(minutes=12)
    p.updated_at = last
    return row


def _places(ctx: Ctx, call: Call) -> list[Region]:
    if call.region.level == Region.Level.COMMUNITY:
        return [call.region]
    below = [r for r in ctx.regions if call.region.contains(r) and r.level > call.region.level]
    below = [r for r in below if r.level >= Region.Level.STREET] or [call.region]
    return sorted(ctx.rng.sample(below, min(len(below), ctx.rng.randint(1, 3))), key=lambda r: r.path)


def snapshot(ctx: Ctx, row: Row, names: dict) -> dict:
    """What grants.services.proposals.snapshot keeps, from the rows in memory."""
    org, p = row.org, row.proposal
    data = {
        "organisation": {
            "name": org.name,
            "uscc": org.uscc or "",
            "org_type": org.get_org_type_display(),
            "region": ctx.full_name(org.region),
            "address": org.address,
            "legal_representative": org.legal_representative,
            "contact_name": org.contact_name,
            "contact_phone": org.contact_phone,
            "bank_name": org.bank_name,
            "bank_account_name": org.bank_account_name,
            "bank_account": org.bank_account,
            "grade": org.latest_grade,
        },
        "fields": {
            "title": p.title,
            "category": names[p.category_id],
            "places": [ctx.full_name(r) for r in row.places],
            **{k: _plain(getattr(p, k)) for k in ("start_month", "end_month")},
            **{k: getattr(p, k) for k in ("beneficiaries_direct", "beneficiaries_indirect", "summary")},
            "need_analysis": p.need_analysis,
            "cited_needs": [title for _pk, title in row.needs],
            **{k: getattr(p, k) for k in ("objectives", "approach", "risks")},
            **{k: _plain(getattr(p, k)) for k in ("budget_total", "grant_amount", "self_funded", "personnel_amount")},
        },
        "attachments": [],
    }
    for name, (_model, keep) in LINE_TABLES.items():
        data[name] = [{k: _plain(r.get(k)) for k in keep} for r in row.tables[name]]
    return data


def make_proposals(ctx: Ctx, pairs: list[tuple[Call, object]]) -> int:
    """Insert the proposals of `pairs` with all their rows; returns how many."""
    areas = dict(ServiceArea.objects.values_list("code", "pk"))
    names = dict(ServiceArea.objects.values_list("pk", "name"))
    calls = {c.pk: c for c, _ in pairs}
    needs = defaultdict(list)
    for need in Need.objects.filter(call__in=calls, status=NeedStatus.ACCEPTED).only("call_id", "title"):
        needs[need.call_id].append((need.pk, need.title))
    codes = defaultdict(set)
    for call_id, code in Call.categories.through.objects.filter(call__in=calls).values_list(
        "call_id", "servicearea__code"
    ):
        codes[call_id].add(code)
    days = {pk: Days(ctx, c) for pk, c in calls.items()}
    rows = [plan(ctx, c, org, days[c.pk], needs[c.pk], areas, codes[c.pk]) for c, org in pairs]
    proposals = [r.proposal for r in rows]
    with keep_dates(Proposal, "created_at", "updated_at"):
        Proposal.objects.bulk_create(proposals, batch_size=500)
    number_all(calls.values())
    _tables(rows)
    _versions(ctx, rows, names)
    _history(ctx, rows)
    ctx.counts["proposals"] += len(rows)
    return len(rows)


def _tables(rows: list[Row]) -> None:
    """Budget lines (amounts by grants.rules), activities, team, KPIs, places, cited needs."""
    models = {"budget_lines": BudgetLine, "activities": Activity, "team": TeamMember, "kpis": KPI}
    for name, model in models.items():
        keep = LINE_TABLES[name][1]
        values = []
        for r in rows:
            for i, row in enumerate(r.tables[name]):
                v = {"proposal_id": r.proposal.pk, "position": i, **{k: row[k] for k in keep if k != "user"}}
                if name == "team":
                    v["user_id"] = row["user"]
                if name == "budget_lines":
                    v["amount"] = rules.line_amount(row["quantity"], row["unit_price"])
                values.append(v)
        insert_many(model, values)
    insert_many(
        Proposal.places.through, [{"proposal_id": r.proposal.pk, "region_id": g.pk} for r in rows for g in r.places]
    )
    insert_many(
        Proposal.cited_needs.through,
        [{"proposal_id": r.proposal.pk, "need_id": pk} for r in rows for pk, _t in r.needs],
    )


def _versions(ctx: Ctx, rows: list[Row], names: dict) -> None:
    """A version per submission, frozen as grants.services.proposals.snapshot keeps it."""
    versions = []
    for r in rows:
        data = snapshot(ctx, r, names) if r.submitted else None
        for n, at in enumerate(r.submitted, start=1):
            if n < len(r.submitted):  # before the correction the plan said less
                v = {**data, "fields": {**data["fields"], "approach": r.proposal.approach.split("；")[0] + "。"}}
            else:
                v = data
            versions.append(
                {"proposal_id": r.proposal.pk, "number": n, "data": v, "submitted_at": at}
                | {"submitted_by_id": r.proposal.created_by_id}
            )
    insert_many(ProposalVersion, versions, batch=500)


def number_all(calls) -> None:
    """The 申报编号 of every submitted proposal without one, as grants.services.proposals
    gives it (GY{year}-{call:03d}-{pk:05d}): one UPDATE per call."""
    pk = Cast("id", CharField())
    padded = Case(When(id__lt=100000, then=LPad(pk, 5, Value("0"))), default=pk)
    for call in calls:
        Proposal.objects.filter(call=call, number="", submitted_at__isnull=False).update(
            number=Concat(Value(f"GY{call.year}-{call.pk:03d}-"), padded)
        )


def _history(ctx: Ctx, rows: list[Row]) -> None:
    """The audit rows of each proposal's path (core.workflow.log_bulk): the applicant's
    acts at their own times, the staff's on the call's checking days."""
    entries = []
    for r in rows:
        pk = r.proposal.pk
        entries.append((pk, (CREATED, P.DRAFT, P.DRAFT), None, None, "开始填写申报书"))
        staff = iter(r.staff)
        for step in r.steps:
            if step[0] in STAFF:
                _name, at, by, reason = next(staff)
                entries.append((pk, step, at, by, reason))
            else:
                entries.append((pk, step, None, None, ""))
    since = log(Proposal, entries)
    own = Proposal.objects.filter(pk=OuterRef("object_id"))
    stamp(Proposal, since, CREATED, own, "created_at", "created_by_id")
    stamp(Proposal, since, "withdraw", own, "updated_at", "created_by_id")
    for number, name in ((1, "submit"), (2, "resubmit")):
        version = ProposalVersion.objects.filter(proposal_id=OuterRef("object_id"), number=number)
        stamp(Proposal, since, name, version, "submitted_at", "submitted_by_id")
