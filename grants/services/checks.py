"""资格审查: staff in the call's region mark a submitted proposal eligible, return it for
correction (with what to fix and a deadline) or ineligible (with the reason). A returned
proposal not resubmitted by its deadline becomes ineligible automatically
(`expire_corrections`, run daily by grants.tasks). The applicant is told every time and
reads the reason on the proposal."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.dates import chinese_date
from core.workflow import action_service, run_transition, send_notices, transition

from ..models import Proposal, ProposalStatus
from .proposals import members_notice

P = ProposalStatus
CHECK_DENIED = "您无权对该申报项目进行资格审查：需要资格审查权限，且征集须在您负责的区域内。"
DEFAULT_CORRECTION_DAYS = 5


def _check(proposal, name, *, by, reason="", record=None, title, body):
    reason = (reason or "").strip()
    transition(
        proposal,
        name,
        by=by,
        denied=CHECK_DENIED,
        reason=reason,
        reason_required=name != "mark_eligible",
        record={"status_reason": reason, "checked_at": timezone.now(), **(record or {})},
        notify=[members_notice(proposal, title, body)],
    )
    return proposal


@action_service(Proposal, "mark_eligible")
def proposal_mark_eligible(*, proposal: Proposal, by, reason: str = "") -> Proposal:
    return _check(
        proposal,
        "mark_eligible",
        by=by,
        reason=reason,
        title=f"资格审查通过：{proposal.title}",
        body=(reason or "").strip() or f"您申报的项目已通过“{proposal.call}”的资格审查，将进入专家评审。",
    )


@action_service(Proposal, "mark_ineligible")
def proposal_mark_ineligible(*, proposal: Proposal, by, reason: str = "") -> Proposal:
    return _check(
        proposal,
        "mark_ineligible",
        by=by,
        reason=reason,
        title=f"资格审查未通过：{proposal.title}",
        body=f"理由：{(reason or '').strip()}",
    )


@action_service(Proposal, "return_for_correction")
def proposal_return(*, proposal: Proposal, by, reason: str = "", deadline: datetime.date | None = None) -> Proposal:
    """退回修改 with what to fix and the last day to resubmit (today or later)."""
    today = timezone.localdate()
    if deadline is None:
        raise ValidationError({"deadline": "请填写补正截止日期。"})
    if deadline < today:
        raise ValidationError({"deadline": "补正截止日期不能早于今天。"})
    return _check(
        proposal,
        "return_for_correction",
        by=by,
        reason=reason,
        record={"correction_deadline": deadline},
        title=f"申报书退回修改：{proposal.title}",
        body=f"请在{chinese_date(deadline)}前修改后重新提交。需要修改的内容：{(reason or '').strip()}",
    )


def expire_corrections(today: datetime.date | None = None) -> int:
    """Every proposal returned for correction whose deadline has passed without
    resubmission becomes ineligible, logged as the system's act. Returns how many."""
    today = today or timezone.localdate()
    count = 0
    overdue = Proposal.objects.filter(status=P.RETURNED, correction_deadline__lt=today).select_related(
        "call", "organisation"
    )
    for proposal in overdue:
        reason = f"补正截止日期（{chinese_date(proposal.correction_deadline)}）前未重新提交。"
        with transaction.atomic():
            run_transition(proposal, "expire", by=None, reason=reason, record={"status_reason": reason})
            send_notices([members_notice(proposal, f"资格审查未通过：{proposal.title}", reason)])
        count += 1
    return count
