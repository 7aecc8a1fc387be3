"""Excel exports of the funded projects from the admin (/admin/grants/exports/): 立项项目 (the
awards), 拨付 (the tranches), 评估 (the mid-term and final evaluations) and 进度报告 (the
organisations' progress reports), each for the whole of the user's region scope or one call.

Same mechanism as the proposal list's export (grants.exports): the page POSTs the kind and the
call (grants/staff/exports_funding.py), `funding_export_start` checks them at once (a Chinese
message, nothing queued, when the call is outside the user's scope), the work runs as a
background job (core.jobs) with its progress bar, and the file is downloaded from the job's
page. Every cell goes through core.excel's safe writer: text is never a formula (a title
"=HYPERLINK(…)" stays text), money is a Decimal with the YUAN format, dates are dates.

These read the models only (grants.models.funding, Proposal), never the services of the
stages, so they work whatever those services have done so far.

Rows: the objects of the projects to the calls of the user's region subtree
(`proposals_for_staff`), optionally of one call. Awards are the proposals approved or later
(grants.opendata.AWARDED_STATES). One query counts, one reads the rows as plain values (the
columns name what they read, joined in the same query; no model instances, so ten thousand
projects are written in seconds), one more reads the awards' places: the number of queries
does not grow with the rows.

Permission: `grants.view_proposal` (call managers, base operators, finance, auditors): who may
see the projects may export them."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from accounts.selectors import scope
from core.errors import UserError
from core.excel import DATE, DATETIME, YUAN, Sheet, new_workbook, workbook_bytes
from core.jobs import JobError, JobOutcome, job_progress, job_runner, job_start

from .models import TRANCHE_GATES, Call, CallLevel, Evaluation, ProgressReport, Proposal, ProposalStatus, Tranche
from .models.funding import EvaluationKind, EvaluationStatus, ReportStatus, TrancheStatus
from .opendata import AWARDED_STATES
from .selectors.proposals import SCOPE_FIELD, proposals_for_staff

EXPORT_PERMISSION = "grants.view_proposal"
SHARE = "0.00%"
SCORE = "0.00"
DENIED = "您没有导出公益创投项目数据的权限。"


class ExportError(UserError):
    """The export cannot be made (unknown kind, a call outside the user's scope)."""


def can_export(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(EXPORT_PERMISSION))


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _day(moment):
    return timezone.localdate(moment) if moment else None


def spending_total(spending) -> Decimal:
    """The sum of a report's spending per budget line ({line id: "1234.50"}), to the cent."""
    total = Decimal("0")
    for value in (spending or {}).values():
        try:
            total += Decimal(str(value))
        except (InvalidOperation, ValueError, TypeError):
            continue
    return total.quantize(Decimal("0.01"))


LEVELS = dict(CallLevel.choices)
STATUSES = dict(ProposalStatus.choices)
TRANCHE_STATUSES = dict(TrancheStatus.choices)
EVALUATION_KINDS = dict(EvaluationKind.choices)
EVALUATION_STATUSES = dict(EvaluationStatus.choices)
REPORT_STATUSES = dict(ReportStatus.choices)
PASSED = {True: "通过", False: "未通过"}


@dataclass(frozen=True)
class Column:
    """One column: its header, the values() keys it reads, how it shows them, width, number format."""

    header: str
    keys: tuple
    show: object  # show(*values) -> the cell's value
    width: int = 14
    fmt: str | None = None


def col(header, key, width=14, fmt=None, show=None) -> Column:
    keys = key if isinstance(key, tuple) else (key,)
    return Column(header, keys, show or (lambda v: v), width, fmt)


def _label(choices):
    return lambda v: choices.get(v, v or "")


def _project(prefix: str = "") -> list[Column]:
    """The project's own columns, first in every sheet (`prefix` "proposal__" from a tranche …)."""
    return [
        col("申报编号", f"{prefix}number", 18),
        col("项目名称", f"{prefix}title", 32),
        col("申报组织", f"{prefix}organisation__name", 28),
    ]


AWARD_COLUMNS = [
    *_project(),
    col("统一社会信用代码", "organisation__uscc", 22, show=lambda v: v or ""),
    col("征集", "call__title", 34),
    col("层级", "call__level", 12, show=_label(LEVELS)),
    col("征集区域", "call__region__name", 12),
    col("实施地点", "places", 22),  # filled from one query for all rows (export_rows)
    col("服务领域", "category__name", 14, show=lambda v: v or ""),
    col("资助金额", "awarded_amount", 16, YUAN),
    col("批复日期", "decided_at", 12, DATE, show=_day),
    col("状态", "status", 16, show=_label(STATUSES)),
]

TRANCHE_COLUMNS = [
    *_project("proposal__"),
    col("征集", "proposal__call__title", 30),
    col("期次", "position", 8, show=lambda v: f"第{v}期"),
    col("名称", "name", 10),
    col("比例", "percent", 9, SHARE, show=lambda v: v / 100 if v is not None else None),
    col("金额", "amount", 16, YUAN),
    col("拨付条件", "gate", 14, show=_label(TRANCHE_GATES)),
    col("状态", "status", 10, show=_label(TRANCHE_STATUSES)),
    col("计划拨付日期", "due_on", 12, DATE),
    col("拨付日期", "paid_on", 12, DATE),
    col("凭证号", "voucher_no", 16),
    col("暂缓原因", "withhold_reason", 28),
]

EVALUATION_COLUMNS = [
    *_project("proposal__"),
    col("征集", "proposal__call__title", 30),
    col("类别", "kind", 10, show=_label(EVALUATION_KINDS)),
    col("第几次", "attempt", 8),
    col("总分", "total", 9, SCORE),
    col("是否通过", "passed", 9, show=lambda v: PASSED.get(v, "")),
    col("等级", "grade", 8),
    col("评估人", ("evaluator__name", "evaluator__username"), 12, show=lambda name, username: name or username or ""),
    col("评估日期", "submitted_at", 12, DATE, show=_day),
    col("状态", "status", 10, show=_label(EVALUATION_STATUSES)),
    col("整改期限", "rectify_until", 12, DATE),
]

REPORT_COLUMNS = [
    *_project("proposal__"),
    col("征集", "proposal__call__title", 30),
    col("报告期", "period", 14),
    col("报告期开始", "period_start", 12, DATE),
    col("报告期结束", "period_end", 12, DATE),
    col("开展活动（场次）", "activities_held", 10),
    col("参与人次", "participants", 10),
    col("服务对象（人）", "beneficiaries", 10),
    col("支出合计", "spending", 16, YUAN, show=spending_total),
    col("状态", "status", 10, show=_label(REPORT_STATUSES)),
    col("提交时间", "submitted_at", 17, DATETIME, show=_local),
]


# ---- the rows of each kind: plain values (no model instances: ten thousand rows in seconds) ---------


def _awards(user, call_id) -> QuerySet:
    qs = proposals_for_staff(user).filter(status__in=AWARDED_STATES)
    if call_id:
        qs = qs.filter(call_id=call_id)
    return qs.order_by("-call__year", "call_id", "number", "pk")


def _of_projects(model, user, call_id) -> QuerySet:
    qs = scope(model.objects.all(), user, region_field=f"proposal__{SCOPE_FIELD}")
    if call_id:
        qs = qs.filter(proposal__call_id=call_id)
    return qs


def _tranches(user, call_id) -> QuerySet:
    return _of_projects(Tranche, user, call_id).order_by("proposal__call_id", "proposal__number", "position", "pk")


def _evaluations(user, call_id) -> QuerySet:
    return _of_projects(Evaluation, user, call_id).order_by(
        "proposal__call_id", "proposal__number", "kind", "attempt", "pk"
    )


def _reports(user, call_id) -> QuerySet:
    return _of_projects(ProgressReport, user, call_id).order_by(
        "proposal__call_id", "proposal__number", "period_start", "pk"
    )


def _places(proposals: QuerySet) -> dict[int, str]:
    """Each proposal's places, "凤凰街道、凤凰社区", for all the exported proposals: one query."""
    through = Proposal.places.through
    rows = (
        through.objects.filter(proposal_id__in=proposals.values("pk"))
        .order_by("proposal_id", "region__path")
        .values_list("proposal_id", "region__name")
    )
    found: dict[int, list[str]] = {}
    for pk, name in rows.iterator(chunk_size=5000):
        found.setdefault(pk, []).append(name)
    return {pk: "、".join(names) for pk, names in found.items()}


@dataclass(frozen=True)
class Kind:
    key: str
    label: str  # the sheet, the file name, the job's title
    noun: str  # what one row is: 个立项项目, 笔拨付 …
    columns: list
    rows: object  # rows(user, call_id) -> QuerySet of the model, ordered

    def fields(self) -> list[str]:
        keys = dict.fromkeys(k for c in self.columns for k in c.keys if k != "places")
        return ["pk", *keys]


KINDS = {
    k.key: k
    for k in (
        Kind("awards", "立项项目", "个立项项目", AWARD_COLUMNS, _awards),
        Kind("tranches", "拨付", "笔拨付", TRANCHE_COLUMNS, _tranches),
        Kind("evaluations", "评估", "次评估", EVALUATION_COLUMNS, _evaluations),
        Kind("reports", "进度报告", "份进度报告", REPORT_COLUMNS, _reports),
    )
}
KIND_CHOICES = [(k.key, k.label) for k in KINDS.values()]


def headers(kind: str) -> list[str]:
    return [c.header for c in KINDS[kind].columns]


def calls_for(user) -> QuerySet:
    """The calls a user may export from: those of their region subtree, newest first."""
    return scope(Call.objects.all(), user).order_by("-year", "level", "title", "pk")


def _checked(user, kind: str, call_id) -> tuple[Kind, Call | None]:
    if kind not in KINDS:
        raise ExportError("请选择要导出的数据：立项项目、拨付、评估或进度报告。")
    if call_id in (None, ""):
        return KINDS[kind], None
    try:
        pk = int(call_id)
    except (TypeError, ValueError):
        raise ExportError("所选征集无效，请重新选择。") from None
    call = calls_for(user).filter(pk=pk).only("id", "title", "year", "status").first()  # status: the FSM reads it
    if call is None:
        raise ExportError("所选征集不存在或不在您负责的区域内，请重新选择。")
    return KINDS[kind], call


def export_workbook(user, kind: str, call_id=None, *, progress=None) -> tuple[bytes, int]:
    """Write one kind's rows in the user's scope (of one call, if given) to .xlsx. Returns (bytes, rows)."""
    progress = progress or (lambda done, total: None)
    spec, call = _checked(user, kind, call_id)
    qs = spec.rows(user, call.pk if call else None)
    total = qs.count()
    progress(0, total)
    places = _places(qs) if kind == "awards" else {}
    wb = new_workbook()
    sheet = Sheet(
        wb,
        spec.label,
        [c.header for c in spec.columns],
        widths=[c.width for c in spec.columns],
        formats={i: c.fmt for i, c in enumerate(spec.columns) if c.fmt},
    )
    for row in qs.values(*spec.fields()).iterator(chunk_size=2000):
        row["places"] = places.get(row["pk"], "")
        sheet.append([c.show(*(row[k] for k in c.keys)) for c in spec.columns])
        progress(sheet.rows, total)
    return workbook_bytes(wb), sheet.rows


def _title(spec: Kind, call: Call | None) -> str:
    return (
        f"导出{spec.label}（{call.year}年 · {call.title}）" if call else f"导出{spec.label}（您负责区域内的全部征集）"
    )


@job_runner
def funding_export_job(job) -> JobOutcome:
    user = job.created_by
    if not can_export(user):
        raise JobError(DENIED)
    kind, call_id = job.params.get("kind", ""), job.params.get("call")
    spec, call = _checked(user, kind, call_id)
    content, rows = export_workbook(user, kind, call_id, progress=lambda d, t: job_progress(job, d, t))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return JobOutcome(
        message=f"导出完成，共 {rows} {spec.noun}。",
        content=content,
        filename=f"{spec.label}-{stamp}.xlsx",
        data={
            "rows": rows,
            "summary": [[f"导出{spec.label}数", rows]],
            "notes": [f"范围：{call.year}年 · {call.title}" if call else "范围：您负责区域内的全部征集"],
            "result_label": "导出文件",
        },
    )


def funding_export_start(*, user, kind: str, call_id=None):
    """Check permission, kind and call now (so the user hears at once), then queue the job."""
    if not can_export(user):
        raise PermissionDenied(DENIED)
    spec, call = _checked(user, kind, call_id)
    return job_start(
        kind=f"grants_{kind}_export",
        user=user,
        params={"kind": kind, "call": call.pk if call else None},
        runner=funding_export_job,
        title=_title(spec, call),
    )


JOB_KINDS = tuple(f"grants_{k}_export" for k in KINDS)
