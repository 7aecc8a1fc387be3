"""Excel export of the registry: exactly what the staff list shows.

The rows are `organisations_for_staff(user)` (the user's region subtree) narrowed by the
same `RegistryFilterForm`/`filter_registry` as the admin list, so an export never holds
more than the screen. The first columns are the import template's, with the same headers,
so an exported file can be corrected and imported back; status, grade and inspection
columns follow (the importer ignores them). 开户银行/账户名称/银行账号 are included only for
users who may change organisations (`orgs.change_organisation`).
"""

import io

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Region
from accounts.selectors import regions_for
from core.errors import UserError
from core.jobs import JobError, JobOutcome, job_progress, job_runner, job_start

from .filters import RegistryFilterForm, filter_registry
from .imports import COLUMNS
from .models import AnnualInspection, OrganisationStatus, OrgType
from .selectors import organisations_for_staff

EXPORT_PERMISSION = "orgs.export_organisation"
BANK_PERMISSION = "orgs.change_organisation"
BANK_KEYS = {"bank_name", "bank_account_name", "bank_account"}
FILTER_KEYS = tuple(RegistryFilterForm.base_fields)


class ExportError(UserError):
    """The export cannot be made (no permission, bad filters)."""


def can_export(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(EXPORT_PERMISSION))


def can_see_bank(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(BANK_PERMISSION))


def clean_filters(querydict) -> dict:
    """Keep only the registry filters from a request's GET (JSON-serialisable, for params)."""
    return {k: querydict.get(k, "") for k in FILTER_KEYS if querydict.get(k, "") not in ("", None)}


def export_queryset(user, filters: dict) -> QuerySet:
    """The user's scoped registry narrowed by the list filters. Raises ExportError in Chinese
    when a filter is invalid (e.g. a region outside the user's scope)."""
    form = RegistryFilterForm(data=filters or {}, regions=regions_for(user))
    if not form.is_valid():
        problems = "；".join(f"{form.fields[k].label}：{'、'.join(v)}" for k, v in form.errors.items())
        raise ExportError(f"筛选条件无效：{problems}")
    qs = filter_registry(organisations_for_staff(user), form.cleaned_data)
    return qs.prefetch_related("service_areas").order_by("region__path", "name", "pk")


def filter_description(filters: dict) -> str:
    form = RegistryFilterForm(data=filters or {}, regions=Region.objects.all())
    if not form.is_valid():
        return ""
    parts = []
    for key, value in form.cleaned_data.items():
        if value in ("", None):
            continue
        field = form.fields[key]
        if key == "region":
            shown = value.name
        elif hasattr(field, "choices"):
            shown = dict(field.choices).get(value, value)
        else:
            shown = value
        parts.append(f"{field.label}：{shown}")
    return "，".join(parts)


def _region_names() -> dict[int, str]:
    regions = list(Region.objects.only("id", "path", "depth", "name"))
    by_path = {r.path: r for r in regions}
    step = Region.steplen
    return {
        r.pk: "".join(by_path[r.path[: i * step]].name for i in range(1, r.depth + 1) if r.path[: i * step] in by_path)
        for r in regions
    }


def export_columns(user) -> list[tuple[str, object]]:
    """(header, getter(org, ctx)) pairs; getters read only prefetched data."""
    types = dict(OrgType.choices)
    statuses = dict(OrganisationStatus.choices)
    results = dict(AnnualInspection.Result.choices)
    show_bank = can_see_bank(user)
    getters = {
        "org_type": lambda o, ctx: types.get(o.org_type, o.org_type),
        "uscc": lambda o, ctx: o.uscc or "",
        "region": lambda o, ctx: ctx["regions"].get(o.region_id, ""),
        "service_areas": lambda o, ctx: "、".join(a.name for a in o.service_areas.all()),
        "founded_on": lambda o, ctx: o.founded_on,
        "registered_capital": lambda o, ctx: o.registered_capital,
    }
    columns = []
    for c in COLUMNS:
        if c.key in BANK_KEYS and not show_bank:
            continue
        getter = getters.get(c.key) or (lambda o, ctx, k=c.key: getattr(o, k) or "")
        columns.append((c.header, getter))
    columns += [
        ("登记状态", lambda o, ctx: statuses.get(o.status, o.status)),
        ("评估等级", lambda o, ctx: o.latest_grade),
        ("最近年检年度", lambda o, ctx: o.latest_inspection_year),
        ("最近年检结果", lambda o, ctx: results.get(o.latest_inspection_result, o.latest_inspection_result)),
        ("认证时间", lambda o, ctx: timezone.localtime(o.verified_at).replace(tzinfo=None) if o.verified_at else None),
        ("更新时间", lambda o, ctx: timezone.localtime(o.updated_at).replace(tzinfo=None) if o.updated_at else None),
    ]
    return columns


def export_workbook(user, filters: dict, *, progress=None) -> tuple[bytes, int]:
    """Write the filtered, scoped registry to .xlsx (write-only mode). Returns (bytes, rows)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    progress = progress or (lambda done, total: None)
    qs = export_queryset(user, filters)
    total = qs.count()
    progress(0, total)
    columns = export_columns(user)
    ctx = {"regions": _region_names()}

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("社会组织")
    widths = {"名称": 36, "住所": 30, "简介": 40, "统一社会信用代码": 22, "银行账号": 24, "所属区域": 24}
    for i, (header, _) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(header, 14)
    ws.freeze_panes = "B2"
    bold = Font(bold=True)
    head = []
    for header, _ in columns:
        cell = WriteOnlyCell(ws, value=header)
        cell.font = bold
        head.append(cell)
    ws.append(head)

    date_cols = {i for i, (h, _) in enumerate(columns) if h == "成立日期"}
    time_cols = {i for i, (h, _) in enumerate(columns) if h in ("认证时间", "更新时间")}
    money_cols = {i for i, (h, _) in enumerate(columns) if h == "注册资金"}
    done = 0
    for org in qs.iterator(chunk_size=2000):
        row = []
        for i, (_, getter) in enumerate(columns):
            value = getter(org, ctx)
            if i in date_cols or i in time_cols or i in money_cols:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = (
                    "yyyy-mm-dd" if i in date_cols else "yyyy-mm-dd hh:mm" if i in time_cols else "#,##0.00"
                )
                row.append(cell)
            else:
                row.append(value)
        ws.append(row)
        done += 1
        progress(done, total)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), done


@job_runner
def export_job(job) -> JobOutcome:
    user = job.created_by
    if not can_export(user):
        raise JobError("您没有导出社会组织名录的权限。")
    filters = job.params.get("filters", {})
    try:
        content, rows = export_workbook(user, filters, progress=lambda d, t: job_progress(job, d, t))
    except ExportError as e:
        raise JobError(e.message)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    described = filter_description(filters)
    notes = [f"筛选条件：{described}" if described else "筛选条件：无（您管辖范围内的全部组织）"]
    if not can_see_bank(user):
        notes.append("按权限设置，导出文件不含开户银行和银行账号。")
    return JobOutcome(
        message=f"导出完成，共 {rows} 个组织。",
        content=content,
        filename=f"社会组织名录-{stamp}.xlsx",
        data={"rows": rows, "summary": [["导出组织数", rows]], "notes": notes, "result_label": "导出文件"},
    )


def export_start(*, user, filters: dict):
    """Check permission and filters now (so the user hears at once), then queue the job."""
    if not can_export(user):
        raise PermissionDenied("您没有导出社会组织名录的权限。")
    export_queryset(user, filters)  # validates the filters; the query itself runs in the job
    described = filter_description(filters)
    return job_start(
        kind="orgs_export",
        user=user,
        params={"filters": filters},
        runner=export_job,
        title="导出社会组织名录" + (f"（{described}）" if described else ""),
    )
