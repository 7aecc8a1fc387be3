"""Reads of 拨付 (tranches): whether each tranche's gate holds, in words; the tranches staff
see (the calls of their region); one project's tranches; and the finance figures per call
and per level, summed in the database.

A tranche's gate (the call's tranche plan):
- signed    the project agreement is signed;
- mid_term  the latest submitted mid-term evaluation passed;
- final     the latest submitted final evaluation passed;
and for every gate the project is not suspended, terminated or closed, and its agreement is
signed (an approved project not yet signed pays nothing).

`with_gates(queryset)` annotates a Tranche queryset with what the gates read (the
agreement's state and date, the latest evaluation of each kind), so a list or a panel
judges every gate of every row in the one query that loads them; `gate_state` turns the
annotations into a verdict and a sentence.

Overdue (逾期) is computed, never stored: a tranche not yet released nor withheld whose
planned date (due_on) is before today."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.selectors import scope
from core.dates import chinese_date

from ..models import (
    FUNDED_STATES,
    TRANCHE_GATES,
    AgreementStatus,
    Call,
    CallLevel,
    CallStatus,
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
    Proposal,
    ProposalStatus,
    Tranche,
    TrancheStatus,
)

P = ProposalStatus
T = TrancheStatus
SCOPE_FIELD = "proposal__call__region"
ZERO = Decimal("0.00")
# the project states in which nothing is paid, and why
BLOCKING_STATES = {
    P.SUSPENDED: "项目暂停拨付（中期评估未通过，整改中）",
    P.TERMINATED: "项目已终止",
    P.CLOSED: "项目已结项",
}
# the states in which a tranche is still to be paid
OPEN_STATES = (T.PLANNED, T.DUE)
# what a committed award is: approved and every later state of a funded project
COMMITTED_STATES = (P.APPROVED, *FUNDED_STATES)


def overdue_q(today: datetime.date | None = None) -> Q:
    """Tranches past their planned date and still to be paid (not released nor withheld)."""
    return Q(status__in=OPEN_STATES, due_on__lt=today or timezone.localdate())


def is_overdue(tranche, today: datetime.date | None = None) -> bool:
    return bool(tranche.status in OPEN_STATES and tranche.due_on and tranche.due_on < (today or timezone.localdate()))


# ---- gates --------------------------------------------------------------------------------------


def _latest(kind) -> QuerySet:
    """The project's submitted evaluations of `kind`, the latest attempt first."""
    return Evaluation.objects.filter(
        proposal=OuterRef("proposal_id"), kind=kind, status=EvaluationStatus.SUBMITTED
    ).order_by("-attempt")


def with_gates(queryset: QuerySet) -> QuerySet:
    """`queryset` (of Tranche) with what its gates read, in the same query."""
    annotations = {
        "gate_agreement_status": F("proposal__agreement__status"),
        "gate_signed_on": F("proposal__agreement__signed_on"),
    }
    for prefix, kind in (("mid", EvaluationKind.MID_TERM), ("final", EvaluationKind.FINAL)):
        latest = _latest(kind)
        for column, field in (("passed", "passed"), ("attempt", "attempt"), ("total", "total"), ("at", "submitted_at")):
            annotations[f"gate_{prefix}_{column}"] = Subquery(latest.values(field)[:1])
    return queryset.annotate(**annotations)


@dataclass(frozen=True)
class Gate:
    """Whether a tranche may be paid now, and why in words; `opened_on` is the day its
    gate first held (signing, the evaluation passed), None while it does not."""

    holds: bool
    text: str
    opened_on: datetime.date | None = None


def _evaluation_gate(t, prefix: str, label: str) -> Gate:
    passed = getattr(t, f"gate_{prefix}_passed")
    attempt = getattr(t, f"gate_{prefix}_attempt")
    total = getattr(t, f"gate_{prefix}_total")
    at = getattr(t, f"gate_{prefix}_at")
    if attempt is None:
        return Gate(False, f"尚未完成{label}")
    score = f"，{Decimal(total).quantize(Decimal('0.01'))}分" if total is not None else ""
    if passed:
        day = timezone.localdate(at) if at else None
        when = f"，{chinese_date(day)}" if day else ""
        return Gate(True, f"{label}已通过（第{attempt}次{score}{when}）", day)
    return Gate(False, f"{label}未通过（第{attempt}次{score}）")


def gate_state(tranche, proposal_status: str | None = None) -> Gate:
    """The verdict on a tranche loaded through `with_gates`; `proposal_status` defaults to
    its proposal's (pass a freshly locked one when it matters)."""
    status = proposal_status or tranche.proposal.status
    if status in BLOCKING_STATES:
        return Gate(False, BLOCKING_STATES[status])
    signed = tranche.gate_agreement_status == AgreementStatus.SIGNED
    if not signed or status not in FUNDED_STATES:
        return Gate(False, "项目协议尚未签订")
    if tranche.gate == "mid_term":
        return _evaluation_gate(tranche, "mid", "中期评估")
    if tranche.gate == "final":
        return _evaluation_gate(tranche, "final", "末期评估")
    signed_on = tranche.gate_signed_on
    return Gate(True, f"协议已于{chinese_date(signed_on)}签订" if signed_on else "协议已签订", signed_on)


# ---- what staff see ------------------------------------------------------------------------------


def tranches_for_staff(user) -> QuerySet:
    """Every tranche `user` may see: those of projects of calls in their region."""
    return scope(Tranche.objects.all(), user, region_field=SCOPE_FIELD)


def proposal_tranches(proposal) -> list[Tranche]:
    """A project's tranches in order with their gates judged: one query. Each row's
    `proposal` is the one given (its call and region already loaded), and `gate_verdict`,
    `gate_label` and `overdue` are set."""
    today = timezone.localdate()
    rows = list(with_gates(Tranche.objects.filter(proposal=proposal)).order_by("position"))
    for t in rows:
        t.proposal = proposal
        t.gate_verdict = gate_state(t, proposal.status)
        t.gate_label = TRANCHE_GATES.get(t.gate, t.gate)
        t.overdue = is_overdue(t, today)
    return rows


def waiting_tranches(user, today: datetime.date | None = None) -> dict:
    """Tranches in scope 待拨付 and those overdue, with the earliest overdue date: one query."""
    today = today or timezone.localdate()
    found = tranches_for_staff(user).aggregate(
        to_pay=Count("pk", filter=Q(status=T.DUE)),
        overdue=Count("pk", filter=overdue_q(today)),
        overdue_since=Min("due_on", filter=overdue_q(today)),
    )
    return {"to_pay": found["to_pay"] or 0, "overdue": found["overdue"] or 0, "overdue_since": found["overdue_since"]}


# ---- the finance dashboard -----------------------------------------------------------------------

MONEY = DecimalField(max_digits=16, decimal_places=2)
MEASURES = {
    "pool": "资助总额",
    "committed": "已立项（资助金额）",
    "released": "已拨付",
    "withheld": "暂缓拨付",
    "outstanding": "待拨付",
    "returned": "结余退回",
    "clawed_back": "已追回",
}
# the calls the dashboard lists: those that have reached their decision
DECIDED_CALLS = (CallStatus.DECIDED, CallStatus.IMPLEMENTING, CallStatus.FINISHED)


def _sum(field, condition=None):
    return Coalesce(Sum(field, filter=condition), Value(ZERO), output_field=MONEY)


@dataclass
class FinanceRow:
    """The money of one call, or of one level's calls together."""

    label: str
    level: int | None = None
    call: object = None  # {"pk", "title", "year", "level", "status", "region"} for a call's row
    calls: int = 0
    projects: int = 0
    pool: Decimal = ZERO
    committed: Decimal = ZERO
    released: Decimal = ZERO
    withheld: Decimal = ZERO
    outstanding: Decimal = ZERO
    returned: Decimal = ZERO
    clawed_back: Decimal = ZERO
    clawback_due: Decimal = ZERO
    overdue: int = 0
    overdue_amount: Decimal = ZERO

    def add(self, other: "FinanceRow") -> None:
        self.calls += other.calls
        for name in (
            "projects",
            "pool",
            "committed",
            "released",
            "withheld",
            "outstanding",
            "returned",
            "clawed_back",
            "clawback_due",
            "overdue",
            "overdue_amount",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def released_share(self) -> Decimal | None:
        """已拨付 ÷ 已立项, as a percentage to two places."""
        if not self.committed:
            return None
        return (self.released * 100 / self.committed).quantize(Decimal("0.01"))


def finance_figures(user, *, year: int | None = None, today: datetime.date | None = None) -> dict:
    """The money of every decided call in `user`'s scope (of `year`, if given): per call,
    per level (市/街道/社区) and in total. Four queries whatever the number of projects: the
    calls, their projects' sums grouped by call, their tranches' sums grouped by call, and
    the years there are calls of (the year filter's choices).

    committed = the awards of approved projects (批复立项 and every later state); released /
    withheld = tranches in that state; outstanding = tranches still to be paid (planned or
    due); returned = 结余退回; clawed back = 已追回 (and the clawback still owed)."""
    today = today or timezone.localdate()
    calls = scope(Call.objects.filter(status__in=DECIDED_CALLS), user)
    if year:
        calls = calls.filter(year=year)
    call_rows = list(
        calls.order_by("level", "-year", "title", "pk").values(
            "pk", "title", "year", "level", "status", "pool_total", "region__name"
        )
    )
    ids = [c["pk"] for c in call_rows]
    committed = Q(status__in=COMMITTED_STATES)
    projects = {
        r["call_id"]: r
        for r in Proposal.objects.filter(call_id__in=ids)
        .values("call_id")
        .annotate(
            projects=Count("pk", filter=committed),
            committed=_sum("awarded_amount", committed),
            returned=_sum("returned_amount"),
            clawed_back=_sum("clawback_repaid"),
            clawback_amount=_sum("clawback_amount"),
        )
        .order_by()
    }
    money = {
        r["call_id"]: r
        for r in Tranche.objects.filter(proposal__call_id__in=ids)
        .values(call_id=F("proposal__call_id"))
        .annotate(
            released=_sum("amount", Q(status=T.RELEASED)),
            withheld=_sum("amount", Q(status=T.WITHHELD)),
            outstanding=_sum("amount", Q(status__in=OPEN_STATES)),
            overdue=Count("pk", filter=overdue_q(today)),
            overdue_amount=_sum("amount", overdue_q(today)),
        )
        .order_by()
    }
    rows = []
    for c in call_rows:
        p, m = projects.get(c["pk"], {}), money.get(c["pk"], {})
        clawed = p.get("clawed_back", ZERO)
        rows.append(
            FinanceRow(
                label=c["title"],
                level=c["level"],
                call={**c, "level_label": CallLevel(c["level"]).label, "status_label": CallStatus(c["status"]).label},
                calls=1,
                projects=p.get("projects", 0),
                pool=c["pool_total"] or ZERO,
                committed=p.get("committed", ZERO),
                released=m.get("released", ZERO),
                withheld=m.get("withheld", ZERO),
                outstanding=m.get("outstanding", ZERO),
                returned=p.get("returned", ZERO),
                clawed_back=clawed,
                clawback_due=max(p.get("clawback_amount", ZERO) - clawed, ZERO),
                overdue=m.get("overdue", 0),
                overdue_amount=m.get("overdue_amount", ZERO),
            )
        )
    levels = {level: FinanceRow(label=label, level=level) for level, label in CallLevel.choices}
    total = FinanceRow(label="合计")
    for row in rows:
        levels[row.level].add(row)
        total.add(row)
    return {
        "calls": rows,
        "levels": [row for row in levels.values() if row.calls],
        "total": total,
        "years": list(
            scope(Call.objects.filter(status__in=DECIDED_CALLS), user)
            .order_by("-year")
            .values_list("year", flat=True)
            .distinct()
        ),
    }
