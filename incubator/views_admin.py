"""Staff pages of incubation inside the Wagtail admin (/admin/incubator/): one stay's page
and one promotion's page, with the actions their state allows. The queue and the
promotions inbox are Wagtail listings in incubator/admin_lists.py.

Thin views: reads through incubator.selectors (scoped to the bases in the user's region
subtree), every change through incubator.services, which check permission themselves. A
stay or promotion outside the user's scope is a 404; staff who may look but not operate
(auditors, call managers) see every page read-only and get a 403 on a POST."""

from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from wagtail.admin.auth import permission_required

from core.admin_actions import ActionScreen, action_groups
from core.admin_ui import admin_breadcrumbs
from core.workdays import workdays_between

from . import services
from .models import AssessmentStage, Incubation, IncubationStatus, Promotion, PromotionState, Residence
from .selectors import (
    incubation_for_staff,
    promotion_for_staff,
)
from .views import assessments_context, incubation_requested_labels, lifecycle_steps, service_hours

VIEW_PERMISSION = "incubator.view_incubation"
S = IncubationStatus


# ---- the actions on one stay -----------------------------------------------------------------------


def _initial(inc, action) -> dict | None:
    """What a fresh action form starts with, from what the stay already says."""
    if action.key == "admit":
        return {"residence": Residence.DESK if inc.wants_desk else Residence.VIRTUAL}
    if action.key == "graduate":
        return {"registered": inc.organisation.is_registered}
    if action.key == "assessment":
        if inc.status == S.MID_REVIEW:
            return {"stage": AssessmentStage.MID}
        done = {a.stage for a in inc.assessments.all()}
        return {
            "stage": AssessmentStage.ADMISSION if AssessmentStage.ADMISSION not in done else AssessmentStage.GRADUATION
        }
    return None


# ---- one stay ----------------------------------------------------------------------------------------


def _render_incubation(request, inc, *, bound: dict | None = None, blockers=None, status: int = 200):
    user = request.user
    logs = list(inc.service_logs.all())
    today = timezone.localdate()
    org = inc.organisation
    latest = max(inc.assessments.all(), key=lambda a: (a.assessed_on, a.pk), default=None)
    groups = action_groups(inc, user, bound=bound, initial=lambda action: _initial(inc, action))
    context = {
        "header_title": f"{org.name} · {inc.base.name}",
        "header_icon": "doc-full",
        "breadcrumbs_items": admin_breadcrumbs(
            ("孵化基地", reverse("incubator_admin:queue")),
            ("入驻孵化", reverse("incubator_admin:queue")),
            (org.name, ""),
        ),
        "incubation": inc,
        "org": org,
        "base": inc.base,
        "steps": lifecycle_steps(inc),
        "overdue_days": workdays_between(inc.screening_due, today) if inc.screening_overdue(today) else 0,
        "service_logs": logs,
        "service_hours": service_hours(logs),
        "requested_service_labels": incubation_requested_labels(inc),
        # the organisation's 负责人 may withdraw from the portal; here only the base's operators act
        "action_groups": groups if services.can_operate(user, inc.base) else [],
        "action_url_name": "incubator_admin:incubation_action",
        "read_only": not services.can_operate(user, inc.base),
        "latest_assessment": latest,
        "graduation_blockers": blockers,
        "promotions": list(inc.promotions.all()),
        "table_class": "listing",
        **assessments_context(inc),
    }
    return TemplateResponse(request, "incubator/admin/incubation.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def incubation(request, pk):
    """The whole file of one stay and what its status allows."""
    return _render_incubation(request, incubation_for_staff(request.user, pk))


def _graduation_blockers(inc, action, form, exc) -> dict:
    """On a refused 出壳, list every unmet item of the checklist beside the form."""
    if action.slug != "graduate" or not form.is_valid():
        return {}
    data = form.cleaned_data
    blockers = services.graduation_blockers(
        inc,
        registered=data.get("registered") or bool(data.get("new_uscc")) or inc.organisation.is_registered,
        governance=data.get("governance", False),
        project=data.get("project", False),
    )
    return {"blockers": blockers}


def _forbidden_text(action) -> str:
    return f"您没有“{action.label}”的权限：只有该基地所在区域的孵化基地运营人员可以办理。"


incubation_actions = ActionScreen(
    model=Incubation,
    get_object=lambda request, pk: incubation_for_staff(request.user, pk),
    render=_render_incubation,
    view_permission=VIEW_PERMISSION,
    forbidden_text=_forbidden_text,
    back_label=lambda inc: inc.organisation.name,
    section=("孵化基地", reverse_lazy("incubator_admin:queue")),
    on_error=_graduation_blockers,
    initial=_initial,
)


# ---- promotions ------------------------------------------------------------------------------------


def _render_promotion(request, promo, *, bound: dict | None = None, status: int = 200):
    user = request.user
    source = promo.incubation
    initial = {"residence": Residence.DESK if source.wants_desk else Residence.VIRTUAL}
    groups = action_groups(
        promo, user, bound=bound, initial=lambda action: initial if action.slug == "accept" else None
    )
    context = {
        "header_title": f"推荐晋级：{source.organisation.name}",
        "header_icon": "arrow-up",
        "breadcrumbs_items": admin_breadcrumbs(
            ("孵化基地", reverse("incubator_admin:queue")),
            ("推荐晋级", reverse("incubator_admin:promotions")),
            (source.organisation.name, ""),
        ),
        "promotion": promo,
        "source": source,
        "org": source.organisation,
        "source_in_scope": services.can_operate(user, source.base) or user.is_superuser,
        "action_groups": groups,
        "action_url_name": "incubator_admin:promotion_action",
        "read_only": promo.state == PromotionState.PENDING and not groups,
        "requested_service_labels": incubation_requested_labels(source),
        "table_class": "listing",
        **assessments_context(source),
    }
    return TemplateResponse(request, "incubator/admin/promotion.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def promotion(request, pk):
    return _render_promotion(request, promotion_for_staff(request.user, pk))


def _after_promotion(promo, action, result) -> str:
    if action.slug == "accept":  # to the new stay at the upper base
        return reverse("incubator_admin:incubation", args=[result.pk])
    return reverse("incubator_admin:promotion", args=[promo.pk])


promotion_actions = ActionScreen(
    model=Promotion,
    get_object=lambda request, pk: promotion_for_staff(request.user, pk),
    render=_render_promotion,
    success_url=_after_promotion,
    view_permission=VIEW_PERMISSION,
    forbidden_text=_forbidden_text,
    back_label=lambda promo: promo.incubation.organisation.name,
    section=("孵化基地", reverse_lazy("incubator_admin:queue")),
)


urlpatterns = [
    path("incubations/<int:pk>/", incubation, name="incubation"),
    path("incubations/<int:pk>/<slug:action>/", incubation_actions.as_view(), name="incubation_action"),
    path("promotions/<int:pk>/", promotion, name="promotion"),
    path("promotions/<int:pk>/<slug:action>/", promotion_actions.as_view(), name="promotion_action"),
]
