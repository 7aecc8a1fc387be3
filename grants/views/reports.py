"""/me/proposals/<pk>/reports/: the organisation's progress reports (进度报告).

- the 进度报告 panel on the project's page (PORTAL_PANELS): its reports with their status,
  spending to date against the grant budget, and 新建报告 while the project is under way;
- `report_new`: the period of a new report (POST creates the draft);
- `report`: one report. A draft, for the 负责人 or 项目联系人: the form (the report's own
  fields, the spending table of the grant-funded budget lines with the budget, spent
  before and the variance, the KPI table with the target and the % reached, the photos
  each with 可以公开), saved with 保存 or 提交报告; errors in Chinese beside the fields,
  with everything typed kept. Anyone else in the organisation, and every submitted
  report: the same read only, with the staff's comment;
- a photo's download (members only) and its removal from a draft.

Only members of the project's organisation see any of it (404 for anyone else). Thin
views over grants.services.reports and grants.selectors.reports."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.errors import UserError
from core.files import serve_private
from core.ui import error_text
from orgs.selectors import member_role

from ..forms.reports import ReportForm, ReportStartForm
from ..models import ProgressReport, Proposal, ProposalStatus, ReportPhoto, ReportStatus
from ..panels import PORTAL_PANELS, PagePanel, register_panel
from ..rules import fmt_money
from ..selectors.reports import amount_of, grant_lines, kpi_table, spending_table
from ..services import reports as services

P = ProposalStatus
# the project states whose page shows the reports (written while under way, read after)
SHOWN_STATES = (*services.REPORTING_STATES, P.FINAL_EVALUATED, P.CLOSED, P.TERMINATED)


def _project(request, pk) -> tuple[Proposal, str]:
    proposal = get_object_or_404(
        Proposal.objects.select_related("call__region", "organisation").prefetch_related("budget_lines", "kpis"),
        pk=pk,
    )
    role = member_role(request.user, proposal.organisation_id)
    if role is None:
        raise Http404("没有找到这个项目。")
    return proposal, role


def _report(request, pk, report_pk) -> tuple[Proposal, str, ProgressReport]:
    proposal, role = _project(request, pk)
    report = get_object_or_404(ProgressReport, pk=report_pk, proposal=proposal)
    report.proposal = proposal
    return proposal, role, report


def _reports(proposal) -> list[ProgressReport]:
    reports = list(proposal.reports.order_by("period_start", "pk"))
    for r in reports:
        r.proposal = proposal
    return reports


# ---- the panel on the project's page ------------------------------------------------------------


def reports_panel(proposal, user, bound):
    if proposal.status not in SHOWN_STATES:
        return None
    reports = _reports(proposal)
    for r in reports:
        r.spent_text = fmt_money(sum((amount_of(v) for v in (r.spending or {}).values()), Decimal("0")))
    editor = services.may_edit(user, proposal)
    table = spending_table(proposal, reports=[r for r in reports if r.status != ReportStatus.DRAFT])
    return {
        "reports": reports,
        "spending": table,
        "may_start": editor and proposal.status in services.REPORTING_STATES,
        "may_edit": editor,
        "cadence": proposal.call.get_report_cadence_display(),
    }


register_panel(
    PagePanel(key="reports", template="grants/portal/reports_panel.html", context=reports_panel, order=40),
    PORTAL_PANELS,
)


# ---- a new report -----------------------------------------------------------------------------------


@login_required
def report_new(request, pk):
    proposal, role = _project(request, pk)
    if role not in services.EDITOR_ROLES:
        raise PermissionDenied(services.EDITOR_DENIED)
    try:
        services.require_reporting(proposal)
    except UserError as exc:
        messages.error(request, exc.message)
        return redirect(f"{proposal.get_absolute_url()}#reports")
    form = ReportStartForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report = services.report_start(proposal=proposal, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _errors_onto(form, exc)
            except (UserError, PermissionDenied) as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, f"已新建“{report.period}”的进度报告，请填写后提交。")
                return redirect("grants:report", pk=proposal.pk, report_pk=report.pk)
        status = 400
    context = {"proposal": proposal, "call": proposal.call, "form": form}
    return render(request, "grants/portal/report_new.html", context, status=status)


def _errors_onto(form, exc) -> None:
    for key, errs in exc.message_dict.items():
        form.add_error(key if key in form.fields else None, errs)


# ---- one report ---------------------------------------------------------------------------------------


def _page(request, proposal, role, report, *, form=None, status=200, notice=""):
    photos = list(report.photos.order_by("pk"))
    lines = grant_lines(proposal)
    editable = (
        report.status == ReportStatus.DRAFT
        and role in services.EDITOR_ROLES
        and proposal.status in services.REPORTING_STATES
    )
    counted = [r for r in _reports(proposal) if r.status != ReportStatus.DRAFT and r.pk != report.pk]
    # the spending before this report's period, and with what this report says (typed or saved)
    shown = report
    if form is not None and form.is_bound:
        shown = ProgressReport(
            pk=report.pk,
            period_start=report.period_start,
            spending=_typed(form, lines, "spending"),
            kpi_progress=_typed(form, proposal.kpis.all(), "kpi"),
        )
    table = spending_table(proposal, report=shown, reports=counted, lines=lines)
    kpis = kpi_table(proposal, report=shown, reports=counted)
    if editable and form is None:
        form = ReportForm(report=report, lines=lines, kpis=list(proposal.kpis.all()), photos=photos)
    rows = []
    for row in table.rows:
        field = form[f"spending_{row.line.pk}"] if editable else None
        rows.append({"row": row, "field": field, "before_text": fmt_money(row.to_date - (row.this_period or 0))})
    kpi_rows = [{"row": k, "field": form[f"kpi_{k.kpi.pk}"] if editable else None} for k in kpis]
    context = {
        "proposal": proposal,
        "call": proposal.call,
        "report": report,
        "form": form if editable else None,
        "editable": editable,
        "may_edit": role in services.EDITOR_ROLES,
        "rows": rows,
        "totals": table.total,
        "kpis": kpi_rows,
        "photos": photos,
        "photo_rows": form.photo_fields() if editable else [(p, None, None) for p in photos],
        "notice": notice,
        "problems": services.report_problems(report) if editable else {},
    }
    return render(request, "grants/portal/report.html", context, status=status)


def _locked(proposal, report) -> str:
    """Why the report cannot be changed now ("" while it can)."""
    try:
        services.require_reporting(proposal)
    except UserError as exc:
        return exc.message
    if report.status != ReportStatus.DRAFT:
        return f"这份进度报告{report.get_status_display()}，不能再修改。"
    return ""


def _typed(form, items, prefix) -> dict:
    values = {}
    for item in items:
        raw = (form.data.get(form.add_prefix(f"{prefix}_{item.pk}")) or "").strip()
        if raw:
            values[str(item.pk)] = raw
    return values


@never_cache
@login_required
def report(request, pk, report_pk):
    proposal, role, report = _report(request, pk, report_pk)
    if request.method != "POST":
        return _page(request, proposal, role, report)
    if role not in services.EDITOR_ROLES:
        raise PermissionDenied(services.EDITOR_DENIED)
    url = reverse("grants:report", args=[proposal.pk, report.pk])
    locked = _locked(proposal, report)
    if locked:
        messages.error(request, locked)
        return redirect(url)
    photos = list(report.photos.order_by("pk"))
    form = ReportForm(
        request.POST,
        request.FILES,
        report=report,
        lines=grant_lines(proposal),
        kpis=list(proposal.kpis.all()),
        photos=photos,
    )
    action = request.POST.get("action", "save")
    if not form.is_valid():
        return _page(request, proposal, role, report, form=form, status=400, notice=_not_saved(form))
    saved = False
    try:
        services.report_save(report=report, by=request.user, **form.service_kwargs())
        saved = True
        if action == "submit":
            services.report_submit(report=report, by=request.user)
    except ValidationError as exc:
        if saved:  # the draft holds what was typed: the page shows it, with what is missing
            report = ProgressReport.objects.get(pk=report.pk)
            report.proposal = proposal
            notice = "已保存，但还不能提交：" + error_text(exc)
            return _page(request, proposal, role, report, status=400, notice=notice)
        form.apply_service_errors(exc)
        return _page(request, proposal, role, report, form=form, status=400, notice=_not_saved(form))
    except (UserError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
        return redirect(url)
    if action == "submit":
        messages.success(request, f"“{report.period}”的进度报告已提交，业务主管审阅后您会收到通知。")
        return redirect(f"{proposal.get_absolute_url()}#reports")
    messages.success(request, "进度报告已保存，提交前可以继续修改。")
    return redirect(url)


def _not_saved(form) -> str:
    return "进度报告没有保存：请按提示修改标红的栏目，您填写的内容都还在。" + (
        "（选择的照片需要重新选择。）" if form.files.get(form.add_prefix("photo")) else ""
    )


# ---- photos -------------------------------------------------------------------------------------------------


def _photo(request, pk, report_pk, photo_pk):
    proposal, role, report = _report(request, pk, report_pk)
    photo = get_object_or_404(ReportPhoto, pk=photo_pk, report=report)
    photo.report = report
    return proposal, role, report, photo


@never_cache
@login_required
def report_photo(request, pk, report_pk, photo_pk):
    _, _, _, photo = _photo(request, pk, report_pk, photo_pk)
    ext = photo.image.name.rsplit(".", 1)[-1] if "." in photo.image.name else "jpg"
    return serve_private(photo.image, download_name=f"{photo.caption or '活动照片'}.{ext}")


@require_POST
@login_required
def report_photo_delete(request, pk, report_pk, photo_pk):
    proposal, role, report, photo = _photo(request, pk, report_pk, photo_pk)
    try:
        services.photo_remove(photo=photo, by=request.user)
    except PermissionDenied as exc:
        raise PermissionDenied(error_text(exc)) from None
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已删除照片。")
    return redirect(reverse("grants:report", args=[proposal.pk, report.pk]) + "#photos")


urlpatterns = [
    path("<int:pk>/reports/new/", report_new, name="report_new"),
    path("<int:pk>/reports/<int:report_pk>/", report, name="report"),
    path("<int:pk>/reports/<int:report_pk>/photos/<int:photo_pk>/", report_photo, name="report_photo"),
    path(
        "<int:pk>/reports/<int:report_pk>/photos/<int:photo_pk>/delete/",
        report_photo_delete,
        name="report_photo_delete",
    ),
]
