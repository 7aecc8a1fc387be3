"""The proposal and eligibility-check services, end to end through the real state machine:
who may act, what is refused and with which message, what the database holds after."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.errors import UserError
from core.models import Notification
from core.workflow import WorkflowError, run_transition
from grants.models import CallStatus, Proposal, ProposalStatus
from grants.services import checks, proposals
from orgs.models import Membership, OrgType
from tests.factories import applicant, staff
from tests.grants.factories import budget, eligible_org, filled, make_call, proposal_at

P = ProposalStatus
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", [P.DRAFT, P.SUBMITTED, P.RETURNED, P.ELIGIBLE, P.INELIGIBLE, P.WITHDRAWN])
def test_proposal_reaches_each_status_with_its_history(regions, status):
    p = proposal_at(status=status)
    assert p.status == status
    assert (p.budget_total, p.grant_amount, p.self_funded) == (
        Decimal("100000.00"),
        Decimal("60000.00"),
        Decimal("40000.00"),
    )
    assert p.grant_share == Decimal("60.00")
    logs = StateLog.objects.for_(p)
    assert logs.first().transition == "create"
    if status != P.DRAFT:
        assert p.versions.count() == 1
        assert p.number.startswith(f"GY{p.call.year}-")


def test_only_the_leader_or_contact_may_start(regions):
    call = make_call()
    org, leader = eligible_org()
    finance = applicant()
    Membership.objects.create(organisation=org, user=finance, role=Membership.Role.FINANCE)
    for user in (finance, applicant(), staff(Role.CALL_MANAGER, regions["city"])):
        with pytest.raises(PermissionDenied):
            proposals.proposal_start(call=call, organisation=org, by=user)
    assert not Proposal.objects.exists()


def test_an_ineligible_organisation_is_told_every_reason_before_typing(regions):
    call = make_call(min_grade="4A", eligible_types=["service_org"])
    org, leader = eligible_org(org_type=OrgType.SOCIAL_GROUP)
    with pytest.raises(ValidationError) as exc:
        proposals.proposal_start(call=call, organisation=org, by=leader)
    text = " ".join(exc.value.messages)
    assert "组织类型“社会团体”不在本次申报范围内" in text
    assert "要求评估等级4A及以上" in text
    assert not Proposal.objects.exists()


def test_the_per_organisation_limit_counts_drafts_but_not_withdrawn(regions):
    call = make_call(max_applications_per_org=1)
    org, leader = eligible_org()
    first = proposals.proposal_start(call=call, organisation=org, by=leader)
    with pytest.raises(ValidationError) as exc:
        proposals.proposal_start(call=call, organisation=org, by=leader)
    assert "每个组织最多申报1个项目，贵组织已申报1个" in exc.value.messages[0]
    proposals.proposal_withdraw(proposal=first, by=leader)
    assert proposals.proposal_start(call=call, organisation=org, by=leader).status == P.DRAFT


def test_a_save_from_a_page_that_is_behind_is_refused_and_changes_nothing(regions):
    p = proposal_at(status=P.DRAFT, empty=True)
    leader = p.organisation.memberships.first().user
    opened_at = p.revision
    proposals.proposal_save(proposal=p, by=leader, revision=opened_at, fields={"title": "第一个窗口"})
    other_tab = Proposal.objects.get(pk=p.pk)
    with pytest.raises(proposals.StaleProposal) as exc:
        proposals.proposal_save(proposal=other_tab, by=leader, revision=opened_at, fields={"title": "第二个窗口"})
    assert "已在其他窗口或设备上保存过" in str(exc.value)
    p.refresh_from_db()
    assert p.title == "第一个窗口" and p.revision == opened_at + 1


def test_saving_budget_lines_stores_the_computed_totals(regions):
    p = proposal_at(status=P.DRAFT, empty=True)
    leader = p.organisation.memberships.first().user
    proposals.proposal_save(proposal=p, by=leader, revision=p.revision, budget_lines=budget("50000", "50000", "10000"))
    p.refresh_from_db()
    assert (p.budget_total, p.grant_amount, p.personnel_amount) == (
        Decimal("100000.00"),
        Decimal("50000.00"),
        Decimal("10000.00"),
    )
    assert [line.amount for line in p.budget_lines.all()] == [
        Decimal("10000.00"),
        Decimal("40000.00"),
        Decimal("50000.00"),
    ]


def test_submit_is_refused_with_every_problem_at_its_field(regions):
    p = proposal_at(status=P.DRAFT, empty=True)
    leader = p.organisation.memberships.first().user
    proposals.proposal_save(
        proposal=p,
        by=leader,
        revision=p.revision,
        budget_lines=budget(grant="80000", self_funded="20000", personnel="40000"),
    )
    with pytest.raises(ValidationError) as exc:
        proposals.proposal_submit(proposal=p, by=leader)
    errors = exc.value.message_dict
    assert errors["title"] == ["请填写项目名称。"]
    assert "超过本次征集规定的60.00%" in errors["grant_share"][0]
    assert "人员费用占总预算的40.00%" in errors["personnel_share"][0]
    assert errors["activities"] == ["请至少安排一项活动。"]
    p.refresh_from_db()
    assert p.status == P.DRAFT and not p.versions.exists()


def test_submit_after_the_call_closed_is_refused(regions):
    call = make_call()
    p = proposal_at(call, status=P.DRAFT)
    leader = p.organisation.memberships.first().user
    run_transition(call, "close_applications", by=None)
    p = Proposal.objects.get(pk=p.pk)
    with pytest.raises(UserError) as exc:
        proposals.proposal_submit(proposal=p, by=leader)
    assert "当前不接受申报" in str(exc.value)
    assert Proposal.objects.get(pk=p.pk).status == P.DRAFT


def test_submission_notifies_the_call_managers_and_the_organisation(regions):
    call = make_call()
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    p = proposal_at(call, status=P.SUBMITTED)
    assert Notification.objects.filter(recipient=manager, title__contains="新的项目申报").exists()
    leader = p.organisation.memberships.first().user
    assert Notification.objects.filter(recipient=leader, title__startswith="申报书已提交").exists()
    snapshot = p.versions.get().data
    assert snapshot["organisation"]["name"] == p.organisation.name
    assert snapshot["fields"]["grant_amount"] == "60000.00"
    assert len(snapshot["budget_lines"]) == 3


def test_returned_then_corrected_and_resubmitted_keeps_both_versions(regions):
    p = proposal_at(status=P.RETURNED)
    leader = p.organisation.memberships.first().user
    assert p.status_reason == "预算说明不够具体。" and p.correction_deadline
    assert Notification.objects.filter(recipient=leader, title__startswith="申报书退回修改").exists()
    proposals.proposal_save(proposal=p, by=leader, revision=p.revision, fields={"title": "老宝贝·长者助餐（修改）"})
    proposals.proposal_submit(proposal=p, by=leader)
    p.refresh_from_db()
    assert p.status == P.SUBMITTED and p.correction_deadline is None
    first, second = p.versions.order_by("number")
    assert (first.data["fields"]["title"], second.data["fields"]["title"]) == (
        "老宝贝·社区长者助餐陪伴计划",
        "老宝贝·长者助餐（修改）",
    )


def test_resubmission_after_the_deadline_is_refused(regions):
    p = proposal_at(status=P.RETURNED)
    leader = p.organisation.memberships.first().user
    Proposal.objects.filter(pk=p.pk).update(correction_deadline=timezone.localdate() - datetime.timedelta(days=1))
    p = Proposal.objects.get(pk=p.pk)
    with pytest.raises(UserError):
        proposals.proposal_submit(proposal=p, by=leader)


def test_only_checkers_in_the_calls_region_may_check(regions):
    call = make_call(regions["fenghuang"])
    p = proposal_at(call, status=P.SUBMITTED)
    for user in (
        staff(Role.CALL_MANAGER, regions["huarong"]),  # another district
        staff(Role.AUDITOR, regions["city"]),
        staff(Role.REVIEWER, regions["city"]),
        p.organisation.memberships.first().user,
    ):
        with pytest.raises(PermissionDenied):
            checks.proposal_mark_eligible(proposal=Proposal.objects.get(pk=p.pk), by=user)
    checks.proposal_mark_eligible(
        proposal=Proposal.objects.get(pk=p.pk), by=staff(Role.CALL_MANAGER, regions["echeng"])
    )
    assert Proposal.objects.get(pk=p.pk).status == P.ELIGIBLE


def test_ineligible_and_return_need_a_reason(regions):
    p = proposal_at(status=P.SUBMITTED)
    checker = staff(Role.CALL_MANAGER, regions["city"])
    with pytest.raises(WorkflowError):
        checks.proposal_mark_ineligible(proposal=p, by=checker, reason="  ")
    with pytest.raises(WorkflowError):
        checks.proposal_return(proposal=p, by=checker, reason="", deadline=timezone.localdate())
    with pytest.raises(ValidationError):
        checks.proposal_return(
            proposal=p, by=checker, reason="补充预算", deadline=timezone.localdate() - datetime.timedelta(days=1)
        )
    assert Proposal.objects.get(pk=p.pk).status == P.SUBMITTED


def test_an_overdue_correction_becomes_ineligible(regions):
    p = proposal_at(status=P.RETURNED)
    late = proposal_at(status=P.RETURNED)
    Proposal.objects.filter(pk=late.pk).update(correction_deadline=timezone.localdate() - datetime.timedelta(days=1))
    assert checks.expire_corrections() == 1
    late.refresh_from_db()
    assert late.status == P.INELIGIBLE and "前未重新提交" in late.status_reason
    assert StateLog.objects.for_(late).last().by is None
    assert Proposal.objects.get(pk=p.pk).status == P.RETURNED


def test_a_proposal_outside_the_implementation_period_or_region_cannot_be_submitted(regions):
    call = make_call(regions["fenghuang"])
    org, leader = eligible_org()
    p = proposals.proposal_start(call=call, organisation=org, by=leader)
    p = filled(p, leader, start_month=call.implement_from.replace(year=call.implement_from.year - 1))
    proposals.proposal_save(proposal=p, by=leader, revision=p.revision, places=[regions["huarong_town"]])
    with pytest.raises(ValidationError) as exc:
        proposals.proposal_submit(proposal=p, by=leader)
    assert "start_month" in exc.value.message_dict and "places" in exc.value.message_dict


def test_call_status_gates_applications(regions):
    call = make_call(status=CallStatus.NEEDS)
    org, leader = eligible_org()
    with pytest.raises(ValidationError) as exc:
        proposals.proposal_start(call=call, organisation=org, by=leader)
    assert "不在申报期" in exc.value.messages[-1]


def test_a_returned_proposal_is_resubmitted_after_the_call_closed(regions):
    call = make_call()
    p = proposal_at(call, status=P.RETURNED)
    leader = p.organisation.memberships.first().user
    run_transition(call, "close_applications", by=None)
    p = Proposal.objects.get(pk=p.pk)
    assert "organisation" not in proposals.proposal_problems(p)
    proposals.proposal_submit(proposal=p, by=leader)
    assert Proposal.objects.get(pk=p.pk).status == P.SUBMITTED
