"""进度报告 for staff: the 进度报告 section of a project's staff page (PAGE_PANELS), one
report's page (/admin/grants/reports/<pk>/), its photos and its 审阅 action.

The section lists the project's reports (drafts are the organisation's own and are not
shown) with what each spent, and the grant budget against the spending to date with the
variance per budget line; each submitted report offers 审阅 (a comment the organisation
reads) to a call manager of the call's region, through core.admin_actions (one
ActionScreen on ProgressReport, re-rendering the project's page with the form kept on an
error). Reports of a project outside the user's scope are a 404."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from wagtail.admin.auth import permission_required

from core.admin_actions import ActionScreen, action_groups
from core.admin_ui import admin_breadcrumbs
from core.files import serve_private

from ..models import ProgressReport, ProposalStatus, ReportPhoto, ReportStatus
from ..panels import PAGE_PANELS, PagePanel, register_panel
from ..rules import fmt_money
from ..selectors.proposals import proposal_for_staff
from ..selectors.reports import amount_of, grant_lines, kpi_table, spending_table, with_reports
from ..services import reports as report_services  # noqa: F401  (registers the 审阅 action)
from .proposals import VIEW_PERMISSION
from .proposals import _render as render_proposal_page

P = ProposalStatus
SHOWN_STATES = (*report_services.REPORTING_STATES, P.FINAL_EVALUATED, P.CLOSED, P.TERMINATED)
SECTION = ("申报项目", reverse_lazy("grants_admin:proposals"))


def _spent(report) -> str:
    return fmt_money(sum((amount_of(v) for v in (report.spending or {}).values()), Decimal("0")))


def reports_context(proposal, user, bound):
    """The project's submitted reports with their 审阅 action, and the spending table.
    None (no query) before the project is under way."""
    if proposal.status not in SHOWN_STATES:
        return None
    everything = list(with_reports(proposal).reports.all())
    reports = [r for r in everything if r.status != ReportStatus.DRAFT]
    drafts = len(everything) - len(reports)
    rows = []
    for r in reports:
        r.proposal = proposal  # the action's permission reads the call's region: no query
        rows.append(
            {
                "r": r,
                "spent": _spent(r),
                "groups": action_groups(r, user, bound=(bound or {}).get(r.pk)),
            }
        )
    return {
        "rows": rows,
        "drafts": drafts,
        "spending": spending_table(proposal, reports=reports),
        "url_name": "grants_admin:report_action",
    }


register_panel(
    PagePanel(key="reports", template="grants/admin/_reports_panel.html", context=reports_context, order=40),
    PAGE_PANELS,
)


# ---- one report ----------------------------------------------------------------------------------------


def report_for_staff(user, pk) -> ProgressReport:
    """A submitted report of a project in the user's scope (404 otherwise; a draft is the
    organisation's own)."""
    report = get_object_or_404(ProgressReport.objects.exclude(status=ReportStatus.DRAFT), pk=pk)
    report.proposal = proposal_for_staff(user, report.proposal_id)
    return report


def _render(request, report, *, bound=None, status=200):
    proposal = report.proposal
    others = [r for r in proposal.reports.all() if r.status != ReportStatus.DRAFT and r.pk != report.pk]
    earlier = [r for r in others if (r.period_start, r.pk) < (report.period_start, report.pk)]
    lines = grant_lines(proposal)
    table = spending_table(proposal, report=report, reports=earlier, lines=lines)
    context = {
        "header_title": f"进度报告：{proposal.title} · {report.period}",
        "header_icon": "doc-full",
        "breadcrumbs_items": admin_breadcrumbs(
            ("公益创投", None),
            ("申报项目", reverse("grants_admin:proposals")),
            (proposal.number or proposal.title, proposal.get_admin_url()),
            (report.period, None),
        ),
        "report": report,
        "proposal": proposal,
        "spending": table,
        "kpis": kpi_table(proposal, report=report, reports=earlier),
        "photos": list(report.photos.order_by("pk")),
        "action_groups": action_groups(report, request.user, bound={"review": bound} if bound else None),
    }
    return TemplateResponse(request, "grants/admin/report.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def report(request, pk):
    return _render(request, report_for_staff(request.user, pk))


@permission_required(VIEW_PERMISSION)
def report_photo(request, pk):
    """A photo of a submitted report of a project in the user's scope."""
    photo = get_object_or_404(ReportPhoto.objects.select_related("report"), pk=pk)
    report_for_staff(request.user, photo.report_id)
    ext = photo.image.name.rsplit(".", 1)[-1] if "." in photo.image.name else "jpg"
    return serve_private(photo.image, download_name=f"{photo.caption or '活动照片'}.{ext}")


report_actions = ActionScreen(
    model=ProgressReport,
    get_object=lambda request, pk: report_for_staff(request.user, pk),
    render=lambda request, r, *, bound=None, status=200: render_proposal_page(
        request, proposal_for_staff(request.user, r.proposal_id), panel_bound={"reports": {r.pk: bound}}, status=status
    ),
    view_permission=VIEW_PERMISSION,
    forbidden_text=lambda action: f"您没有“{action.label}”的权限：须由征集所在区域的业务主管（民政）审阅进度报告。",
    success_url=lambda r, action, result: reverse("grants_admin:proposal", args=[r.proposal_id]) + "#reports",
    back_label=lambda r: str(r.proposal),
    section=SECTION,
)


urlpatterns = [
    path("reports/<int:pk>/", report, name="report"),
    path("reports/photos/<int:pk>/", report_photo, name="report_photo"),
    path("reports/<int:pk>/<slug:action>/", report_actions.as_view(), name="report_action"),
]
