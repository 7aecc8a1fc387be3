"""项目协议 on a project's staff page (/admin/grants/proposals/<pk>/#agreement): the
agreement's status, number, amount in figures and capitals, who signed when, the scan, the
clauses, the PDF, and the actions its state allows (修改协议条款, 资助方签订, 上传签字盖章件),
posted to `grants_admin:agreement_action` (core.admin_actions); drawing it up is an action
of the proposal itself (grants.services.agreements.agreement_draw_up).

Downloads (the PDF, the signed scan) are checked like the page: staff who may see the
proposal in their region (grants.selectors.proposals.proposal_for_staff), a 404 elsewhere."""

from django.shortcuts import get_object_or_404
from django.urls import path, reverse, reverse_lazy
from django.views.decorators.http import require_GET
from wagtail.admin.auth import permission_required

from core.admin_actions import ActionScreen, action_groups
from core.files import serve_private
from core.numerals import capital_amount

from ..models import FUNDED_STATES, Agreement, ProposalStatus
from ..panels import PAGE_PANELS, PagePanel, register_panel
from ..pdf_agreement import agreement_pdf_response
from ..selectors.proposals import proposal_for_staff
from ..services.agreements import agreement_of, may_manage, scan_name
from .proposals import VIEW_PERMISSION, _render

P = ProposalStatus
# the project states whose page shows the agreement (approved: to draw it up)
SHOWN_STATES = (P.APPROVED, *FUNDED_STATES)
# the organisation's own action, offered on its page, never here (and its check costs a query)
APPLICANT_ACTIONS = ("confirm-by-org",)


def _initial(agreement):
    return lambda action: {"clauses": agreement.clauses} if action.slug == "update-clauses" else None


def agreement_panel(proposal, user, bound) -> dict | None:
    """The panel's context; None (no query) before the project is approved."""
    if proposal.status not in SHOWN_STATES:
        return None
    agreement = agreement_of(proposal)
    if agreement is None:
        return {"agreement": None, "may_manage": may_manage(user, proposal)}
    return {
        "agreement": agreement,
        "capital": capital_amount(agreement.amount),
        "groups": action_groups(agreement, user, bound=bound, initial=_initial(agreement), exclude=APPLICANT_ACTIONS),
        "action_url_name": "grants_admin:agreement_action",
        "pdf_url": reverse("grants_admin:agreement_pdf", args=[agreement.pk]),
        "scan_url": reverse("grants_admin:agreement_scan", args=[agreement.pk]) if agreement.signed_scan else "",
        "may_manage": may_manage(user, proposal),
    }


register_panel(PagePanel("agreement", "grants/admin/_agreement.html", agreement_panel, order=10), PAGE_PANELS)


# ---- the agreement's actions and downloads --------------------------------------------------------------


def agreement_for_staff(request, pk) -> Agreement:
    """The agreement of a proposal in the user's scope (404 otherwise), its proposal the
    one the page reads."""
    agreement = get_object_or_404(Agreement.objects.select_related("org_signed_by", "funder_signed_by"), pk=pk)
    agreement.proposal = proposal_for_staff(request.user, agreement.proposal_id)
    return agreement


def _render_page(request, agreement, *, bound=None, status=200):
    proposal = proposal_for_staff(request.user, agreement.proposal_id)
    return _render(request, proposal, panel_bound={"agreement": bound}, status=status)


agreement_actions = ActionScreen(
    model=Agreement,
    get_object=agreement_for_staff,
    render=_render_page,
    view_permission=VIEW_PERMISSION,
    forbidden_text=lambda action: (
        f"您没有“{action.label}”的权限：项目协议由征集所在区域的业务主管（民政）办理，"
        "申报单位的确认由其负责人在申报系统中完成。"
    ),
    success_url=lambda agreement, action, result: (
        reverse("grants_admin:proposal", args=[agreement.proposal_id]) + "#agreement"
    ),
    back_label=lambda agreement: str(agreement.proposal),
    section=("申报项目", reverse_lazy("grants_admin:proposals")),
    initial=lambda agreement, action: _initial(agreement)(action),
)


@require_GET
@permission_required(VIEW_PERMISSION)
def agreement_pdf(request, pk):
    """The agreement as a printable A4 PDF (grants.pdf_agreement)."""
    return agreement_pdf_response(agreement_for_staff(request, pk))


@require_GET
@permission_required(VIEW_PERMISSION)
def agreement_scan(request, pk):
    """The scan of the agreement both sides signed, as a download."""
    agreement = agreement_for_staff(request, pk)
    return serve_private(agreement.signed_scan, download_name=scan_name(agreement), as_attachment=True)


urlpatterns = [
    path("agreements/<int:pk>/pdf/", agreement_pdf, name="agreement_pdf"),
    path("agreements/<int:pk>/scan/", agreement_scan, name="agreement_scan"),
    path("agreements/<int:pk>/<slug:action>/", agreement_actions.as_view(), name="agreement_action"),
]
