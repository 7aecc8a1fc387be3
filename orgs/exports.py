"""Excel export of the registry: exactly what the staff list shows.

The rows are `organisations_for_staff(user)` (the user's region subtree) narrowed by the
admin list's own `RegistryFilterSet` (`registry_filter`), so an export never holds more
than the screen. Every cell is written through core.excel, so text is never a formula. The first columns are the import template's, with the same headers,
so an exported file can be corrected and imported back; status, grade and inspection
columns follow (the importer ignores them). 开户银行/账户名称/银行账号 are included only for
users who may change organisations (`orgs.change_organisation`).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Region
from core.errors import UserError
from core.excel import DATE, DATETIME, MONEY, Sheet, new_workbook, workbook_bytes
from core.jobs import JobError, JobOutcome, job_progress, job_runner, job_start

from .filters import REGISTRY_FILTER_KEYS, RegistryFilterSet
from .imports import COLUMNS
from .models import AnnualInspection, Organisation, OrganisationStatus, OrgType
from .selectors import organisations_for_staff

EXPORT_PERMISSION = "orgs.export_organisation"
BANK_PERMISSION = "orgs.change_organisation"
BANK_KEYS = {"bank_name", "bank_account_name", "bank_account"}
FILTER_KEYS = REGISTRY_FILTER_KEYS


class ExportError(UserError):
    """The export cannot be made (no permission, bad filters)."""


def can_export(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(EXPORT_PERMISSION))


def can_see_bank(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(BANK_PERMISSION))


def clean_filters(querydict) -> dict:
    """Keep only the registry filters from a request's query or POST data (JSON-serialisable, for params)."""
    return {k: querydict.get(k, "") for k in FILTER_KEYS if querydict.get(k, "") not in ("", None)}


def registry_filter(user, filters: dict) -> RegistryFilterSet:
    """The registry list's own FilterSet over the user's scoped registry: the one place the
    export's rows are chosen, so an export holds exactly what the list shows."""
    return RegistryFilterSet(filters or {}, queryset=organisations_for_staff(user), user=user)


def export_queryset(user, filters: dict) -> QuerySet:
    """The user's scoped registry narrowed by the list filters. Raises ExportError in Chinese
    when a filter is invalid (e.g. a region outside the user's scope)."""
    filterset = registry_filter(user, filters)
    if not filterset.is_valid():
        form = filterset.form
        problems = "；".join(f"{form.fields[k].label}：{'、'.join(v)}" for k, v in form.errors.items())
        raise ExportError(f"筛选条件无效：{problems}")
    return filterset.qs.prefetch_related("service_areas").order_by("region__path", "name", "pk")


def filter_description(filters: dict) -> str:
    return RegistryFilterSet(filters or {}, queryset=Organisation.objects.none()).description()


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


WIDTHS = {"名称": 36, "住所": 30, "简介": 40, "统一社会信用代码": 22, "银行账号": 24, "所属区域": 24}
FORMATS = {"成立日期": DATE, "认证时间": DATETIME, "更新时间": DATETIME, "注册资金": MONEY}


def export_workbook(user, filters: dict, *, progress=None) -> tuple[bytes, int]:
    """Write the filtered, scoped registry to .xlsx (write-only mode). Returns (bytes, rows)."""
    progress = progress or (lambda done, total: None)
    qs = export_queryset(user, filters)
    total = qs.count()
    progress(0, total)
    columns = export_columns(user)
    ctx = {"regions": _region_names()}
    headers = [header for header, _ in columns]

    wb = new_workbook()
    sheet = Sheet(
        wb,
        "社会组织",
        headers,
        widths=[WIDTHS.get(h, 14) for h in headers],
        formats={i: FORMATS[h] for i, h in enumerate(headers) if h in FORMATS},
    )
    for org in qs.iterator(chunk_size=2000):
        sheet.append([getter(org, ctx) for _, getter in columns])
        progress(sheet.rows, total)
    return workbook_bytes(wb), sheet.rows


@job_runner
def export_job(job) -> JobOutcome:
    user = job.created_by
    if not can_export(user):
        raise JobError("您没有导出社会组织名录的权限。")
    filters = job.params.get("filters", {})
    content, rows = export_workbook(user, filters, progress=lambda d, t: job_progress(job, d, t))
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
