"""Excel export of the staff proposal list (/admin/grants/proposals/): exactly what the list shows.

The rows are `proposals_for_staff(user)` (the proposals to the calls of the user's region
subtree, no drafts) narrowed by the list's own `ProposalFilterSet` (`proposal_filter`),
in the list's default order (newest submission first), so an export never holds more than
the screen. Every cell is written through core.excel: text is never a formula, money is a
Decimal with a money format, dates are dates.

Permission: any user holding `grants.view_proposal` (the permission that shows the list)
may export what they see; the region scope decides which rows. One click on the list's
导出 Excel button POSTs its filters to grants/staff/exports.py; the work runs as a background
job (core.jobs) and the file is downloaded from the job's page.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import Region
from core.dates import chinese_date
from core.errors import UserError
from core.excel import DATE, DATETIME, MONEY, Sheet, new_workbook, workbook_bytes
from core.jobs import JobError, JobOutcome, job_progress, job_runner, job_start
from orgs.models import OrgType

from .filters import ProposalFilterSet
from .models import CallLevel, ProposalStatus
from .selectors.proposals import proposals_for_staff

EXPORT_PERMISSION = "grants.view_proposal"
MONTH = "yyyy-mm"
SHARE = "0.00%"


def _data_keys() -> tuple[str, ...]:
    """The query keys the filters read: a range filter's widget reads `<name>_<suffix>`
    (提交日期: submitted_at_from, submitted_at_to)."""
    keys = []
    for name, f in ProposalFilterSet.base_filters.items():
        suffixes = getattr(f.extra.get("widget"), "suffixes", None)
        keys += [f"{name}_{s}" if s else name for s in suffixes] if suffixes else [name]
    return tuple(keys)


FILTER_KEYS = _data_keys()


class ExportError(UserError):
    """The export cannot be made (bad filters)."""


def can_export(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(EXPORT_PERMISSION))


def clean_filters(querydict) -> dict:
    """Keep only the list's filters from a request's query or POST data (JSON-serialisable, for params)."""
    return {k: querydict.get(k, "") for k in FILTER_KEYS if querydict.get(k, "") not in ("", None)}


def proposal_filter(user, filters: dict) -> ProposalFilterSet:
    """The list's own FilterSet over the user's scoped proposals: the one place the export's
    rows are chosen, so an export holds exactly what the list shows."""
    return ProposalFilterSet(filters or {}, queryset=proposals_for_staff(user), user=user)


def valid_filter(user, filters: dict) -> ProposalFilterSet:
    """The FilterSet, validated; ExportError in Chinese when a filter is invalid (e.g. a call
    outside the user's scope, an amount range upside down)."""
    filterset = proposal_filter(user, filters)
    if not filterset.is_valid():
        form = filterset.form
        problems = "；".join(
            f"{form.fields[k].label}：{'、'.join(v)}" if k in form.fields else "、".join(v)
            for k, v in form.errors.items()
        )
        raise ExportError(f"筛选条件无效：{problems}")
    return filterset


def export_queryset(filterset: ProposalFilterSet) -> QuerySet:
    """The rows with everything a row reads: one query for the rows, one for the places."""
    places = Prefetch("places", queryset=Region.objects.only("id", "name", "path").order_by("path"))
    return (
        filterset.qs.select_related("call", "organisation", "category")
        .prefetch_related(places)
        .order_by("-submitted_at", "-pk")
    )


def _shown(field, value) -> str:
    if isinstance(value, slice):  # a date range: datetimes at the start and the end of the days chosen
        ends = [
            chinese_date(v.date() if isinstance(v, datetime.datetime) else v) if v else ""
            for v in (value.start, value.stop)
        ]
        return f"{ends[0] or '不限'}至{ends[1] or '不限'}"
    if value is True:
        return "是"
    for attr in ("label", "name"):  # a call option, a region or a service area
        if hasattr(value, attr):
            return str(getattr(value, attr))
    choices = getattr(field, "choices", None)
    if choices is not None:
        return {str(k): v for k, v in choices}.get(str(value), str(value))
    return str(value)


def filter_description(filterset: ProposalFilterSet) -> str:
    """The valid filters in words: 状态：已提交（待资格审查），搜索：老宝贝."""
    parts = []
    for key, value in filterset.form.cleaned_data.items():
        if value in ("", None, False) or (isinstance(value, slice) and value.start is None and value.stop is None):
            continue
        field = filterset.form.fields[key]
        parts.append(f"{field.label}：{_shown(field, value)}")
    return "，".join(parts)


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _fraction(percent):
    return percent / 100 if percent is not None else None


ORG_TYPES = dict(OrgType.choices)
LEVELS = dict(CallLevel.choices)
STATUSES = dict(ProposalStatus.choices)

#: (header, getter(proposal), width, number format); getters read only loaded data
COLUMNS = [
    ("申报编号", lambda p: p.number, 18, None),
    ("项目名称", lambda p: p.title, 36, None),
    ("申报组织", lambda p: p.organisation.name, 30, None),
    ("统一社会信用代码", lambda p: p.organisation.uscc or "", 22, None),
    ("组织类型", lambda p: ORG_TYPES.get(p.organisation.org_type, p.organisation.org_type), 16, None),
    ("征集", lambda p: p.call.title, 36, None),
    ("层级", lambda p: LEVELS.get(p.call.level, p.call.level), 12, None),
    ("年度", lambda p: p.call.year, 8, None),
    ("服务领域", lambda p: p.category.name if p.category else "", 14, None),
    ("实施地点", lambda p: "、".join(r.name for r in p.places.all()), 24, None),
    ("开始年月", lambda p: p.start_month, 10, MONTH),
    ("结束年月", lambda p: p.end_month, 10, MONTH),
    ("直接受益人数", lambda p: p.beneficiaries_direct, 10, None),
    ("间接受益人数", lambda p: p.beneficiaries_indirect, 10, None),
    ("项目总预算", lambda p: p.budget_total, 14, MONEY),
    ("申请资助", lambda p: p.grant_amount, 14, MONEY),
    ("自筹", lambda p: p.self_funded, 14, MONEY),
    ("人员费用", lambda p: p.personnel_amount, 14, MONEY),
    ("资助占比", lambda p: _fraction(p.grant_share), 10, SHARE),
    ("人员费用占比", lambda p: _fraction(p.personnel_share), 10, SHARE),
    ("状态", lambda p: STATUSES.get(p.status, p.status), 18, None),
    ("提交时间", lambda p: _local(p.submitted_at), 17, DATETIME),
    ("审查意见", lambda p: p.status_reason, 36, None),
    ("补正截止", lambda p: p.correction_deadline, 12, DATE),
]
HEADERS = [c[0] for c in COLUMNS]


def export_workbook(user, filters: dict, *, progress=None) -> tuple[bytes, int]:
    """Write the filtered, scoped proposals to .xlsx (write-only mode). Returns (bytes, rows)."""
    progress = progress or (lambda done, total: None)
    qs = export_queryset(valid_filter(user, filters))
    total = qs.count()
    progress(0, total)
    wb = new_workbook()
    sheet = Sheet(
        wb,
        "申报项目",
        HEADERS,
        widths=[c[2] for c in COLUMNS],
        formats={i: c[3] for i, c in enumerate(COLUMNS) if c[3]},
    )
    for proposal in qs.iterator(chunk_size=2000):
        sheet.append([c[1](proposal) for c in COLUMNS])
        progress(sheet.rows, total)
    return workbook_bytes(wb), sheet.rows


@job_runner
def export_job(job) -> JobOutcome:
    user = job.created_by
    if not can_export(user):
        raise JobError("您没有导出申报项目的权限。")
    filters = job.params.get("filters", {})
    content, rows = export_workbook(user, filters, progress=lambda d, t: job_progress(job, d, t))
    described = filter_description(valid_filter(user, filters))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return JobOutcome(
        message=f"导出完成，共 {rows} 个申报项目。",
        content=content,
        filename=f"申报项目-{stamp}.xlsx",
        data={
            "rows": rows,
            "summary": [["导出申报项目数", rows]],
            "notes": [f"筛选条件：{described}" if described else "筛选条件：无（您负责区域内的全部申报项目）"],
            "result_label": "导出文件",
        },
    )


def export_start(*, user, filters: dict):
    """Check permission and filters now (so the user hears at once), then queue the job."""
    if not can_export(user):
        raise PermissionDenied("您没有导出申报项目的权限。")
    described = filter_description(valid_filter(user, filters))  # the query itself runs in the job
    return job_start(
        kind="grants_proposals_export",
        user=user,
        params={"filters": filters},
        runner=export_job,
        title="导出申报项目" + (f"（{described}）" if described else ""),
    )
