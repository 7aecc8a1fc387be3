"""Factories for calls and proposals. `proposal_at` walks the real services (start, save,
submit, the eligibility check), so every proposal it returns has the versions, audit rows
and computed totals a user's actions would have left."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import Region
from accounts.roles import Role
from core.workflow import run_transition
from grants.models import Call, CallLevel, CallStatus, ProposalStatus
from grants.models.calls import DEFAULT_CATEGORY_CODES
from grants.services import checks, proposals
from orgs import services as org_services
from orgs.models import AnnualInspection, Organisation, ServiceArea
from tests.factories import OrganisationFactory, applicant, region_tree, staff

P = ProposalStatus

# the path of call transitions from 草稿 to each status
_CALL_PATH = {
    CallStatus.DRAFT: [],
    CallStatus.NEEDS: ["start_needs"],
    CallStatus.OPEN: ["open_applications"],
    CallStatus.CLOSED: ["open_applications", "close_applications"],
    CallStatus.REVIEWING: ["open_applications", "close_applications", "start_review"],
}


def timeline(stage: str = "open", today: datetime.date | None = None) -> dict:
    """Dates that put today in `stage` ("needs", "open", "closed", "draft")."""
    t = today or timezone.localdate()
    d = datetime.timedelta
    start = {"draft": t + d(days=40), "needs": t + d(days=10), "open": t - d(days=10), "closed": t - d(days=40)}[stage]
    after_publicity = start + d(days=67)
    implement_from = (after_publicity.replace(day=1) + d(days=32)).replace(day=1)  # the next month's 1st
    implement_until = implement_from.replace(year=implement_from.year + 1) - d(days=1)
    return {
        "needs_from": start - d(days=30),
        "needs_until": start - d(days=1),
        "apply_from": start,
        "apply_until": start + d(days=29),
        "eligibility_until": start + d(days=39),
        "review_from": start + d(days=40),
        "review_until": start + d(days=54),
        "publicity_from": start + d(days=60),
        "publicity_until": start + d(days=66),
        "implement_from": implement_from,
        "implement_until": implement_until,
    }


def make_call(
    region: Region | None = None,
    *,
    status: str = CallStatus.OPEN,
    level: int | None = None,
    categories=None,
    **fields,
) -> Call:
    """A call for `region` (凤凰街道 by default) whose timeline puts today in its stage,
    moved to `status` through its transitions."""
    region = region or region_tree()["fenghuang"]
    if level is None:
        level = {Region.Level.STREET: CallLevel.STREET, Region.Level.COMMUNITY: CallLevel.COMMUNITY}.get(
            region.level, CallLevel.CITY
        )
    stage = {CallStatus.DRAFT: "draft", CallStatus.NEEDS: "needs", CallStatus.OPEN: "open"}.get(status, "closed")
    values = {
        "title": f"{region.name}{timezone.localdate().year}年公益创投项目征集",
        "year": timezone.localdate().year,
        "level": level,
        "region": region,
        "organiser": f"{region.name}民政办",
        "pool_total": Decimal("500000.00"),
        "grant_min": Decimal("10000.00"),
        "grant_max": Decimal("100000.00"),
        **timeline(stage),
        **fields,
    }
    call = Call(**values)
    call.full_clean()
    call.save()
    codes = categories or DEFAULT_CATEGORY_CODES
    call.categories.set(service_areas(codes))
    for step in _CALL_PATH[CallStatus(status)]:
        run_transition(call, step, by=None)
    return call


def service_areas(codes):
    """The ServiceArea rows of `codes`; a transactional test's flush removes the rows the
    data migration made, so they are made again from it where missing."""
    import importlib

    areas = dict(importlib.import_module("orgs.migrations.0002_service_areas").AREAS)
    for i, code in enumerate(codes):
        ServiceArea.objects.get_or_create(code=code, defaults={"name": areas.get(code, code), "sort_order": i})
    return ServiceArea.objects.filter(code__in=codes)


def eligible_org(region: Region | None = None, **kwargs) -> tuple[Organisation, object]:
    """A verified organisation with last year's 年检 passed and its 负责人."""
    region = region or region_tree()["fenghuang"]
    leader = kwargs.pop("leader", None) or applicant()
    org = OrganisationFactory(status=Organisation.Status.VERIFIED, region=region, **kwargs)
    from orgs.models import Membership

    Membership.objects.create(organisation=org, user=leader, role=Membership.Role.LEADER)
    manager = staff(Role.CALL_MANAGER, region_tree()["city"])
    org_services.inspection_record(
        org=org, by=manager, year=timezone.localdate().year - 1, result=AnnualInspection.Result.PASSED
    )
    return org, leader


def budget(grant: str = "60000", self_funded: str = "40000", personnel: str = "20000") -> list[dict]:
    """Budget rows: `personnel` of 人员费用 (grant), the rest of the grant as 活动费用, and
    `self_funded` as 自筹 活动费用."""
    rows = [
        {
            "category": "personnel",
            "item": "项目社工补贴",
            "unit": "月",
            "quantity": Decimal("10"),
            "unit_price": Decimal(personnel) / 10,
            "source": "grant",
        },
        {
            "category": "activity",
            "item": "社区活动物料",
            "unit": "场",
            "quantity": Decimal("20"),
            "unit_price": (Decimal(grant) - Decimal(personnel)) / 20,
            "source": "grant",
        },
        {
            "category": "activity",
            "item": "场地与志愿者（自筹）",
            "unit": "项",
            "quantity": Decimal("1"),
            "unit_price": Decimal(self_funded),
            "source": "self",
        },
    ]
    for row in rows:
        row.setdefault("nature", "normal")
        row["unit_price"] = Decimal(row["unit_price"]).quantize(Decimal("0.01"))
    return rows


def filled(proposal, by, **overrides):
    """Fill every section with valid answers (one save per section, as the page does)."""
    call = proposal.call
    category = call.categories.first()
    place = call.region if call.level != CallLevel.CITY else call.region.get_children().first() or call.region
    fields = {
        "title": overrides.pop("title", "老宝贝·社区长者助餐陪伴计划"),
        "category": category,
        "start_month": call.implement_from.replace(day=1),
        "end_month": call.implement_until.replace(day=1),
        "beneficiaries_direct": 120,
        "beneficiaries_indirect": 400,
        "summary": "为社区独居老人提供助餐、探访和陪伴。",
        "need_analysis": "社区60岁以上老人占比高，独居老人用餐难。",
        "objectives": "一年内为120名老人提供助餐服务。",
        "approach": "建立志愿者队伍，每周开展探访。",
        "risks": "志愿者流失：建立激励机制。",
    }
    fields.update({k: v for k, v in overrides.items() if k not in ("budget_lines", "activities", "team", "kpis")})
    r = proposal.revision
    proposal = proposals.proposal_save(proposal=proposal, by=by, revision=r, fields=fields, places=[place])
    proposal = proposals.proposal_save(
        proposal=proposal,
        by=by,
        revision=proposal.revision,
        budget_lines=overrides.get("budget_lines", budget()),
    )
    proposal = proposals.proposal_save(
        proposal=proposal,
        by=by,
        revision=proposal.revision,
        activities=overrides.get(
            "activities",
            [{"name": "长者助餐", "month": fields["start_month"], "content": "每周一至周五午餐", "sessions": 200}],
        ),
        team=overrides.get(
            "team", [{"user": by, "name": str(by), "role": "项目负责人", "qualifications": "中级社工师"}]
        ),
        kpis=overrides.get(
            "kpis", [{"indicator": "服务老人", "target": Decimal("120"), "unit": "人", "method": "签到表"}]
        ),
    )
    return proposal


def proposal_at(call=None, status: str = P.SUBMITTED, *, org=None, leader=None, checker=None, **overrides):
    """A proposal of `org` (a new eligible organisation if None) to `call` (a new open call
    if None), taken to `status` through the services."""
    call = call or make_call()
    if org is None:
        org, leader = eligible_org(call.region if call.level != CallLevel.CITY else region_tree()["fenghuang"])
    elif leader is None:
        leader = org.memberships.select_related("user").first().user
    proposal = proposals.proposal_start(call=call, organisation=org, by=leader)
    if status == P.DRAFT and overrides.pop("empty", False):
        return proposal
    proposal = filled(proposal, leader, **overrides)
    if status == P.DRAFT:
        return proposal
    proposals.proposal_submit(proposal=proposal, by=leader)
    checker = checker or staff(Role.CALL_MANAGER, call.region)
    proposal.refresh_from_db()
    if status == P.ELIGIBLE:
        checks.proposal_mark_eligible(proposal=proposal, by=checker)
    elif status == P.RETURNED:
        checks.proposal_return(
            proposal=proposal,
            by=checker,
            reason="预算说明不够具体。",
            deadline=timezone.localdate() + datetime.timedelta(days=5),
        )
    elif status == P.INELIGIBLE:
        checks.proposal_mark_ineligible(proposal=proposal, by=checker, reason="不在本次征集的服务领域。")
    elif status == P.WITHDRAWN:
        proposals.proposal_withdraw(proposal=proposal, by=leader)
    proposal.refresh_from_db()
    return proposal


# ---- review (Grants 2) ---------------------------------------------------------------------------

_expert_seq = iter(range(1, 10_000))


def make_expert(name: str | None = None, *, region: Region | None = None, employer: str = "", expertise=None, **fields):
    """An expert of the pool: a user with the reviewer role and an ExpertProfile."""
    from grants.models import ExpertProfile

    n = next(_expert_seq)
    region = region or region_tree()["city"]
    user = staff(Role.REVIEWER, region, name=name or f"评审专家{n}号", username=f"expert{n}_{region.pk}")
    profile = ExpertProfile.objects.create(
        user=user, region=region, employer=employer or f"鄂州市第{n}社会工作服务中心", **fields
    )
    profile.expertise.set(service_areas(expertise or DEFAULT_CATEGORY_CODES))
    return profile


def call_in_review(n_proposals: int = 3, n_experts: int = 6, *, region: Region | None = None, **call_fields):
    """A call in 评审中 with `n_proposals` eligible proposals (each of a new organisation)
    and `n_experts` experts in the pool. Returns (call, proposals, experts, manager)."""
    call = make_call(region, status=CallStatus.OPEN, **call_fields)
    manager = staff(Role.CALL_MANAGER, call.region)
    items = [
        proposal_at(call, P.ELIGIBLE, checker=manager, title=f"社区长者陪伴计划{i + 1}号") for i in range(n_proposals)
    ]
    run_transition(call, "close_applications", by=None)
    run_transition(call, "start_review", by=None)
    experts = [make_expert() for _ in range(n_experts)]
    return call, items, experts, manager


# ---- 公示 (Grants 2) --------------------------------------------------------------------------------


def publicity_row(proposal, rank: int, *, amount=None, score="85.50") -> dict:
    """One row of a 公示 list as award.py freezes it: public columns only."""
    places = [r.name for r in proposal.places.all()]
    return {
        "proposal": proposal.pk,
        "number": proposal.number,
        "title": proposal.title,
        "organisation": proposal.organisation.name,
        "category": proposal.category.name if proposal.category_id else "",
        "places": places,
        "amount": str(amount if amount is not None else proposal.grant_amount),
        "score": str(score),
        "rank": rank,
    }


def make_publicity(
    call,
    rows=None,
    *,
    proposals=(),
    opens_on: datetime.date | None = None,
    closes_on: datetime.date | None = None,
    kind: str = "shortlist",
    title: str = "",
    intro: str = "",
    by=None,
):
    """A 公示 of `call` (its window open today by default: yesterday to 5 days on), its
    rows given or made from `proposals` in that order. Created directly (the CMS makes
    its page on creation), not through the award service."""
    from grants.models import Publicity

    today = timezone.localdate()
    if rows is None:
        rows = [publicity_row(p, i) for i, p in enumerate(proposals, 1)]
    return Publicity.objects.create(
        call=call,
        kind=kind,
        title=title or f"{call.title}{'立项公示' if kind == 'shortlist' else '立项结果公告'}",
        intro=intro,
        opens_on=opens_on or today - datetime.timedelta(days=1),
        closes_on=closes_on if closes_on is not None or kind != "shortlist" else today + datetime.timedelta(days=5),
        rows=rows,
        published_by=by,
    )


def approved_call(n_proposals: int = 1, n_experts: int = 3, *, totals=(85,), **call_fields):
    """A call decided (已批复立项) through the real services: panels drawn, every expert's
    scores submitted (each proposal's reviewers total `totals[i]`, the last repeated), the
    round closed, the 公示 published and its window closed, approved. Returns
    (call, proposals refreshed, manager)."""
    import datetime as dt

    from grants.models import Proposal, Publicity
    from grants.services import award, review

    call_fields.setdefault("panel_size", min(3, n_experts))
    call, items, _experts, manager = call_in_review(n_proposals, n_experts, **call_fields)
    rnd = review.draw_panels(call=call, by=manager)
    target = {p.pk: Decimal(str(totals[min(i, len(totals) - 1)])) for i, p in enumerate(items)}
    for a in rnd.assignments.select_related("expert__user"):
        review.declare(assignment=a, by=a.expert.user, conflict=False)
        a.refresh_from_db()
        points = {
            c["key"]: (Decimal(str(c["weight"])) * target[a.proposal_id] / 100).quantize(Decimal("0.1"))
            for c in rnd.rubric()
        }
        review.submit_scores(assignment=a, by=a.expert.user, points=points, comment="项目设计合理，同意资助。")
    review.close_round(round=rnd, by=manager)
    publicity = award.publish_shortlist(call=call, by=manager)
    Publicity.objects.filter(pk=publicity.pk).update(closes_on=timezone.localdate() - dt.timedelta(days=1))
    award.approve_call(call=call, by=manager)
    call.refresh_from_db()
    return call, [Proposal.objects.get(pk=p.pk) for p in items], manager


# ---- funding and evaluation (Grants 3) -----------------------------------------------------------

BANK_ACCOUNT = "6222 0211 0203 4567 890"


def signed_projects(n_proposals: int = 1, **call_fields):
    """Projects of one call decided, their agreements confirmed by both sides
    (grants.services.agreements) and their first tranche paid (grants.services.tranches):
    in progress. Returns (call, projects, call manager, finance of the call's region)."""
    from grants.models import Agreement, Proposal, Tranche
    from grants.services import agreements
    from grants.services.tranches import tranche_release
    from orgs.models import Organisation as Org

    call, items, manager = approved_call(n_proposals, **call_fields)
    finance = staff(Role.FINANCE, call.region, name=f"{call.region.name}财务")
    for p in items:
        Org.objects.filter(pk=p.organisation_id).update(bank_name="中国工商银行鄂州分行", bank_account=BANK_ACCOUNT)
        p = Proposal.objects.select_related("call__region", "organisation").get(pk=p.pk)
        leader = p.organisation.memberships.select_related("user").get(role="leader").user
        agreement = agreements.agreement_draw_up(proposal=p, by=manager)
        agreements.agreement_confirm_by_org(agreement=Agreement.objects.get(pk=agreement.pk), by=leader)
        agreements.agreement_confirm_by_funder(agreement=Agreement.objects.get(pk=agreement.pk), by=manager)
        first = Tranche.objects.filter(proposal=p).order_by("position").first()
        tranche_release(tranche=first, by=finance, paid_on=timezone.localdate(), voucher_no=f"记-{first.pk:05d}")
    projects = list(Proposal.objects.filter(pk__in=[p.pk for p in items]).order_by("pk"))
    return call, projects, manager, finance


def leader_of(proposal):
    return proposal.organisation.memberships.select_related("user").get(role="leader").user
