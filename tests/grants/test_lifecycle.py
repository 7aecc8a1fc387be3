"""End to end (issue 11): a project carried through the real services only, from the
organisation's registration to closure, and a second whose mid-term fails twice and ends
terminated with a clawback and a 3-year ban that blocks the organisation's next
application. No status row is written by hand; the one direct write is the 公示 window's
closing date (see `_decided`)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.roles import Role
from core.dates import chinese_date
from core.files import validate_upload
from core.workflow import WorkflowError, run_transition
from grants.models import (
    Agreement,
    CallStatus,
    FundingSource,
    Proposal,
    ProposalStatus,
    Publicity,
    Tranche,
    TrancheStatus,
)
from grants.services import agreements, award, checks, evaluations, proposals, reports, review
from grants.services.tranches import tranche_release
from orgs import services as org_services
from orgs.models import AnnualInspection, ListEntry, Organisation, OrgType
from tests.factories import applicant, make_uscc, pdf_upload, region_tree, staff
from tests.grants.factories import BANK_ACCOUNT, filled, make_call, make_expert

P = ProposalStatus
T = TrancheStatus
pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
AWARD = Decimal("60000.00")  # tests.grants.factories.budget(): the grant lines total 60,000


def status(p) -> str:
    return Proposal.objects.get(pk=p.pk).status


def fresh(p) -> Proposal:
    return Proposal.objects.select_related("call__region", "organisation").get(pk=p.pk)


def _registered(seq: int):
    """An organisation registered, documented, submitted and verified, its last year's
    年检 passed: (organisation, its 负责人)."""
    regions = region_tree()
    leader = applicant()
    org = org_services.organisation_create(
        user=leader,
        data={
            "name": f"鄂州市凤凰社区长者服务中心{seq}",
            "org_type": OrgType.SERVICE_ORG,
            "uscc": make_uscc(700000 + seq),
            "legal_representative": "王五",
            "address": "鄂城区凤凰街道3号",
            "region": regions["fenghuang"],
            "contact_name": "王五",
            "contact_phone": "13711112222",
            "bank_name": "中国工商银行鄂州分行",
            "bank_account_name": f"鄂州市凤凰社区长者服务中心{seq}",
            "bank_account": BANK_ACCOUNT,
        },
    )
    assert org.status == Organisation.Status.DRAFT
    assert org_services.missing_documents(org)  # 登记证书 and 章程 are required
    for kind in org_services.REQUIRED_DOCUMENTS[org.org_type]:
        upload = pdf_upload()
        upload.kind = validate_upload(upload)
        org_services.document_upload(org=org, by=leader, kind=kind, upload=upload)
    assert org_services.missing_documents(org) == []
    org_services.organisation_submit(org=Organisation.objects.get(pk=org.pk), by=leader)
    manager = staff(Role.CALL_MANAGER, regions["echeng"], name=f"鄂城区业务主管{seq}")
    org_services.organisation_verify(org=Organisation.objects.get(pk=org.pk), by=manager)
    org = Organisation.objects.get(pk=org.pk)
    assert org.status == Organisation.Status.VERIFIED
    org_services.inspection_record(org=org, by=manager, year=TODAY().year - 1, result=AnnualInspection.Result.PASSED)
    return Organisation.objects.get(pk=org.pk), leader


def _decided(org, leader, total=Decimal("86")):
    """The organisation applies to a new open call of 凤凰街道 and its proposal goes through
    eligibility, review (3 experts scoring `total`), ranking, 公示 and approval."""
    call = make_call(status=CallStatus.OPEN, panel_size=3)
    manager = staff(Role.CALL_MANAGER, call.region, name="凤凰街道业务主管")
    p = proposals.proposal_start(call=call, organisation=org, by=leader)
    assert p.status == P.DRAFT
    p = filled(p, leader)
    proposals.proposal_submit(proposal=p, by=leader)
    assert status(p) == P.SUBMITTED
    checks.proposal_mark_eligible(proposal=fresh(p), by=manager)
    assert status(p) == P.ELIGIBLE
    # the call's own dated transitions (as the daily job runs them)
    run_transition(call, "close_applications", by=None)
    run_transition(call, "start_review", by=None)
    for _ in range(3):
        make_expert()
    rnd = review.draw_panels(call=call, by=manager)
    assignments = list(rnd.assignments.select_related("expert__user"))
    assert len(assignments) == 3
    for a in assignments:
        review.declare(assignment=a, by=a.expert.user, conflict=False)
        a.refresh_from_db()
        points = {c["key"]: (Decimal(str(c["weight"])) * total / 100).quantize(Decimal("0.1")) for c in rnd.rubric()}
        review.submit_scores(assignment=a, by=a.expert.user, points=points, comment="项目设计合理，同意资助。")
    review.close_round(round=rnd, by=manager)
    # ranking: the award list puts it first, funded at its request
    _ranking, awards = award.award_list(call)
    row = next(r for r in awards.rows if r.proposal == p.pk)
    assert (row.rank, row.final, row.funded, row.awarded) == (1, total.quantize(Decimal("0.01")), True, AWARD)
    publicity = award.publish_shortlist(call=call, by=manager)
    assert publicity.rows[0]["proposal"] == p.pk and publicity.rows[0]["rank"] == 1
    assert status(p) == P.PUBLICISED
    # The 公示 window runs a week; closing it is the one direct write in this test (its
    # end date moved to yesterday, as the passing of time would), not a status change.
    Publicity.objects.filter(pk=publicity.pk).update(closes_on=TODAY() - datetime.timedelta(days=1))
    award.approve_call(call=call, by=manager)
    p = fresh(p)
    assert p.status == P.APPROVED and p.awarded_amount == AWARD
    return p, manager


def _signed(p, manager, leader):
    """The agreement drawn up and confirmed by both sides: the tranches are planned."""
    agreement = agreements.agreement_draw_up(proposal=fresh(p), by=manager)
    agreements.agreement_confirm_by_org(agreement=Agreement.objects.get(pk=agreement.pk), by=leader)
    assert status(p) == P.APPROVED
    agreements.agreement_confirm_by_funder(agreement=Agreement.objects.get(pk=agreement.pk), by=manager)
    assert Agreement.objects.get(pk=agreement.pk).status == "signed"
    assert status(p) == P.IN_PROGRESS  # signed by both sides: the project is in progress
    tranches = list(Tranche.objects.filter(proposal=p).order_by("position"))
    assert [t.amount for t in tranches] == [Decimal("30000.00"), Decimal("18000.00"), Decimal("12000.00")]
    assert sum(t.amount for t in tranches) == AWARD
    assert [t.gate for t in tranches] == ["signed", "mid_term", "final"]
    assert T.RELEASED not in [t.status for t in tranches]  # nothing paid yet
    return tranches


def _release(tranche, finance):
    tranche_release(
        tranche=Tranche.objects.get(pk=tranche.pk), by=finance, paid_on=TODAY(), voucher_no=f"记-{tranche.pk:05d}"
    )
    t = Tranche.objects.get(pk=tranche.pk)
    assert t.status == T.RELEASED
    return t


def _released(p) -> Decimal:
    return sum((t.amount for t in Tranche.objects.filter(proposal=p, status=T.RELEASED)), Decimal("0"))


def _report(p, leader, manager, spending: dict[int, str], n: int):
    """A progress report of stage `n` spending `spending` (grant budget line pk → amount),
    submitted by the organisation and reviewed by the call manager."""
    r = reports.report_start(
        proposal=fresh(p),
        by=leader,
        period=f"第{n}阶段",
        period_start=TODAY() - datetime.timedelta(days=30),
        period_end=TODAY(),
    )
    kpi = fresh(p).kpis.get()
    reports.report_save(
        report=type(r).objects.get(pk=r.pk),
        by=leader,
        fields={
            "narrative": f"第{n}阶段开展长者助餐20场。",
            "activities_held": 20,
            "participants": 400,
            "beneficiaries": 60,
        },
        spending={str(k): v for k, v in spending.items()},
        kpi_progress={str(kpi.pk): str(60 * n)},
    )
    reports.report_submit(report=type(r).objects.get(pk=r.pk), by=leader)
    assert type(r).objects.get(pk=r.pk).status == "submitted"
    reports.report_review(report=type(r).objects.get(pk=r.pk), by=manager, comment="已阅，按计划推进。")
    assert type(r).objects.get(pk=r.pk).status == "reviewed"


def _points(call, total) -> dict:
    rubric = evaluations.rubric_of(call)
    total = Decimal(str(total))
    points, left = {}, total
    for c in rubric[:-1]:
        value = (Decimal(str(c["weight"])) * total / 100).quantize(Decimal("0.1"))
        points[c["key"]], left = str(value), left - value
    points[rubric[-1]["key"]] = str(left)
    return points


def _evaluate(p, kind, total, by, **submit):
    ev = evaluations.evaluation_start(proposal=fresh(p), kind=kind, by=by)
    ev = type(ev).objects.select_related("proposal__call__region", "proposal__organisation").get(pk=ev.pk)
    return evaluations.evaluation_submit(
        evaluation=ev, by=by, points=_points(p.call, total), comment="活动按计划开展，资料齐全。", **submit
    )


def _grant_lines(p):
    return [line.pk for line in fresh(p).budget_lines.order_by("position", "pk") if line.source == FundingSource.GRANT]


def test_a_project_from_registration_to_closure():
    org, leader = _registered(1)
    p, manager = _decided(org, leader)
    finance = staff(Role.FINANCE, p.call.region, name="凤凰街道财务")
    first, mid, last = _signed(p, manager, leader)

    # 1st tranche on signing
    _release(first, finance)
    assert status(p) == P.IN_PROGRESS and _released(p) == Decimal("30000.00")
    personnel, activity = _grant_lines(p)
    _report(p, leader, manager, {personnel: "10000", activity: "15000"}, 1)

    # the 2nd waits for a passed mid-term
    with pytest.raises(WorkflowError):
        tranche_release(tranche=Tranche.objects.get(pk=mid.pk), by=finance, paid_on=TODAY(), voucher_no="记-早")
    assert Tranche.objects.get(pk=mid.pk).status != T.RELEASED and _released(p) == Decimal("30000.00")
    ev = _evaluate(p, "mid_term", 82, manager)
    assert ev.passed is True and status(p) == P.MID_TERM_PASSED
    _release(mid, finance)
    assert _released(p) == Decimal("48000.00")
    _report(p, leader, manager, {personnel: "10000", activity: "20000"}, 2)

    # the 3rd after a passed final evaluation (优秀)
    ev = _evaluate(p, "final", 92, manager)
    assert (ev.passed, ev.grade) == (True, "优秀")
    p = fresh(p)
    assert (p.status, p.final_grade) == (P.FINAL_EVALUATED, "优秀")
    _release(last, finance)
    assert _released(p) == AWARD  # every tranche paid: exactly the award

    # closure: 60,000 released, 55,000 reported spent, 5,000 returned
    evaluations.project_close(proposal=fresh(p), by=manager, returned_amount="5000")
    p = fresh(p)
    assert p.status == P.CLOSED
    assert (p.returned_amount, p.eligible_spending) == (Decimal("5000.00"), Decimal("55000.00"))
    assert p.ended_at is not None
    assert not ListEntry.objects.filter(organisation=org, kind=ListEntry.Kind.BAN).exists()


def test_a_mid_term_failed_twice_terminates_with_a_clawback_and_a_ban():
    org, leader = _registered(2)
    p, manager = _decided(org, leader)
    finance = staff(Role.FINANCE, p.call.region, name="凤凰街道财务")
    first, mid, last = _signed(p, manager, leader)
    _release(first, finance)
    assert status(p) == P.IN_PROGRESS
    personnel, activity = _grant_lines(p)
    _report(p, leader, manager, {personnel: "5000", activity: "7000"}, 1)

    # first fail: suspended for rectification, nothing more paid
    ev = _evaluate(p, "mid_term", 50, manager, rectify_until=TODAY() + datetime.timedelta(days=30))
    assert ev.passed is False and status(p) == P.SUSPENDED
    with pytest.raises(WorkflowError):
        tranche_release(tranche=Tranche.objects.get(pk=mid.pk), by=finance, paid_on=TODAY(), voucher_no="记-停")
    assert _released(p) == Decimal("30000.00")

    # the re-evaluation fails too: terminated, serious breach
    ev = _evaluate(p, "mid_term", 40, manager, serious_breach=True, reason="擅自改变资金用途")
    assert (ev.passed, ev.attempt) == (False, 2)
    p = fresh(p)
    assert p.status == P.TERMINATED and p.ended_at is not None
    # clawback = released (30,000) − eligible spending (the 12,000 the report shows)
    assert p.eligible_spending == Decimal("12000.00")
    assert p.clawback_amount == Decimal("18000.00") == _released(p) - p.eligible_spending
    assert [Tranche.objects.get(pk=t.pk).status for t in (first, mid, last)] == [T.RELEASED, T.WITHHELD, T.WITHHELD]
    ban = ListEntry.objects.get(organisation=org, kind=ListEntry.Kind.BAN)
    assert ban.listed_on == TODAY()
    assert ban.removed_on == TODAY().replace(year=TODAY().year + 3) or (
        TODAY().month == 2 and TODAY().day == 29 and ban.removed_on == datetime.date(TODAY().year + 3, 3, 1)
    )

    # the ban blocks the organisation's next application, naming itself and its end date
    later = make_call(status=CallStatus.OPEN, title="凤凰街道公益创投项目征集（第二批）")
    with pytest.raises(ValidationError) as exc:
        proposals.proposal_start(call=later, organisation=Organisation.objects.get(pk=org.pk), by=leader)
    message = " ".join(exc.value.messages)
    assert "禁止申报" in message and chinese_date(ban.removed_on) in message
    assert not Proposal.objects.filter(call=later).exists()
