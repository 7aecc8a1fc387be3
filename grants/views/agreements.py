"""项目协议 on the applicant's page (/me/proposals/<pk>/#agreement): the agreement's status,
number and amount (in figures and capitals), who confirmed when, the clauses; every member
of the organisation downloads the PDF (and the signed scan once uploaded); its 负责人
confirms the agreement (`confirm`, grants.services.agreements.agreement_confirm_by_org).

Only members of the proposal's organisation reach these (404 for anyone else); the
confirmation is the service's to refuse (a 项目联系人: 403 with the reason)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.errors import UserError
from core.files import serve_private
from core.numerals import capital_amount
from core.ui import error_text
from orgs.models import Membership
from orgs.selectors import member_role

from ..models import FUNDED_STATES, AgreementStatus, Proposal, ProposalStatus
from ..panels import PORTAL_PANELS, PagePanel, register_panel
from ..pdf_agreement import agreement_pdf_response
from ..services.agreements import agreement_confirm_by_org, agreement_of, scan_name

SHOWN_STATES = (ProposalStatus.APPROVED, *FUNDED_STATES)


def agreement_panel(proposal, user, bound) -> dict | None:
    """The panel's context: None (no query) before approval; before the agreement is drawn
    up, what happens next."""
    if proposal.status not in SHOWN_STATES:
        return None
    agreement = agreement_of(proposal)
    if agreement is None:
        return {"agreement": None}
    leader = member_role(user, proposal.organisation_id) == Membership.Role.LEADER
    return {
        "agreement": agreement,
        "capital": capital_amount(agreement.amount),
        "may_confirm": leader and agreement.status == AgreementStatus.DRAFT,
        "is_leader": leader,
        "pdf_url": reverse("grants:agreement_pdf", args=[proposal.pk]),
        "scan_url": reverse("grants:agreement_scan", args=[proposal.pk]) if agreement.signed_scan else "",
        "confirm_url": reverse("grants:agreement_confirm", args=[proposal.pk]),
    }


register_panel(PagePanel("agreement", "grants/portal/_agreement.html", agreement_panel, order=10), PORTAL_PANELS)


def _member_agreement(request, pk):
    proposal = get_object_or_404(Proposal.objects.select_related("call__region", "organisation"), pk=pk)
    if member_role(request.user, proposal.organisation_id) is None:
        raise Http404("没有找到这份申报书。")
    agreement = agreement_of(proposal)
    if agreement is None:
        raise Http404("该项目尚未生成项目协议。")
    return proposal, agreement


@require_POST
@login_required
def confirm(request, pk):
    proposal, agreement = _member_agreement(request, pk)
    try:
        agreement_confirm_by_org(agreement=agreement, by=request.user)
    except PermissionDenied as exc:
        raise PermissionDenied(error_text(exc))
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已确认项目协议，等待资助方签订。")
    return redirect(f"{proposal.get_absolute_url()}#agreement")


@never_cache
@require_GET
@login_required
def pdf(request, pk):
    _, agreement = _member_agreement(request, pk)
    return agreement_pdf_response(agreement)


@never_cache
@require_GET
@login_required
def scan(request, pk):
    _, agreement = _member_agreement(request, pk)
    return serve_private(agreement.signed_scan, download_name=scan_name(agreement), as_attachment=True)


urlpatterns = [
    path("<int:pk>/agreement/confirm/", confirm, name="agreement_confirm"),
    path("<int:pk>/agreement/pdf/", pdf, name="agreement_pdf"),
    path("<int:pk>/agreement/scan/", scan, name="agreement_scan"),
]
