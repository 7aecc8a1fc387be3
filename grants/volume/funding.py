"""Volume money and outcomes (Grants 3): for every approved volume project of a call past
its decision (implementing or finished), what the funding services would have left by
today, written in bulk.

- The agreement (grants.services.agreements): numbered XY<year>-<call>-<seq> within its
  call, the award, the period from the proposal's months (`agreement_period`), the clauses
  filled from the call's template by the service's own `agreement_placeholders`; confirmed
  by the organisation's 负责人, then signed by the call manager within weeks of the
  approval (a few of this year's still wait for one side). Signing puts the project
  已签订协议 → 实施中.
- Its tranches from the call's plan (`split_award`: the amounts sum exactly to the award):
  the first due 15 working days after signing, a gated one 15 working days after its
  evaluation passed, each released by the region's finance staff (date, voucher, the
  organisation's account) once its gate held, 待拨付 when its date passed first, withheld
  with the reason when its gate failed (a suspended project's mid-term tranche, what a
  terminated project or a failed final evaluation had still to receive).
- Progress reports by stage (第一阶段 before the mid-term evaluation, 第二阶段 before the
  final): activities, people, spending per grant-funded budget line, KPI progress and a
  public text; submitted after the period, reviewed by staff (the latest may be a draft).
- 中期评估 on the call's evaluation rubric (each criterion within its weight, now and then a
  bonus or a deduction; passed at call.pass_score): passed → 中期评估通过; failed →
  suspended with 30 days to rectify, then re-evaluated once: passed, or terminated with
  the clawback (released − eligible spending, the reports' spending up to what was
  released), part or all of it repaid since.
- 末期评估 after the period, graded by call.grade_bands; then closure: the last tranche paid
  (withheld for 不合格), the unspent funds returned, 已结项.

A project's quality draws all its scores, so a project is good or poor throughout; the
one its call's experts scored lowest struggles (it fails its first mid-term evaluation as
a rule, and often the second; in this year's rounds it is rectifying, 整改中).
Everything happens on its own day and nothing after today: this year's rounds are midway
(in progress, mid-term passed, suspended, an evaluation being scored, an agreement
unsigned), last year's are closing, older ones are closed (优秀 and the rest) or terminated.
Status paths are walked on each model's own state machine (base.walk); every audit row
is the one the service writes (who, when, why), inserted with its own time and actor.

`publish_results`: each finished call's 评估结果公示 (grants.services.evaluations'
results_publicity, a few days after its last final evaluation), so that the grades are
public as they would be; saved one by one, so that each gets its CMS page as when the
service publishes it (no notices are sent: the volume's organisations read none)."""

import calendar
import datetime
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from types import SimpleNamespace

from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.models import Region, User
from accounts.roles import Role
from core.dates import chinese_date
from core.workdays import add_workdays
from core.workflow import CREATED
from orgs.validators import normalise_bank_account

from ..models import (
    KPI,
    Agreement,
    AgreementStatus,
    BudgetLine,
    CallStatus,
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
    FundingSource,
    ProgressReport,
    Proposal,
    ProposalStatus,
    Publicity,
    PublicityKind,
    ReportStatus,
    Tranche,
    TrancheStatus,
)
from ..rules import fmt_money, money
from ..services.agreements import agreement_period, agreement_placeholders, fill_template
from ..services.evaluations import RECTIFY_DAYS, compute_total, grade_for, result_rows, results_publicity, rubric_of
from ..services.tranches import DUE_WORKDAYS, split_award
from .base import Ctx, insert_many, update_many, walk
from .organisations import ensure_staff

P, T, K = ProposalStatus, TrancheStatus, EvaluationKind
CS, AG, R, E = CallStatus, AgreementStatus, ReportStatus, EvaluationStatus
BATCH = 2000  # projects in one transaction
UNSIGNED_ODDS = 0.03  # this year's projects whose agreement still waits for a side
LATE_ODDS = 0.08
UNREVIEWED_ODDS = 0.05  # a report staff never got round to reviewing  # a tranche paid after its planned date
ZERO = Decimal("0.00")
# the quality of the project its call's experts scored lowest: it fails its first mid-term
# evaluation as a rule (this year's always: some project of the round is rectifying now)
POOR, POOR_NOW = -2.0, -3.0
CLOSING_ODDS = 0.1  # of last year's passed projects: final evaluated, closure still to come
STAFF_COMMENTS = (
    "进度符合计划，请继续做好活动签到和照片留存。",
    "支出与预算基本相符，请注意票据的整理和归档。",
    "服务人数达到阶段目标，下一阶段请加强志愿者培训。",
    "活动记录完整，建议进一步收集服务对象的反馈。",
)
EVALUATION_COMMENTS = {
    "high": "项目按计划实施，服务对象覆盖面广，财务管理规范，成效明显，社区反响良好。",
    "mid": "项目基本按计划实施，完成主要绩效指标；部分活动参与人数不足，台账需进一步完善。",
    "low": "项目实施进度明显滞后，绩效指标完成不足，资金使用与预算不符，须按评估意见限期整改。",
}
WITHHELD_SUSPENDED = "中期评估未通过，项目整改期间暂缓拨付"
WITHHELD_TERMINATED = "项目已终止，不再拨付"
WITHHELD_FAILED_FINAL = "末期评估不合格，不再拨付"


def ensure_finance(city: Region) -> User:
    """The city's finance staff who pay the tranches."""
    return ensure_staff(city, Role.FINANCE, "vol_caiwu", "李会计")


@cache
def workdays_after(day: datetime.date, n: int) -> datetime.date:
    return add_workdays(day, n)


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def spread(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` shared by `weights`, in cents, the remainder on the last."""
    whole = sum(weights, ZERO)
    if not weights or whole <= 0:
        return [ZERO for _ in weights]
    head = [money(total * w / whole) for w in weights[:-1]]
    return [*head, money(total - sum(head, ZERO))]


class _Ordered(list):
    """Related rows read beforehand, in order, for a service that asks for them ordered."""

    def order_by(self, *fields):
        return self


# ---- one project -------------------------------------------------------------------------------


@dataclass
class Plan:
    """What one project leaves: rows by model (their objects found again by a key after
    the insert), the audit entries keyed the same way, and the proposal's own columns."""

    proposal: Proposal
    agreement: dict | None = None
    tranches: list = field(default_factory=list)
    reports: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    logs: list = field(default_factory=list)  # (model, key, (name, source, target), at, by_id, reason)
    status: str = P.APPROVED
    columns: dict = field(default_factory=dict)
    last: datetime.datetime | None = None


class Project:
    """The life of one approved project, day by day, up to today."""

    def __init__(self, ctx: Ctx, p: Proposal, *, lines, kpis, places, manager, finance, number, this_year, poor):
        self.ctx, self.rng, self.p, self.call = ctx, ctx.rng, p, p.call
        self.lines, self.kpis, self.places = lines, kpis, places
        self.manager, self.finance, self.leader = manager.pk, finance.pk, p.created_by_id
        self.number, self.this_year = number, this_year
        self.award = money(p.awarded_amount)
        self.quality = (POOR_NOW if this_year else POOR) if poor else self.rng.gauss(0.2, 0.85)
        self.plan = Plan(p)
        self.state = P.APPROVED
        self.paid: dict[int, datetime.date] = {}
        self.spent = ZERO  # reported by the counted reports

    # the day something happens: None when it lies after today
    def on(self, day: datetime.date) -> datetime.date | None:
        return day if day <= self.ctx.today else None

    def at(self, day: datetime.date, hour: int) -> datetime.datetime:
        return self.ctx.at(day, hour)

    def log(self, model, key, steps, at, by, reason=""):
        for step in steps:
            self.plan.logs.append((model, key, step, at, by, reason))

    def move(self, names, at, reason=""):
        steps = walk(Proposal, names, self.state)
        self.log(Proposal, self.p.pk, steps, at, self.manager, reason)
        self.state = steps[-1][2]
        self.plan.status, self.plan.last = self.state, at

    def live(self) -> Plan:
        d, rng, call = datetime.timedelta, self.rng, self.call
        decided = call.publicity_until + d(1)
        drawn = self.on(decided + d(rng.randint(1, 5)))
        if drawn is None:
            return self.plan
        org_day = self.on(drawn + d(rng.randint(1, 8)))
        signed = self.on((org_day or drawn) + d(rng.randint(1, 7))) if org_day else None
        if self.this_year and rng.random() < UNSIGNED_ODDS:
            signed = None  # still waiting for the call manager (or for both sides)
            if rng.random() < 0.5:
                org_day = None
        self._agreement(drawn, org_day, signed)
        if signed is None:
            return self.plan
        starts, ends = self.plan.agreement["starts_on"], self.plan.agreement["ends_on"]
        self._tranches(signed)
        months = (ends.year - starts.year) * 12 + ends.month - starts.month + 1
        middle = month_end(starts + relativedelta(months=max(1, months // 2) - 1))
        self._mid_term(starts, middle, ends)
        return self.plan

    # ---- the agreement ----

    def _agreement(self, drawn, org_day, signed) -> None:
        p, call = self.p, self.call
        starts, ends = agreement_period(p)
        view = SimpleNamespace(
            call=call,
            organisation=p.organisation,
            title=p.title,
            number=p.number,
            category_id=p.category_id,
            category=p.category,
            places=_Ordered(self.places),
            kpis=_Ordered(self.kpis),
        )
        values = agreement_placeholders(view, number=self.number, amount=self.award, starts_on=starts, ends_on=ends)
        created = self.at(drawn, 9)
        row = {
            "proposal_id": p.pk,
            "number": self.number,
            "amount": self.award,
            "starts_on": starts,
            "ends_on": ends,
            "clauses": fill_template(call.agreement_template, values),
            "status": AG.DRAFT,
            "created_at": created,
        }
        self.log(Agreement, p.pk, [(CREATED, AG.DRAFT, AG.DRAFT)], created, self.manager, f"生成项目协议{self.number}")
        path = []
        if org_day:
            row.update(status=AG.ORG_SIGNED, org_signed_by_id=self.leader, org_signed_at=self.at(org_day, 15))
            path.append(("confirm_by_org", row["org_signed_at"], self.leader))
        if signed:
            at = self.at(signed, 10)
            row.update(status=AG.SIGNED, funder_signed_by_id=self.manager, funder_signed_at=at, signed_on=signed)
            path.append(("confirm_by_funder", at, self.manager))
        steps = walk(Agreement, [name for name, _at, _by in path], AG.DRAFT)
        for step, (_name, at, by) in zip(steps, path, strict=True):
            self.log(Agreement, p.pk, [step], at, by)
        self.plan.agreement = row
        if signed:
            at = row["funder_signed_at"]
            self.move(["sign_agreement"], at, f"项目协议{self.number}已签订")
            self.move(["begin"], at, f"协议于{chinese_date(signed)}签订，项目进入实施")

    # ---- money ----

    def _tranches(self, signed) -> None:
        plan = self.call.tranche_plan
        amounts = split_award(self.award, [line["percent"] for line in plan])
        at = self.plan.agreement["funder_signed_at"]
        reason = f"协议签订（{chinese_date(signed)}），按征集的拨付计划生成"
        for i, (line, amount) in enumerate(zip(plan, amounts, strict=True), start=1):
            row = {
                "proposal_id": self.p.pk,
                "position": i,
                "name": str(line.get("name") or f"第{i}期")[:20],
                "percent": Decimal(str(line["percent"])),
                "gate": line["gate"],
                "amount": amount,
                "status": T.PLANNED,
                "due_on": None,
            }
            self.plan.tranches.append(row)
            self.log(Tranche, (self.p.pk, i), [(CREATED, T.PLANNED, T.PLANNED)], at, self.manager, reason)
        self._gate_opens("signed", signed)

    def _tranche(self, gate: str) -> dict | None:
        return next((t for t in self.plan.tranches if t["gate"] == gate and t["status"] != T.RELEASED), None)

    def _gate_opens(self, gate: str, day: datetime.date, *, pay: bool = True) -> None:
        """The tranche behind `gate` gets its date (15 working days on; a withheld one
        keeps none) and is paid when finance gets to it: before the date mostly, after it
        now and then (待拨付 from its date), never when `pay` is false."""
        t = self._tranche(gate)
        if t is None:
            return
        if t["status"] != T.WITHHELD:
            t["due_on"] = workdays_after(day, DUE_WORKDAYS)
        late = not pay or self.rng.random() < LATE_ODDS
        paid = workdays_after(day, self.rng.randint(16, 25) if late else self.rng.randint(3, 14))
        if t["due_on"] and t["due_on"] < paid and self.on(t["due_on"]):
            self._step(t, "fall_due", self.at(t["due_on"], 2), None, "已到计划拨付日期")
        if pay and self.on(paid):
            self._release(t, paid)

    def _step(self, t: dict, name: str, at, by, reason: str) -> None:
        steps = walk(Tranche, [name], t["status"])
        self.log(Tranche, (self.p.pk, t["position"]), steps, at, by, reason)
        t["status"] = steps[-1][2]

    def _release(self, t: dict, paid: datetime.date) -> None:
        org = self.p.organisation
        voucher = f"记{paid:%Y%m}-{self.p.pk % 10000:04d}{t['position']}"
        at = self.at(paid, 11)
        account = normalise_bank_account(org.bank_account) or f"6221{self.rng.randrange(10**13, 10**14)}"
        self._step(t, "release", at, self.finance, f"拨付{fmt_money(t['amount'])}元，凭证号{voucher}")
        t.update(paid_on=paid, voucher_no=voucher, bank_account=account, released_by_id=self.finance)
        t.update(released_at=at, withhold_reason="")
        self.paid[t["position"]] = paid

    def _withhold(self, t: dict | None, day: datetime.date, by: int, reason: str) -> None:
        if t is None or t["status"] in (T.RELEASED, T.WITHHELD):
            return
        self._step(t, "withhold", self.at(day, 16), by, reason)
        t["withhold_reason"] = reason

    def released(self) -> Decimal:
        return sum((t["amount"] for t in self.plan.tranches if t["status"] == T.RELEASED), ZERO)

    # ---- reports ----

    def _report(self, label: str, starts, ends, spend: Decimal, reached: float) -> bool:
        """One stage's report, `spend` shared over the grant lines by their budgets; True
        once submitted (then its spending counts)."""
        rng, d = self.rng, datetime.timedelta
        created = self.on(ends - d(rng.randint(0, 20)))
        if created is None:
            return False
        submitted = self.on(ends + d(rng.randint(2, 10)))
        # staff review within a fortnight, now and then never
        reviewed = self.on(submitted + d(rng.randint(1, 15))) if submitted and rng.random() > UNREVIEWED_ODDS else None
        shares = spread(spend, [amount for _pk, amount in self.lines])
        held, people = rng.randint(2, 8), rng.randint(40, 400)
        served = min(people, max(10, int((self.p.beneficiaries_direct or 50) * rng.uniform(0.3, 0.6))))
        place = self.places[0].name if self.places else self.call.region.name
        row = {
            "proposal_id": self.p.pk,
            "period": label,
            "period_start": starts,
            "period_end": ends,
            "activities_held": held,
            "participants": people,
            "beneficiaries": served,
            "narrative": f"本阶段按计划开展活动{held}场，服务{served}人，参与{people}人次；活动签到表、照片和支出凭证已整理归档。",
            "public_text": f"{label}，项目在{place}开展活动{held}场，服务居民{served}人。",
            "spending": {str(pk): f"{v}" for (pk, _a), v in zip(self.lines, shares, strict=True)},
            "kpi_progress": {str(k.pk): f"{Decimal(round(float(k.target) * reached)):.2f}" for k in self.kpis},
            "status": R.DRAFT,
            "created_by_id": self.leader,
            "created_at": self.at(created, 9),
        }
        key = (self.p.pk, starts)
        self.log(ProgressReport, key, [(CREATED, R.DRAFT, R.DRAFT)], row["created_at"], self.leader, "新建进度报告")
        if submitted:
            row.update(status=R.SUBMITTED, submitted_at=self.at(submitted, 17))
            self.log(ProgressReport, key, walk(ProgressReport, ["submit"]), row["submitted_at"], self.leader)
            self.spent += sum(shares, ZERO)
        if reviewed:
            comment = rng.choice(STAFF_COMMENTS)
            row.update(status=R.REVIEWED, staff_comment=comment)
            step = walk(ProgressReport, ["review"], R.SUBMITTED)
            self.log(ProgressReport, key, step, self.at(reviewed, 10), self.manager, comment)
        self.plan.reports.append(row)
        return bool(submitted)

    # ---- evaluations ----

    def _scores(self, mean: float) -> tuple[dict, Decimal, Decimal, Decimal]:
        rng, rubric = self.rng, rubric_of(self.call)
        points, total = {}, Decimal(0)
        for c in rubric:
            weight = Decimal(str(c["weight"]))
            x = min(1.0, max(0.2, mean / 100 + rng.gauss(0, 0.04)))
            value = min(weight, (weight * Decimal(str(x))).quantize(Decimal("0.1")))
            points[c["key"]] = f"{value}"
            total += value
        bonus = Decimal(rng.randint(10, 30)) / 10 if rng.random() < 0.05 else Decimal(0)
        deduction = Decimal(rng.randint(10, 50)) / 10 if rng.random() < 0.08 else Decimal(0)
        return points, money(bonus), money(deduction), compute_total(total, bonus, deduction)

    def _evaluation(self, kind, attempt: int, day: datetime.date, mean: float, evidence: str) -> dict | None:
        """One evaluation held on `day`: completed, or being scored when `day` is still to
        come but it has begun; None when it has not."""
        d = datetime.timedelta
        started = self.on(day - d(self.rng.randint(1, 5)))
        if started is None:
            return None
        label = K(kind).label
        points, bonus, deduction, total = self._scores(mean)
        key = (self.p.pk, kind, attempt)
        row = {
            "proposal_id": self.p.pk,
            "kind": kind,
            "attempt": attempt,
            "evaluator_id": self.manager,
            "status": E.DRAFT,
            "created_at": self.at(started, 9),
            "evidence": evidence,
        }
        self.log(
            Evaluation,
            key,
            [(CREATED, E.DRAFT, E.DRAFT)],
            row["created_at"],
            self.manager,
            f"开始{label}（第{attempt}次）",
        )
        self.plan.evaluations.append(row)
        if not self.on(day):  # scoring: the first criteria typed
            row["points"] = dict(list(points.items())[:2])
            return row
        passed = total >= self.call.pass_score
        band = "high" if total >= 85 else "mid" if passed else "low"
        row.update(points=points, bonus=bonus, deduction=deduction, total=total, passed=passed)
        row.update(comment=EVALUATION_COMMENTS[band], status=E.SUBMITTED, submitted_at=self.at(day, 15))
        self.log(Evaluation, key, walk(Evaluation, ["submit"]), row["submitted_at"], self.manager)
        return row

    def _mid_term(self, starts, middle, ends) -> None:
        rng, d = self.rng, datetime.timedelta
        first = self.award * Decimal(str(rng.uniform(0.40, 0.50)))
        if self.quality < -1:  # a poor project spends less of what it received
            first *= Decimal(str(rng.uniform(0.55, 0.85)))
        first = money(min(first, self._amount("signed")))
        if not self._report("第一阶段", starts, middle, first, rng.uniform(0.35, 0.6)):
            return
        day = middle + d(rng.randint(12, 30))
        mean = min(99.0, max(30.0, 79 + 11 * self.quality + rng.gauss(0, 4)))
        evidence = "第一阶段进度报告；活动签到表、照片和支出凭证。"
        one = self._evaluation(K.MID_TERM, 1, day, mean, evidence)
        if one is None or one["status"] == E.DRAFT:
            return
        total = one["total"]
        if one["passed"]:
            self.move(["pass_mid_term"], one["submitted_at"], f"中期评估（第1次）{total}分，通过")
            self._gate_opens("mid_term", day)
            self._final(middle, ends)
            return
        deadline = day + d(rng.randint(RECTIFY_DAYS, 3 * RECTIFY_DAYS))  # the evaluator's choice
        one["rectify_until"] = deadline
        self.move(["suspend"], one["submitted_at"], f"中期评估{total}分，不合格，整改期限至{chinese_date(deadline)}")
        withheld = self.on(day + d(rng.randint(1, 5)))
        if withheld:
            self._withhold(self._tranche("mid_term"), withheld, self.finance, WITHHELD_SUSPENDED)
        again = deadline + d(rng.randint(1, 10))
        two = self._evaluation(K.MID_TERM, 2, again, min(99.0, mean + rng.gauss(8, 8)), f"整改报告；{evidence}")
        if two is None or two["status"] == E.DRAFT:
            return
        if two["passed"]:
            self.move(["pass_mid_term"], two["submitted_at"], f"中期评估（第2次）{two['total']}分，通过")
            self._gate_opens("mid_term", again)
            self._final(middle, ends)
        else:
            self._terminate(two, again)

    def _amount(self, gate: str) -> Decimal:
        return next((t["amount"] for t in self.plan.tranches if t["gate"] == gate), ZERO)

    def _terminate(self, evaluation: dict, day: datetime.date) -> None:
        d = datetime.timedelta
        reason = f"中期评估复评不合格（{evaluation['total']}分），项目终止"
        released = self.released()
        eligible = min(self.spent, released)
        clawback = max(money(released - eligible), ZERO)
        self.move(["terminate"], evaluation["submitted_at"], reason)
        for t in self.plan.tranches:
            self._withhold(t, day, self.manager, WITHHELD_TERMINATED)
        self.plan.columns.update(
            status_reason=reason,
            eligible_spending=eligible,
            clawback_amount=clawback,
            ended_at=evaluation["submitted_at"],
        )
        repaid_on = self.on(day + d(self.rng.randint(10, 60)))
        share = self.rng.choice((1, 1, 0.5, 0))
        if clawback and repaid_on and share:
            repaid = money(clawback * Decimal(str(share)))
            self.plan.columns["clawback_repaid"] = repaid
            text = (
                f"登记追回款{fmt_money(repaid)}元（{chinese_date(repaid_on)}到账），累计追回{fmt_money(repaid)}元，"
                f"尚欠{fmt_money(clawback - repaid)}元"
            )
            steps = [("clawback_repaid", P.TERMINATED, P.TERMINATED)]
            self.log(Proposal, self.p.pk, steps, self.at(repaid_on, 14), self.finance, text)

    def _final(self, middle, ends) -> None:
        rng, d = self.rng, datetime.timedelta
        second = money(self.award * Decimal(str(rng.uniform(0.9, 1.0))) - self.spent)
        if not self._report(
            "第二阶段", middle + d(1), ends, max(second, ZERO), min(1.3, max(0.5, 0.85 + 0.15 * self.quality))
        ):
            return
        day = ends + d(rng.randint(10, 30))
        mean = min(99.0, max(30.0, 81 + 9 * self.quality + rng.gauss(0, 4)))
        final = self._evaluation(K.FINAL, 1, day, mean, "第一、二阶段进度报告；服务对象满意度调查；财务凭证。")
        if final is None or final["status"] == E.DRAFT:
            return
        grade = grade_for(self.call, final["total"])
        final["grade"] = grade
        self.move(["finish_final"], final["submitted_at"], f"末期评估{final['total']}分，等级：{grade}")
        self.plan.columns["final_grade"] = grade
        if final["passed"]:
            # last year's: now and then the last tranche is overdue, the closure still to come
            waits = self.call.year == self.ctx.today.year - 1 and rng.random() < CLOSING_ODDS
            self._gate_opens("final", day, pay=not waits)
            if self._tranche("final") is not None:
                return  # not paid yet: closed once it is
            closing = self.on(max(self.paid.values()) + d(rng.randint(3, 20)))
        else:
            closing = self.on(day + d(rng.randint(5, 20)))
            if closing:
                for t in self.plan.tranches:
                    self._withhold(t, closing, self.manager, WITHHELD_FAILED_FINAL)
        if closing:
            self._close(closing)

    def _close(self, day: datetime.date) -> None:
        released = self.released()
        spent = min(self.spent, released)
        returned = money(released - spent)
        at = self.at(day, 16)
        self.move(
            ["close"],
            at,
            f"结项：已拨付{fmt_money(released)}元，已报支出{fmt_money(spent)}元，结余退回{fmt_money(returned)}元",
        )
        self.plan.columns.update(returned_amount=returned, eligible_spending=spent, ended_at=at)


# ---- the batch ----------------------------------------------------------------------------------

_NUMBER = re.compile(r"-(\d+)$")
FUNDED_CALLS = (CS.IMPLEMENTING, CS.FINISHED)


def waiting(calls) -> tuple[list[int], set[int]]:
    """The approved volume projects of calls past their decision that have no agreement,
    and of them the one each call's experts scored lowest."""
    ids = [c.pk for c in calls if c.status in FUNDED_CALLS]
    rows = list(
        Proposal.objects.filter(call__in=ids, status=P.APPROVED, agreement__isnull=True)
        .order_by("call_id", "pk")
        .values_list("pk", "call_id", "score")
    )
    lowest = {}
    for pk, call_id, score in rows:
        if call_id not in lowest or (score or 0) < lowest[call_id][1]:
            lowest[call_id] = (pk, score or 0)
    return [pk for pk, _c, _s in rows], {pk for pk, _s in lowest.values()}


def make_funding(ctx: Ctx, calls, say=None) -> int:
    """Agreements, tranches, reports and evaluations of every approved volume project
    that has none yet (see the module's docstring). Returns how many projects."""
    ids, poorest = waiting(calls)
    if not ids:
        return 0
    finance = ensure_finance(ctx.city)
    by_pk = {c.pk: c for c in calls}
    done = 0
    for i in range(0, len(ids), BATCH):
        with transaction.atomic():
            done += _fund(ctx, ids[i : i + BATCH], by_pk, finance, poorest)
        if say:
            say(f"  资金与评估 {done}/{len(ids)}")
    return done


def publish_results(ctx: Ctx, calls) -> int:
    """The 评估结果公示 of every finished volume call that has final evaluations and none
    yet, three days after its last one. Returns how many."""
    done = set(Publicity.objects.filter(kind=PublicityKind.EVALUATION).values_list("call_id", flat=True))
    last = dict(
        Evaluation.objects.filter(
            proposal__call__in=[c.pk for c in calls if c.status == CallStatus.FINISHED and c.pk not in done],
            kind=EvaluationKind.FINAL,
            status=EvaluationStatus.SUBMITTED,
        )
        .values_list("proposal__call")
        .annotate(last=Max("submitted_at"))
        .order_by()
    )
    for call in (c for c in calls if c.pk in last):
        day = min(timezone.localtime(last[call.pk]).date() + datetime.timedelta(days=3), ctx.today)
        publicity = results_publicity(call, result_rows(call), pending=0, opens_on=day, by=ctx.checker)
        publicity.published_at = max(ctx.at(day, 9, 0), last[call.pk])
        publicity.save()  # one at a time: the CMS makes each one's page as it is saved
    ctx.counts["publicities"] += len(last)
    return len(last)


def _sequences(call_ids) -> Counter:
    """The last agreement number used in each call."""
    last = Counter()
    for call_id, number in Agreement.objects.filter(proposal__call__in=call_ids).values_list(
        "proposal__call", "number"
    ):
        m = _NUMBER.search(number)
        if m:
            last[call_id] = max(last[call_id], int(m.group(1)))
    return last


def _fund(ctx: Ctx, ids: list[int], calls: dict, finance, poorest: set[int]) -> int:
    proposals = list(
        Proposal.objects.filter(pk__in=ids).select_related("organisation", "category").order_by("call_id", "pk")
    )
    lines, kpis, places = defaultdict(list), defaultdict(list), defaultdict(list)
    for pk, proposal_id, amount in (
        BudgetLine.objects.filter(proposal__in=ids, source=FundingSource.GRANT)
        .order_by("proposal_id", "position", "pk")
        .values_list("pk", "proposal_id", "amount")
    ):
        lines[proposal_id].append((pk, amount))
    for k in KPI.objects.filter(proposal__in=ids).order_by("proposal_id", "position", "pk"):
        kpis[k.proposal_id].append(k)
    regions = {r.pk: r for r in ctx.regions}
    for proposal_id, region_id in Proposal.places.through.objects.filter(proposal__in=ids).values_list(
        "proposal_id", "region_id"
    ):
        r = regions[region_id]
        places[proposal_id].append(SimpleNamespace(path=r.path, name=r.name, full_name=ctx.full_name(r)))
    seq = _sequences({p.call_id for p in proposals})
    plans = []
    for p in proposals:
        p.call = calls[p.call_id]
        seq[p.call_id] += 1
        project = Project(
            ctx,
            p,
            lines=lines[p.pk],
            kpis=kpis[p.pk],
            places=sorted(places[p.pk], key=lambda r: r.path),
            manager=ctx.checker,
            finance=finance,
            number=f"XY{p.call.year}-{p.call_id}-{seq[p.call_id]:03d}",
            this_year=p.call.year == ctx.today.year,
            poor=p.pk in poorest,
        )
        plans.append(project.live())
    _write(ctx, plans, ids)
    ctx.counts["funded"] += sum(1 for plan in plans if plan.status != P.APPROVED)
    return len(plans)


# the model's rows found again after the insert: their key → pk
KEYS = {
    Agreement: ("proposal_id",),
    Tranche: ("proposal_id", "position"),
    ProgressReport: ("proposal_id", "period_start"),
    Evaluation: ("proposal_id", "kind", "attempt"),
}


def _write(ctx: Ctx, plans: list[Plan], ids: list[int]) -> None:
    rows = {
        Agreement: [p.agreement for p in plans if p.agreement],
        Tranche: [t for p in plans for t in p.tranches],
        ProgressReport: [r for p in plans for r in p.reports],
        Evaluation: [e for p in plans for e in p.evaluations],
    }
    pks = {Proposal: {p.proposal.pk: p.proposal.pk for p in plans}}
    for model, values in rows.items():
        insert_many(model, values, batch=500)
        names = KEYS[model]
        found = model.objects.filter(proposal__in=ids).values_list("pk", *names)
        pks[model] = {(row[1] if len(names) == 1 else tuple(row[1:])): row[0] for row in found}
    columns = ["status", "final_grade", "returned_amount", "eligible_spending", "clawback_amount"]
    columns += ["clawback_repaid", "ended_at", "status_reason", "updated_at"]
    changed = [p for p in plans if p.status != P.APPROVED]
    update_many(
        Proposal,
        columns,
        [
            (
                p.proposal.pk,
                p.status,
                p.columns.get("final_grade", ""),
                p.columns.get("returned_amount"),
                p.columns.get("eligible_spending"),
                p.columns.get("clawback_amount"),
                p.columns.get("clawback_repaid", ZERO),
                p.columns.get("ended_at"),
                p.columns.get("status_reason", p.proposal.status_reason),
                p.last,
            )
            for p in changed
        ],
    )
    types = {m: ContentType.objects.get_for_model(m).pk for m in (Proposal, *KEYS)}
    insert_many(
        StateLog,
        [
            {
                "timestamp": at,
                "by_id": by,
                "source_state": source,
                "state": target,
                "transition": name,
                "content_type_id": types[model],
                "object_id": pks[model][key],
                "description": reason or None,
            }
            for p in plans
            for model, key, (name, source, target), at, by, reason in p.logs
        ],
        batch=2000,
    )
    counts = Counter(p.status for p in plans)
    for status, n in counts.items():
        ctx.counts[f"funding:{status}"] += n
    ctx.counts["tranches"] += len(rows[Tranche])
    ctx.counts["reports"] += len(rows[ProgressReport])
    ctx.counts["evaluations"] += len(rows[Evaluation])
