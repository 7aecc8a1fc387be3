"""The staff review page of one organisation inside the Wagtail admin
(/admin/orgs/review/<pk>/) with its actions, and its documents inline. The registry and
the review queue are Wagtail listings in orgs/admin_lists.py.

Thin views: every read goes through orgs.selectors (scoped to the user's region subtree),
every change through orgs.services, which check permission themselves. An organisation
outside the user's scope is a 404 on every screen and action."""

import datetime

from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from wagtail.admin.auth import permission_required

from accounts.selectors import region_in_scope
from core.admin_actions import ActionScreen, action_groups
from core.admin_ui import admin_breadcrumbs

from . import services, views
from .models import Organisation, OrganisationStatus
from .record import record_of
from .selectors import (
    eligibility,
    organisation_for_review,
    organisations_for_staff,
    pending_change,
    similar_organisations,
)

VIEW_PERMISSION = "orgs.view_organisation"
Status = OrganisationStatus


# ---- helpers ---------------------------------------------------------------------------


def _days_since(moment, today: datetime.date) -> int | None:
    return (today - timezone.localtime(moment).date()).days if moment else None


# ---- screens ---------------------------------------------------------------------------


def _render_review(request, org, *, bound: dict | None = None, status: int = 200):
    user = request.user
    documents = list(org.documents.all())
    groups = action_groups(org, user, bound=bound)
    today = timezone.localdate()
    for grade in org.grades.all():
        grade.is_valid = grade.valid_on(today)
    similar = similar_organisations(org, user)
    for other in similar:
        other.in_scope = region_in_scope(user, other.region)
    context = {
        "header_title": f"审核：{org.name}",
        "breadcrumbs_items": admin_breadcrumbs(
            ("社会组织", reverse("orgs_admin:registry")),
            ("待审核", reverse("orgs_admin:queue")),
            (org.name, None),
        ),
        "header_icon": "doc-full",
        "org": org,
        "region_full_name": org.region.full_name,
        "current_documents": [d for d in documents if d.is_current],
        "older_documents": [d for d in documents if not d.is_current],
        "eligibility": eligibility(org),
        "similar": similar,
        "pending_change": pending_change(org),
        "days_waiting": _days_since(org.submitted_at, today) if org.status == Status.SUBMITTED else None,
        "status_groups": [g for g in groups if g.key == "reason"],
        "change_groups": [g for g in groups if g.key == "change"],
        "fact_groups": [g for g in groups if g.key not in ("reason", "change")],
        "action_url_name": "orgs_admin:review_action",
        "read_only": not groups,
        "may_attach_leader": services.can_verify(user, org),
        "record": record_of(org),  # 项目业绩 from the other apps (orgs.record)
    }
    return TemplateResponse(request, "orgs/admin/review.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def review(request, pk):
    """The review page: the whole file of one organisation and what may be done with it."""
    return _render_review(request, organisation_for_review(request.user, pk))


review_actions = ActionScreen(
    model=Organisation,
    get_object=lambda request, pk: organisation_for_review(request.user, pk),
    render=_render_review,
    view_permission=VIEW_PERMISSION,
    forbidden_text=lambda action: (
        f"您没有“{action.label}”的权限：审计、财务等岗位只能查看组织资料，审核和登记须由本区域民政业务主管办理。"
    ),
    section=("社会组织", reverse_lazy("orgs_admin:registry")),
)


@xframe_options_sameorigin
@permission_required(VIEW_PERMISSION)
def document_preview(request, pk, doc_pk):
    """A document for the review page's <iframe>/<img>: outside the scope it does not exist;
    inside, the applicant-side download view decides (members, or staff allowed to see
    documents) and serves it. Only the framing rule differs: same origin may embed it."""
    if not organisations_for_staff(request.user).filter(pk=pk).exists():
        raise Http404("没有找到该组织。")
    return views.document_download(request, pk=pk, doc_pk=doc_pk)


urlpatterns = [
    path("review/<int:pk>/", review, name="review"),
    path("review/<int:pk>/documents/<int:doc_pk>/", document_preview, name="document_preview"),
    path("review/<int:pk>/<slug:action>/", review_actions.as_view(), name="review_action"),
]
