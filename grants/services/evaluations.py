"""中期评估、末期评估 and closure (结项): what follows the money.

An evaluator (a holder of grants.evaluate_project whose scope holds the call's region:
call managers hold it) starts an evaluation, scores the call's evaluation rubric (each
criterion 0 to its weight, a bonus and a deduction of 0 to 10 each; total = the criteria
+ bonus − deduction, kept within 0..100) with evidence from the progress reports, and
submits it. What follows, in the same transaction:

- 中期评估 passed (total ≥ call.pass_score): the project is 中期评估通过;
- 中期评估 failed the first time: the project is suspended (暂停拨付（整改中）) with a
  rectification deadline (整改期限, 30 days by default) the organisation is told of; one
  re-evaluation (第2次) follows;
- 中期评估 failed the second time: the project is terminated; the clawback is computed
  (released tranches − eligible spending, never negative; eligible spending is what the
  submitted reports say was spent on the grant lines unless the evaluator enters the
  figure the audit found) and, when the evaluator marks a serious breach, the
  organisation is banned for 3 years (orgs.services.ban_record), which
  orgs.selectors.eligibility enforces for every later call;
- 末期评估: the grade from call.grade_bands (default 优秀 ≥ 90, 良好 ≥ 75, 合格 ≥ 60,
  不合格 < 60) and the project is 末期评估完成. Passed is total ≥ call.pass_score, as for
  the mid-term.

Closure (`project_close`, a call manager): the unspent funds returned are recorded
(at most released − reported spending) and the project is closed. A final grade of
不合格 is closed the same way, with its grade (the project ran to its end and its money
is accounted for; termination is for projects stopped early): its tranches not yet paid
are withheld at closure, so no further money goes to it. A passed final evaluation is
closed once its last tranche is paid (or withheld by finance).

The results of a call's final evaluations are published for one week as a 公示 of kind
评估结果公示 (`publish_evaluation_results`); the CMS makes its page."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.selectors import has_scoped_perm
from core.dates import chinese_date
from core.workflow import (
    WorkflowError,
    extra_action,
    log_created,
    log_event,
    run_transition,
    send_notices,
    transition,
)
from orgs.services import ban_record, members_notice

from ..models import (
    EVALUATE_PERMISSION,
    FINANCE_PERMISSION,
    MANAGE_PERMISSION,
    Call,
    CallStatus,
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
    Proposal,
    ProposalStatus,
    Publicity,
    PublicityKind,
    Tranche,
    TrancheStatus,
)
from ..rules import fmt_money, money
from ..selectors.reports import reported_spending
from .review import parse_points
from .tranches import schedule_gated_tranches

P = ProposalStatus
K = EvaluationKind
E = EvaluationStatus
T = TrancheStatus
TWO = Decimal("0.01")
MAX_EXTRA = Decimal("10")  # 加分, 扣分: 0..10 each
RECTIFY_DAYS = 30
MAX_RECTIFY_DAYS = 180
MID_TERM_ATTEMPTS = 2
RESULT_DAYS = 7  # 评估结果公示: one week
EVALUATE_DENIED = "您无权开展该项目的评估：需要项目评估权限，且项目所属征集须在您负责的区域内。"
MANAGE_DENIED = "您无权办理该项目的结项：须由征集所在区域的业务主管办理。"
CLAWBACK_DENIED = "您无权登记追回款：须由征集所在区域的财务人员或业务主管办理。"
MID_TERM_STATES = (P.IN_PROGRESS, P.SUSPENDED)


# ---- who may --------------------------------------------------------------------------------------


def may_evaluate(user, proposal) -> bool:
    return has_scoped_perm(user, EVALUATE_PERMISSION, proposal.call.region)


def _require_evaluator(user, proposal) -> None:
    if not may_evaluate(user, proposal):
        raise PermissionDenied(EVALUATE_DENIED)


def may_manage(user, proposal) -> bool:
    return has_scoped_perm(user, MANAGE_PERMISSION, proposal.call.region)


def may_record_clawback(user, proposal) -> bool:
    region = proposal.call.region
    return has_scoped_perm(user, FINANCE_PERMISSION, region) or has_scoped_perm(user, MANAGE_PERMISSION, region)


# ---- reading the rules ----------------------------------------------------------------------------


def rubric_of(call) -> list[dict]:
    """The call's evaluation rubric, each criterion with a key."""
    return [{**c, "key": c.get("key") or c["name"]} for c in call.evaluation_rubric or []]


def points_for_total(call, total) -> dict[str, str]:
    """Points per criterion of the call's rubric in proportion to the weights (one
    decimal), adding up to exactly `total` (the last criterion takes the rest): what an
    evaluator who rates every criterion alike would enter (the demo and the volume data)."""
    rubric, total = rubric_of(call), Decimal(str(total))
    points, left = {}, total
    for c in rubric[:-1]:
        value = (Decimal(str(c["weight"])) * total / 100).quantize(Decimal("0.1"))
        points[c["key"]] = str(value)
        left -= value
    points[rubric[-1]["key"]] = str(left)
    return points


def grade_for(call, total: Decimal) -> str:
    """The grade band `total` falls in: the band with the highest minimum it reaches."""
    bands = sorted(call.grade_bands or [], key=lambda b: Decimal(str(b.get("min", 0))), reverse=True)
    for band in bands:
        if total >= Decimal(str(band.get("min", 0))):
            return str(band["grade"])
    return str(bands[-1]["grade"]) if bands else ""


def released_total(proposal) -> Decimal:
    """The sum of the project's tranches paid out (what the page's 资金拨付 panel already
    added up, when it has: `proposal._released_total`)."""
    cached = getattr(proposal, "_released_total", None)
    if cached is not None:
        return money(cached)
    total = Tranche.objects.filter(proposal=proposal, status=T.RELEASED).aggregate(s=Sum("amount"))["s"]
    return money(total or 0)


def clawback_for(released: Decimal, eligible: Decimal) -> Decimal:
    """Released minus eligible spending, never negative."""
    return max(money(released) - money(eligible), Decimal("0.00"))


def _extra(raw, label: str, key: str) -> Decimal:
    text = str(raw if raw is not None else "").strip()
    if text == "":
        return Decimal("0.00")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError({key: f"{label}须是数字。"}) from None
    if not value.is_finite() or value < 0 or value > MAX_EXTRA:
        raise ValidationError({key: f"{label}须在0到{MAX_EXTRA.normalize():f}分之间。"})
    if value != value.quantize(Decimal("0.1")):
        raise ValidationError({key: f"{label}最多保留一位小数。"})
    return value.quantize(TWO)


def compute_total(points_sum: Decimal, bonus: Decimal, deduction: Decimal) -> Decimal:
    """The criteria + bonus − deduction, kept within 0..100."""
    return min(max(points_sum + bonus - deduction, Decimal("0")), Decimal("100")).quantize(TWO)


def _scores(evaluation, points, bonus, deduction, comment, evidence, *, complete: bool) -> dict:
    """The record of what was typed, checked: ValidationError keyed by criterion key,
    bonus, deduction, comment, evidence, with every problem at once."""
    rubric = rubric_of(evaluation.proposal.call)
    errors = {}
    clean, points_sum = {}, Decimal("0")
    try:
        clean, points_sum = parse_points(rubric, points or {}, complete=complete)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    extras = {}
    for key, label, raw in (("bonus", "加分", bonus), ("deduction", "扣分", deduction)):
        try:
            extras[key] = _extra(raw, label, key)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    comment = (comment or "").strip()
    evidence = (evidence or "").strip()
    if len(comment) > 5000:
        errors["comment"] = "评估意见最多5000字。"
    if len(evidence) > 5000:
        errors["evidence"] = "评估依据最多5000字。"
    if complete and not comment:
        errors["comment"] = "请填写评估意见。"
    if errors:
        raise ValidationError(errors)
    filled = len(clean) == len(rubric)
    return {
        "points": clean,
        "bonus": extras["bonus"],
        "deduction": extras["deduction"],
        "comment": comment,
        "evidence": evidence,
        "total": compute_total(points_sum, extras["bonus"], extras["deduction"]) if filled else None,
    }


# ---- start ----------------------------------------------------------------------------------------


def evaluation_start(*, proposal: Proposal, kind: str, by) -> Evaluation:
    """A new evaluation of `proposal`: 中期评估 while the project is in progress (or, as
    the one re-evaluation, while it is suspended for rectification); 末期评估 once the
    mid-term has passed."""
    _require_evaluator(by, proposal)
    if kind not in K.values:
        raise ValidationError({"kind": "请选择中期评估或末期评估。"})
    earlier = list(Evaluation.objects.filter(proposal=proposal, kind=kind).order_by("attempt"))
    open_one = next((e for e in earlier if e.status == E.DRAFT), None)
    label = K(kind).label
    if open_one is not None:
        raise WorkflowError(f"该项目已有一次进行中的{label}（第{open_one.attempt}次），请在“项目评估”中继续评分。")
    state = proposal.get_status_display()
    if kind == K.MID_TERM:
        if proposal.status not in MID_TERM_STATES:
            raise WorkflowError(
                f"项目当前状态为“{state}”，不能开展中期评估：中期评估在项目实施中开展，不合格整改期间可复评一次。"
            )
        if proposal.status == P.SUSPENDED and not any(e.passed is False for e in earlier):
            raise WorkflowError("项目暂停拨付，但没有未通过的中期评估，不能复评。")
        if len(earlier) >= MID_TERM_ATTEMPTS:
            raise WorkflowError("中期评估最多开展两次（含整改后复评一次）。")
    else:
        if proposal.status != P.MID_TERM_PASSED:
            raise WorkflowError(f"项目当前状态为“{state}”，不能开展末期评估：中期评估通过后才能开展末期评估。")
        if earlier:
            raise WorkflowError("该项目的末期评估已经完成。")
    attempt = len(earlier) + 1
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(proposal=proposal, kind=kind, attempt=attempt, evaluator=by)
            log_created(evaluation, by=by, label=f"开始{label}（第{attempt}次）")
    except IntegrityError:
        raise WorkflowError(f"该项目的{label}刚被其他人开始，请刷新页面后查看。") from None
    return evaluation


def _propose_when(*states):
    return lambda p: p.status in states


extra_action(
    Proposal,
    "start-mid-term",
    "开始中期评估",
    permitted=lambda p, user: may_evaluate(user, p),
    when=_propose_when(*MID_TERM_STATES),
    intro="按征集的评估指标评分，引用进度报告作为依据；不合格的项目暂停拨付并限期整改，整改后复评一次。",
    success="已开始中期评估，请在下方“项目评估”中评分。",
    order=300,
    fixed={"kind": K.MID_TERM},
)(evaluation_start)
extra_action(
    Proposal,
    "start-final",
    "开始末期评估",
    permitted=lambda p, user: may_evaluate(user, p),
    when=_propose_when(P.MID_TERM_PASSED),
    intro="按征集的评估指标评分并评定等级（优秀、良好、合格、不合格），完成后可结项。",
    success="已开始末期评估，请在下方“项目评估”中评分。",
    order=310,
    fixed={"kind": K.FINAL},
)(evaluation_start)


# ---- save and submit ------------------------------------------------------------------------------


def _require_open(evaluation, by) -> None:
    _require_evaluator(by, evaluation.proposal)
    if evaluation.status != E.DRAFT:
        raise WorkflowError(f"这次{evaluation.get_kind_display()}已完成，评分已锁定。")


def evaluation_save(
    *, evaluation: Evaluation, by, points: dict, bonus="", deduction="", comment: str = "", evidence: str = ""
) -> Evaluation:
    """Keep the scores typed so far (a draft: nothing is checked for completeness, every
    number is checked against its range)."""
    _require_open(evaluation, by)
    record = _scores(evaluation, points, bonus, deduction, comment, evidence, complete=False)
    record["evaluator"] = by
    for name, value in record.items():
        setattr(evaluation, name, value)
    evaluation.save(update_fields=list(record))
    return evaluation


def _deadline(rectify_until) -> datetime.date:
    today = timezone.localdate()
    if rectify_until in (None, ""):
        return today + datetime.timedelta(days=RECTIFY_DAYS)
    if not isinstance(rectify_until, datetime.date):
        raise ValidationError({"rectify_until": "请填写有效的整改期限。"})
    if rectify_until <= today:
        raise ValidationError({"rectify_until": "整改期限须晚于今天。"})
    if rectify_until > today + datetime.timedelta(days=MAX_RECTIFY_DAYS):
        raise ValidationError({"rectify_until": f"整改期限最长{MAX_RECTIFY_DAYS}天。"})
    return rectify_until


def _eligible(raw, proposal, released: Decimal) -> Decimal:
    """The eligible spending: the figure entered, else what the reports say (at most the
    money released)."""
    if raw in (None, ""):
        return min(reported_spending(proposal), released)
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError({"eligible_spending": "认定的合规支出须是金额。"}) from None
    if not value.is_finite() or value < 0:
        raise ValidationError({"eligible_spending": "认定的合规支出不能为负数。"})
    if value != value.quantize(TWO):
        raise ValidationError({"eligible_spending": "认定的合规支出最多保留两位小数。"})
    if value > released:
        raise ValidationError({"eligible_spending": f"认定的合规支出不能超过已拨付的资金（{fmt_money(released)}元）。"})
    return value.quantize(TWO)


def evaluation_submit(
    *,
    evaluation: Evaluation,
    by,
    points: dict | None = None,
    bonus=None,
    deduction=None,
    comment: str | None = None,
    evidence: str | None = None,
    rectify_until=None,
    eligible_spending=None,
    serious_breach: bool = False,
    reason: str = "",
) -> Evaluation:
    """Complete an evaluation (with the scores given, or those saved) and move the project
    on: see the module's docstring. `rectify_until` is the rectification deadline of a
    first failed mid-term (default 30 days on); `eligible_spending`, `serious_breach` and
    `reason` are read when a second failed mid-term terminates the project."""
    _require_open(evaluation, by)
    proposal = evaluation.proposal
    call = proposal.call
    record = _scores(
        evaluation,
        evaluation.points if points is None else points,
        evaluation.bonus if bonus is None else bonus,
        evaluation.deduction if deduction is None else deduction,
        evaluation.comment if comment is None else comment,
        evaluation.evidence if evidence is None else evidence,
        complete=True,
    )
    total = record["total"]
    passed = total >= call.pass_score
    now = timezone.now()
    record.update(passed=passed, evaluator=by, submitted_at=now)
    kind_label = evaluation.get_kind_display()
    org = proposal.organisation
    # everything that may be refused is checked before anything is written
    if evaluation.kind == K.MID_TERM:
        expected = (P.IN_PROGRESS,) if evaluation.attempt == 1 else (P.SUSPENDED,)
    else:
        expected = (P.MID_TERM_PASSED,)
    if proposal.status not in expected:
        raise WorkflowError(f"项目当前状态为“{proposal.get_status_display()}”，不能完成这次{kind_label}。")
    outcome = {}
    if evaluation.kind == K.FINAL:
        record["grade"] = grade_for(call, total)
    elif not passed and evaluation.attempt == 1:
        record["rectify_until"] = _deadline(rectify_until)
    elif not passed:
        reason = (reason or "").strip() or f"中期评估复评不合格（{total}分），项目终止"
        if len(reason) > 300:
            raise ValidationError({"reason": "终止理由最多300字。"})
        released = released_total(proposal)
        eligible = _eligible(eligible_spending, proposal, released)
        outcome = {
            "reason": reason,
            "released": released,
            "eligible": eligible,
            "clawback": clawback_for(released, eligible),
            "serious": bool(serious_breach),
        }
    with transaction.atomic():
        transition(evaluation, "submit", by=by, denied=EVALUATE_DENIED, record=record)
        if evaluation.kind == K.FINAL:
            _finish_final(proposal, evaluation, by)
        elif passed:
            transition(
                proposal,
                "pass_mid_term",
                by=by,
                allowed=True,
                reason=f"{kind_label}（第{evaluation.attempt}次）{total}分，通过",
                notify=[
                    members_notice(
                        org,
                        f"中期评估通过：{proposal.title}",
                        f"“{proposal.title}”中期评估得分{total}分，评估通过。中期拨付将按协议办理。",
                        proposal,
                    )
                ],
            )
        elif evaluation.attempt == 1:
            deadline = record["rectify_until"]
            transition(
                proposal,
                "suspend",
                by=by,
                allowed=True,
                reason=f"中期评估{total}分，不合格，整改期限至{chinese_date(deadline)}",
                notify=[
                    members_notice(
                        org,
                        f"中期评估未通过，请限期整改：{proposal.title}",
                        f"“{proposal.title}”中期评估得分{total}分（合格线{call.pass_score}分），未通过。"
                        f"项目暂停拨付，请于{chinese_date(deadline)}前完成整改，届时复评一次；"
                        f"复评仍不合格的，项目将终止并追回不合规使用的资金。评估意见：{record['comment']}",
                        proposal,
                    )
                ],
            )
        else:
            _terminate(proposal, evaluation, by, **outcome)
        if passed:  # the tranche this evaluation gates gets its planned date (15 working days on)
            schedule_gated_tranches(proposal)
    return evaluation


def _finish_final(proposal, evaluation, by) -> None:
    grade = evaluation.grade
    transition(
        proposal,
        "finish_final",
        by=by,
        allowed=True,
        reason=f"末期评估{evaluation.total}分，等级：{grade}",
        record={"final_grade": grade},
        notify=[
            members_notice(
                proposal.organisation,
                f"末期评估完成：{proposal.title}",
                f"“{proposal.title}”末期评估得分{evaluation.total}分，等级为“{grade}”。"
                + ("请按协议办理结项和结余资金退回。" if evaluation.passed else "评估不合格，尾款不再拨付。"),
                proposal,
            )
        ],
    )


def _terminate(proposal, evaluation, by, *, reason, released, eligible, clawback, serious) -> None:
    org = proposal.organisation
    body = (
        f"“{proposal.title}”中期评估复评得分{evaluation.total}分，仍不合格，项目终止。"
        f"已拨付{fmt_money(released)}元，认定合规支出{fmt_money(eligible)}元，"
        + (f"应退回{fmt_money(clawback)}元，请按通知退回。" if clawback > 0 else "无需退回资金。")
    )
    ban = None
    if serious:
        ban = ban_record(org=org, by=by, reason=f"公益创投项目“{proposal.title}”严重违约（{reason}）")
        body += f"因严重违约，贵组织自{chinese_date(ban.listed_on)}起至{chinese_date(ban.removed_on)}不得申报本平台公益创投项目。"
    transition(
        proposal,
        "terminate",
        by=by,
        allowed=True,
        reason=reason,
        record={
            "status_reason": reason[:500],
            "eligible_spending": eligible,
            "clawback_amount": clawback,
            "ended_at": timezone.now(),
        },
        notify=[members_notice(org, f"项目终止：{proposal.title}", body, proposal)],
    )
    _withhold_unpaid(proposal, by, "项目已终止，不再拨付")


def _withhold_unpaid(proposal, by, reason: str) -> int:
    """Withhold the project's tranches not yet paid (planned or due): no more money goes."""
    n = 0
    for tranche in Tranche.objects.filter(proposal=proposal, status__in=(T.PLANNED, T.DUE)).order_by("position"):
        run_transition(tranche, "withhold", by=by, reason=reason, record={"withhold_reason": reason})
        n += 1
    return n


# ---- closure and clawback -------------------------------------------------------------------------


def _money_in(raw, key: str, label: str) -> Decimal:
    try:
        value = Decimal(str(raw if raw is not None else "").replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError({key: f"请填写{label}（元）。"}) from None
    if not value.is_finite():
        raise ValidationError({key: f"{label}须是金额。"})
    if value < 0:
        raise ValidationError({key: f"{label}不能为负数。"})
    if value != value.quantize(TWO):
        raise ValidationError({key: f"{label}最多保留两位小数。"})
    return value.quantize(TWO)


def project_close(*, proposal: Proposal, by, returned_amount) -> Proposal:
    """结项: record the unspent funds returned (0 to released − reported spending) and
    close the project, after its final evaluation."""
    if not may_manage(by, proposal):
        raise PermissionDenied(MANAGE_DENIED)
    if proposal.status != P.FINAL_EVALUATED:
        raise WorkflowError(f"项目当前状态为“{proposal.get_status_display()}”，末期评估完成后才能结项。")
    final = Evaluation.objects.filter(proposal=proposal, kind=K.FINAL, status=E.SUBMITTED).first()
    amount = _money_in(returned_amount, "returned_amount", "结余退回金额")
    released = released_total(proposal)
    spent = min(reported_spending(proposal), released)
    unspent = money(released - spent)
    if amount > unspent:
        raise ValidationError(
            {
                "returned_amount": f"结余退回金额不能超过已拨付减去已报支出的结余（{fmt_money(released)} − "
                f"{fmt_money(spent)} = {fmt_money(unspent)}元）。"
            }
        )
    passed = final is not None and final.passed
    unpaid = Tranche.objects.filter(proposal=proposal, status__in=(T.PLANNED, T.DUE))
    if passed and unpaid.exists():
        names = "、".join(unpaid.order_by("position").values_list("name", flat=True))
        raise WorkflowError(f"还有未拨付的资金（{names}），请先拨付或暂缓拨付后再结项。")
    with transaction.atomic():
        if not passed:
            _withhold_unpaid(proposal, by, "末期评估不合格，不再拨付")
        transition(
            proposal,
            "close",
            by=by,
            denied=MANAGE_DENIED,
            reason=f"结项：已拨付{fmt_money(released)}元，已报支出{fmt_money(spent)}元，结余退回{fmt_money(amount)}元",
            record={"returned_amount": amount, "eligible_spending": spent, "ended_at": timezone.now()},
            notify=[
                members_notice(
                    proposal.organisation,
                    f"项目已结项：{proposal.title}",
                    f"“{proposal.title}”已结项（末期评估等级：{proposal.final_grade or '—'}）。"
                    f"已拨付{fmt_money(released)}元，支出{fmt_money(spent)}元，结余退回{fmt_money(amount)}元。",
                    proposal,
                )
            ],
        )
    return proposal


extra_action(
    Proposal,
    "close-project",
    "结项",
    permitted=lambda p, user: may_manage(user, p),
    when=lambda p: p.status == P.FINAL_EVALUATED,
    form="grants.forms.evaluations.ClosureForm",
    intro="登记结余资金退回情况后结项；结余为已拨付资金减去进度报告中的支出。",
    success="“{obj}”已结项。",
    order=320,
)(project_close)


def record_clawback_repayment(*, proposal: Proposal, by, amount, paid_on) -> Proposal:
    """登记追回款: money the organisation of a terminated project paid back, at most what
    is still owed."""
    if not may_record_clawback(by, proposal):
        raise PermissionDenied(CLAWBACK_DENIED)
    if proposal.status != P.TERMINATED or not proposal.clawback_amount:
        raise WorkflowError("该项目没有应追回的资金。")
    value = _money_in(amount, "amount", "追回金额")
    if value <= 0:
        raise ValidationError({"amount": "追回金额须大于0。"})
    today = timezone.localdate()
    if not isinstance(paid_on, datetime.date):
        raise ValidationError({"paid_on": "请填写到账日期。"})
    if paid_on > today:
        raise ValidationError({"paid_on": "到账日期不能晚于今天。"})
    with transaction.atomic():
        row = Proposal.objects.select_for_update().only("pk", "clawback_amount", "clawback_repaid").get(pk=proposal.pk)
        owed = money(row.clawback_amount - row.clawback_repaid)
        if value > owed:
            raise ValidationError({"amount": f"追回金额不能超过尚未追回的{fmt_money(owed)}元。"})
        repaid = money(row.clawback_repaid + value)
        Proposal.objects.filter(pk=proposal.pk).update(clawback_repaid=repaid)
        proposal.clawback_repaid = repaid
        log_event(
            proposal,
            "clawback_repaid",
            by=by,
            reason=f"登记追回款{fmt_money(value)}元（{chinese_date(paid_on)}到账），累计追回{fmt_money(repaid)}元，"
            f"尚欠{fmt_money(row.clawback_amount - repaid)}元",
        )
    return proposal


extra_action(
    Proposal,
    "record-clawback",
    "登记追回款",
    permitted=lambda p, user: may_record_clawback(user, p),
    when=lambda p: p.status == P.TERMINATED and bool(p.clawback_amount) and p.clawback_repaid < p.clawback_amount,
    form="grants.forms.evaluations.ClawbackForm",
    intro="项目终止后应追回的资金，按实际到账登记，可分次登记。",
    success="已登记“{obj}”的追回款。",
    order=330,
)(record_clawback_repayment)


# ---- 评估结果公示 ---------------------------------------------------------------------------------


def result_rows(call) -> list[dict]:
    """The public rows of the call's completed final evaluations: project, organisation,
    category, total and grade, best first."""
    evaluations = (
        Evaluation.objects.filter(proposal__call=call, kind=K.FINAL, status=E.SUBMITTED)
        .select_related("proposal__organisation", "proposal__category")
        .order_by("-total", "proposal__number", "pk")
    )
    rows = []
    for rank, e in enumerate(evaluations, start=1):
        p = e.proposal
        rows.append(
            {
                "proposal": p.pk,
                "number": p.number,
                "title": p.title,
                "organisation": p.organisation.name,
                "category": p.category.name if p.category_id else "",
                "total": f"{e.total}",
                "grade": e.grade,
                "rank": rank,
            }
        )
    return rows


def results_publicity(call, rows: list[dict], *, pending: int, opens_on: datetime.date, by) -> Publicity:
    """The 评估结果公示 of `call` for `rows` (result_rows), open a week from `opens_on`;
    not saved. `pending`: the projects still being carried out or evaluated."""
    grades: dict[str, int] = {}
    for r in rows:
        grades[r["grade"]] = grades.get(r["grade"], 0) + 1
    summary = "，".join(f"{g}{n}个" for g, n in grades.items())
    return Publicity(
        call=call,
        kind=PublicityKind.EVALUATION,
        title=f"{call.title.removesuffix('项目')}项目末期评估结果公示",
        intro=(
            f"{call.title}资助项目已完成末期评估，现将评估结果（共{len(rows)}个项目：{summary}）予以公示，"
            f"公示期{RESULT_DAYS}天。"
            + (f"另有{pending}个项目尚在实施或评估中，评估完成后另行公布。" if pending else "")
        ),
        opens_on=opens_on,
        closes_on=opens_on + datetime.timedelta(days=RESULT_DAYS - 1),
        rows=rows,
        published_by=by,
    )


def publish_evaluation_results(*, call: Call, by, opens_on: datetime.date | None = None) -> Publicity:
    """评估结果公示: the call's final evaluation results, frozen into a Publicity open for
    one week (its public page follows). Once per call."""
    if not has_scoped_perm(by, MANAGE_PERMISSION, call.region):
        raise PermissionDenied("您无权发布该征集的评估结果公示：须由征集所在区域的业务主管办理。")
    if call.publicities.filter(kind=PublicityKind.EVALUATION).exists():
        raise WorkflowError("本征集的评估结果公示已经发布。")
    rows = result_rows(call)
    if not rows:
        raise WorkflowError("本征集还没有完成末期评估的项目，无法发布评估结果公示。")
    pending = (
        Proposal.objects.filter(call=call, status__in=(P.IN_PROGRESS, P.SUSPENDED, P.MID_TERM_PASSED))
        .exclude(evaluations__kind=K.FINAL, evaluations__status=E.SUBMITTED)
        .count()
    )
    opens_on = opens_on or timezone.localdate()
    try:
        with transaction.atomic():
            publicity = results_publicity(call, rows, pending=pending, opens_on=opens_on, by=by)
            publicity.save()
            log_event(call, "publish_evaluation_results", by=by, reason=f"发布末期评估结果公示（{len(rows)}个项目）")
            send_notices(
                members_notice(
                    p.organisation,
                    f"评估结果公示：{p.title}",
                    f"“{call.title}”末期评估结果已公示，公示期{RESULT_DAYS}天。",
                    p,
                )
                for p in Proposal.objects.filter(pk__in=[r["proposal"] for r in rows]).select_related("organisation")
            )
    except IntegrityError:
        raise WorkflowError("本征集的评估结果公示已经发布。") from None
    return publicity


extra_action(
    Call,
    "publish-evaluation-results",
    "发布评估结果公示",
    permitted=lambda call, user: has_scoped_perm(user, MANAGE_PERMISSION, call.region),
    when=lambda call: call.status in (CallStatus.DECIDED, CallStatus.IMPLEMENTING, CallStatus.FINISHED),
    intro=f"将已完成末期评估的项目及其得分、等级在公示公告栏公示{RESULT_DAYS}天；每个征集发布一次。",
    success="已发布“{obj}”的评估结果公示。",
    order=900,
)(publish_evaluation_results)
