"""拨付: a project's tranches planned from its call's tranche plan when its agreement is
signed, released by finance staff of the call's region while the tranche's gate holds, or
withheld with a reason; each day, tranches whose planned date has come fall due and those
whose gate has just opened get their date.

Planning (`plan_tranches`, called by the agreement service when an agreement is signed):
one tranche per line of the call's plan, amounts rounded to the cent with the remainder on
the last so they sum exactly to the award. Due dates: a tranche paid on signing is due
within 15 working days of the signing date (core.workdays: 调休 and public holidays
counted); a tranche gated by an evaluation has no date until the evaluation passes, and is
then due within 15 working days of that day (`schedule_gated_tranches`, run daily, and by
the evaluation service if it calls it). An estimate from the implementation dates would
print a date the project cannot influence and staff would read as a promise: no date says
"after the mid-term evaluation" honestly, and the list shows the gate instead.

Releasing (`tranche_release`) is idempotent and safe under concurrency: the project's row
is locked (select_for_update), the tranche re-read under the lock; a tranche already paid
is refused with when and under which voucher ("无需重复办理"), so however many sessions
release it at once it is paid once; the sum released for the project is checked against
the award inside the lock. The first release puts a signed project in progress.

Withholding (`tranche_withhold`) records the reason the organisation reads; a withheld
tranche is released later, once its gate holds, by the same service.

Overdue (逾期) is computed (grants.selectors.tranches.is_overdue): planned or due and past
its date. Nothing is written for it."""

import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.selectors import has_scoped_perm
from core.dates import chinese_date
from core.workdays import add_workdays
from core.workflow import CREATED, WorkflowError, action_service, log_bulk, run_transition, transition
from orgs.validators import normalise_bank_account, validate_bank_account

from ..models import FINANCE_PERMISSION, FUNDED_STATES, Proposal, ProposalStatus, Tranche, TrancheStatus
from ..rules import fmt_money
from ..selectors.tranches import gate_state, with_gates
from .proposals import members_notice

P = ProposalStatus
T = TrancheStatus
CENT = Decimal("0.01")
# a tranche is due within this many working days of the day its gate opens
DUE_WORKDAYS = 15
FINANCE_DENIED = "您无权办理该项目的资金拨付：须由征集所在区域的财务人员办理。"
# the project states in which tranches may be planned
PLANNABLE = (P.APPROVED, *(s for s in FUNDED_STATES if s not in (P.CLOSED, P.TERMINATED)))


# ---- planning -----------------------------------------------------------------------------------


def split_award(award: Decimal, percents: list) -> list[Decimal]:
    """The award split by `percents` (summing to 100): each share rounded to the cent, the
    remainder on the last, so the amounts sum exactly to the award and none is negative."""
    award = Decimal(award).quantize(CENT)
    shares = [Decimal(str(p)) for p in percents]
    for rounding in (ROUND_HALF_UP, ROUND_DOWN):  # rounding down when half-up overshoots (a few cents)
        head = [(award * s / 100).quantize(CENT, rounding=rounding) for s in shares[:-1]]
        if sum(head, Decimal(0)) <= award:
            return [*head, award - sum(head, Decimal(0))]
    raise AssertionError("unreachable: rounded down, the shares never exceed the award")


def plan_tranches(*, proposal: Proposal, signed_on: datetime.date, by) -> list[Tranche]:
    """The project's tranches from its call's tranche plan, for an agreement signed on
    `signed_on`. Idempotent: a project that has tranches gets them back unchanged (one
    plan per project, whoever signs twice). No permission check of its own: the agreement
    service that signs has made it. Refused (WorkflowError) for a project not approved or
    without an award."""
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
        existing = list(Tranche.objects.filter(proposal=proposal).order_by("position"))
        if existing:
            return existing
        if proposal.status not in PLANNABLE:
            raise WorkflowError(f"项目当前状态为“{proposal.get_status_display()}”，不能生成拨付计划。")
        if not proposal.awarded_amount:
            raise WorkflowError("该项目没有批复的资助金额，不能生成拨付计划。")
        plan = proposal.call.tranche_plan
        amounts = split_award(proposal.awarded_amount, [line["percent"] for line in plan])
        first_due = add_workdays(signed_on, DUE_WORKDAYS)
        tranches = [
            Tranche(
                proposal=proposal,
                position=i,
                name=str(line.get("name") or f"第{i}期")[:20],
                percent=Decimal(str(line["percent"])),
                gate=line["gate"],
                amount=amount,
                due_on=first_due if line["gate"] == "signed" else None,
            )
            for i, (line, amount) in enumerate(zip(plan, amounts, strict=True), start=1)
        ]
        Tranche.objects.bulk_create(tranches)
        created = list(Tranche.objects.filter(proposal=proposal).order_by("position"))
        log_bulk(
            Tranche,
            [t.pk for t in created],
            [(CREATED, T.PLANNED, T.PLANNED)],
            by=by,
            reason=f"协议签订（{chinese_date(signed_on)}），按征集的拨付计划生成",
        )
    return created


# ---- releasing ----------------------------------------------------------------------------------


def _require_finance(tranche, by) -> None:
    if not has_scoped_perm(by, FINANCE_PERMISSION, tranche.proposal.call.region):
        raise PermissionDenied(FINANCE_DENIED)


def _paid_text(t: Tranche) -> str:
    return f"该期资金已于{chinese_date(t.paid_on)}拨付，凭证号{t.voucher_no}，无需重复办理。"


@action_service(Tranche, "release")
def tranche_release(
    *, tranche: Tranche, by, paid_on: datetime.date | None, voucher_no: str, bank_account: str | None = None
) -> Tranche:
    """Record that `tranche` was paid on `paid_on` under voucher `voucher_no` into
    `bank_account` (default: the organisation's account on its profile). Returns the
    tranche as released.

    Refused: PermissionDenied for anyone but finance staff of the call's region;
    ValidationError (by field) for a date in the future or before the signing, an empty
    voucher number, no bank account; WorkflowError when the tranche was already paid
    (saying when and under which voucher), when its gate does not hold (why), or when the
    payment would take the project past its award. Nothing is written when refused."""
    _require_finance(tranche, by)
    today = timezone.localdate()
    voucher_no = (voucher_no or "").strip()
    errors = {}
    if paid_on is None:
        errors["paid_on"] = "请填写拨付日期。"
    elif paid_on > today:
        errors["paid_on"] = "拨付日期不能晚于今天。"
    if not voucher_no:
        errors["voucher_no"] = "请填写记账凭证号。"
    elif len(voucher_no) > Tranche._meta.get_field("voucher_no").max_length:
        errors["voucher_no"] = "凭证号不能超过40个字符。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # one release of a project at a time: the project's row, then the tranche, both re-read
        proposal = (
            Proposal.objects.select_for_update()
            .select_related("call__region", "organisation")
            .get(pk=tranche.proposal_id)
        )
        Tranche.objects.select_for_update().filter(pk=tranche.pk).first()
        fresh = with_gates(Tranche.objects.all()).get(pk=tranche.pk)
        fresh.proposal = proposal
        if fresh.status == T.RELEASED:
            raise WorkflowError(_paid_text(fresh))
        gate = gate_state(fresh, proposal.status)
        if not gate.holds:
            raise WorkflowError(f"“{fresh.name}”暂不能拨付：{gate.text}。")
        signed_on = fresh.gate_signed_on
        if signed_on and paid_on < signed_on:
            raise ValidationError({"paid_on": f"拨付日期不能早于协议签订日期（{chinese_date(signed_on)}）。"})
        account = normalise_bank_account(bank_account or "") or normalise_bank_account(
            proposal.organisation.bank_account
        )
        if not account:
            raise ValidationError(
                {"bank_account": "该组织尚未登记银行账号：请组织在资料中补充开户银行和账号，或在此填写收款账号。"}
            )
        try:
            validate_bank_account(account)
        except ValidationError as exc:
            raise ValidationError({"bank_account": exc.messages}) from None
        released = Tranche.objects.filter(proposal=proposal, status=T.RELEASED).aggregate(s=Sum("amount"))["s"]
        released = released or Decimal(0)
        award = proposal.awarded_amount or Decimal(0)
        if released + fresh.amount > award:
            raise WorkflowError(
                f"本期拨付后累计拨付{fmt_money(released + fresh.amount)}元，将超过资助金额{fmt_money(award)}元，"
                "请核对拨付计划。"
            )
        transition(
            fresh,
            "release",
            by=by,
            allowed=True,  # checked above, before anything was locked
            record={
                "paid_on": paid_on,
                "voucher_no": voucher_no,
                "bank_account": account,
                "released_by": by,
                "released_at": timezone.now(),
                "withhold_reason": "",
            },
            log_reason=f"拨付{fmt_money(fresh.amount)}元，凭证号{voucher_no}",
            notify=lambda: [
                members_notice(
                    proposal,
                    f"项目资金已拨付：{proposal.title}",
                    f"“{fresh.name}”{fmt_money(fresh.amount)}元已于{chinese_date(paid_on)}拨付至账号尾号"
                    f"{account[-4:]}，请注意查收。",
                )
            ],
        )
        if proposal.status == P.AGREEMENT_SIGNED:
            run_transition(proposal, "begin", by=by, reason=f"首笔资金已拨付（{fresh.name}）")
    return fresh


# ---- withholding --------------------------------------------------------------------------------


@action_service(Tranche, "withhold")
def tranche_withhold(*, tranche: Tranche, by, reason: str = "") -> Tranche:
    """暂缓拨付 a planned or due tranche, with the reason the organisation reads (its gate
    does not hold, or finance found a reason to wait). Refused: PermissionDenied for
    anyone but finance staff of the call's region; WorkflowError without a reason or when
    the tranche was already paid or withheld."""
    _require_finance(tranche, by)
    reason = (reason or "").strip()
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().select_related("call__region").get(pk=tranche.proposal_id)
        fresh = Tranche.objects.select_for_update().get(pk=tranche.pk)
        fresh.proposal = proposal
        if fresh.status == T.RELEASED:
            raise WorkflowError(
                f"该期资金已于{chinese_date(fresh.paid_on)}拨付（凭证号{fresh.voucher_no}），不能再暂缓拨付。"
            )
        transition(
            fresh,
            "withhold",
            by=by,
            allowed=True,
            reason=reason,
            reason_required=True,
            record={"withhold_reason": reason},
            notify=lambda: [
                members_notice(
                    proposal, f"项目资金暂缓拨付：{proposal.title}", f"“{fresh.name}”暂缓拨付。原因：{reason}"
                )
            ],
        )
    return fresh


# ---- the daily work -----------------------------------------------------------------------------


def schedule_gated_tranches(proposal: Proposal | None = None) -> int:
    """Give the tranches gated by an evaluation their date once the evaluation has passed
    (within 15 working days of it); for `proposal` only, or every project. Returns how
    many were scheduled. Not a change of state: the date is a column, no audit row."""
    qs = Tranche.objects.filter(status__in=(T.PLANNED, T.DUE), due_on__isnull=True).exclude(gate="signed")
    if proposal is not None:
        qs = qs.filter(proposal=proposal)
    count = 0
    for t in with_gates(qs.select_related("proposal")):
        gate = gate_state(t)
        if gate.holds and gate.opened_on:
            count += Tranche.objects.filter(pk=t.pk, due_on__isnull=True).update(
                due_on=add_workdays(gate.opened_on, DUE_WORKDAYS)
            )
    return count


def fall_due_tranches(today: datetime.date | None = None) -> int:
    """Planned tranches whose date has come (on it or after) become 待拨付, in one UPDATE
    with one audit row each (the system's act). Returns how many."""
    today = today or timezone.localdate()
    with transaction.atomic():
        ids = list(
            Tranche.objects.select_for_update().filter(status=T.PLANNED, due_on__lte=today).values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Tranche.objects.filter(pk__in=ids, status=T.PLANNED).update(status=T.DUE)
        log_bulk(Tranche, ids, [("fall_due", T.PLANNED, T.DUE)], by=None, reason="已到计划拨付日期")
    return len(ids)


def run_daily(today: datetime.date | None = None) -> dict:
    """What grants.tasks runs each day for tranches."""
    scheduled = schedule_gated_tranches()
    return {"tranches_scheduled": scheduled, "tranches_due": fall_due_tranches(today)}
