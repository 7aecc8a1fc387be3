"""Staff screens of incubation inside the Wagtail admin (/admin/incubator/): the operator's
queue, one stay's page with the actions its status allows, the promotions inbox.

Thin views: reads through incubator.selectors (scoped to the bases in the user's region
subtree), every change through incubator.services, which check permission themselves. A
stay or promotion outside the user's scope is a 404; staff who may look but not operate
(auditors, call managers) see every page read-only and get a 403 on a POST."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from wagtail.admin.auth import permission_required
from wagtail.admin.paginator import WagtailPaginator

from core.admin_ui import admin_breadcrumbs
from core.ui import error_text, form_errors_text
from core.workdays import workdays_between
from core.workflow import WorkflowError

from . import services
from .forms import (
    AdmitForm,
    AssessmentForm,
    ExtendForm,
    GraduateForm,
    NoInputForm,
    PromotionAcceptForm,
    ReasonForm,
    ServiceLogForm,
)
from .models import RESIDENT_STATES, AssessmentStage, IncubationStatus, PromotionState, Residence
from .selectors import (
    QUEUE_ORDERINGS,
    bases_for_staff,
    incubation_for_staff,
    operator_queue,
    overdue_count,
    promotion_for_staff,
    promotions_for_staff,
)
from .views import assessments_context, incubation_requested_labels, lifecycle_steps, service_hours

VIEW_PERMISSION = "incubator.view_incubation"
PAGE_SIZE = 50
S = IncubationStatus
ACTIVE = (*RESIDENT_STATES,)


# ---- the queue's filters ------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    base = forms.ModelChoiceField(label="孵化基地", queryset=None, required=False, empty_label="全部基地")
    status = forms.ChoiceField(label="状态", choices=[("", "全部状态"), *S.choices], required=False)
    overdue = forms.BooleanField(label="只看初审超期", required=False)
    order = forms.ChoiceField(
        label="排序", choices=[(k, label) for k, (label, _) in QUEUE_ORDERINGS.items()], required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base"].queryset = bases_for_staff(user).order_by("level", "name")


# ---- the actions on one stay --------------------------------------------------------------------


def _promotable(inc) -> bool:
    return bool(inc.base.parent_id) and not any(p.state == PromotionState.PENDING for p in inc.promotions.all())


@dataclass(frozen=True)
class IncubationAction:
    """One POST on a stay's page: the form it reads (actions sharing `form_key` share one
    form with a button each), the service it calls, and when it is offered."""

    name: str
    label: str
    form: Callable  # (data=None, prefix=..., initial=...) -> Form
    run: Callable  # (incubation, by, cleaned_data) -> None
    success: str
    statuses: tuple
    form_key: str = ""
    when: Callable = lambda inc: True
    danger: bool = False
    intro: str = ""

    @property
    def key(self) -> str:
        return self.form_key or self.name

    def offered(self, inc) -> bool:
        return inc.status in self.statuses and self.when(inc)


ACTIONS = [
    IncubationAction(
        "screen-accept",
        "初审通过",
        partial(ReasonForm, label="初审意见", help_text="不通过时必填，申请组织会在通知和办理记录中看到。"),
        lambda inc, by, d: services.incubation_screen(incubation=inc, by=by, accept=True, reason=d["reason"]),
        "“{org}”已通过初审，已通知申请组织。",
        statuses=(S.APPLIED,),
        form_key="screen",
        intro="初审",
    ),
    IncubationAction(
        "screen-reject",
        "初审不通过",
        partial(ReasonForm, label="初审意见"),
        lambda inc, by, d: services.incubation_screen(incubation=inc, by=by, accept=False, reason=d["reason"]),
        "“{org}”未通过初审，已通知申请组织。",
        statuses=(S.APPLIED,),
        form_key="screen",
        danger=True,
    ),
    IncubationAction(
        "admit",
        "入壳",
        AdmitForm,
        lambda inc, by, d: services.incubation_admit(incubation=inc, by=by, **d),
        "“{org}”已入壳，入驻协议已生成。",
        statuses=(S.SCREENED,),
        intro="签订入驻协议，分配实体工位或虚拟入驻名额。",
    ),
    IncubationAction(
        "begin",
        "开始孵化",
        NoInputForm,
        lambda inc, by, d: services.incubation_begin(incubation=inc, by=by),
        "“{org}”已开始孵化。",
        statuses=(S.ADMITTED,),
        intro="入驻手续办完、开始提供孵化服务时点击。",
    ),
    IncubationAction(
        "mid-start",
        "进入中期评估",
        NoInputForm,
        lambda inc, by, d: services.incubation_mid_review_start(incubation=inc, by=by),
        "“{org}”已进入中期评估。",
        statuses=(S.IN_INCUBATION, S.EXTENDED),
        form_key="mid",
        intro="中期评估",
    ),
    IncubationAction(
        "mid-pass",
        "中期评估通过",
        partial(ReasonForm, label="评估意见"),
        lambda inc, by, d: services.incubation_mid_review_pass(incubation=inc, by=by, reason=d["reason"]),
        "“{org}”中期评估通过，继续孵化。",
        statuses=(S.MID_REVIEW,),
        form_key="mid",
    ),
    IncubationAction(
        "service-log",
        "记录服务",
        ServiceLogForm,
        lambda inc, by, d: services.service_log_add(incubation=inc, by=by, **d),
        "已为“{org}”记录一次孵化服务。",
        statuses=ACTIVE,
    ),
    IncubationAction(
        "assessment",
        "保存能力评估",
        AssessmentForm,
        lambda inc, by, d: services.assessment_record(incubation=inc, by=by, **d),
        "已保存“{org}”的能力评估。",
        statuses=ACTIVE,
        intro="五个维度各按0–100打分，加权总分按本基地当前的权重计算。同一阶段再次评估会覆盖原记录。",
    ),
    IncubationAction(
        "graduate",
        "出壳",
        GraduateForm,
        lambda inc, by, d: services.incubation_graduate(incubation=inc, by=by, **d),
        "“{org}”已出壳，出壳证书已生成。",
        statuses=(S.IN_INCUBATION, S.MID_REVIEW, S.EXTENDED),
        intro="逐项核对出壳条件；最近一次能力评估须达到本基地的出壳分数线。",
    ),
    IncubationAction(
        "extend",
        "续驻",
        ExtendForm,
        lambda inc, by, d: services.incubation_extend(incubation=inc, by=by, **d),
        "“{org}”已续驻。",
        statuses=(S.IN_INCUBATION, S.MID_REVIEW),
        when=lambda inc: inc.extension_count == 0,
        intro="每个组织只能续驻一次。",
    ),
    IncubationAction(
        "promote",
        "推荐至上级基地",
        partial(ReasonForm, label="推荐理由"),
        lambda inc, by, d: services.promotion_recommend(incubation=inc, by=by, reason=d["reason"]),
        "已将“{org}”推荐至上级基地。",
        statuses=(*ACTIVE, S.GRADUATED),
        when=_promotable,
        intro="三级联动：上级基地接收后可直接入驻，无需重新申请。",
    ),
    IncubationAction(
        "withdraw",
        "退驻",
        partial(ReasonForm, label="退驻原因"),
        lambda inc, by, d: services.incubation_withdraw(incubation=inc, by=by, reason=d["reason"]),
        "“{org}”已退驻。",
        statuses=ACTIVE,
        danger=True,
        intro="退驻后释放工位或名额；实体入驻的须在规定工作日内交还场地。",
    ),
]
ACTIONS_BY_NAME = {a.name: a for a in ACTIONS}


def _initial(action: IncubationAction, inc) -> dict:
    if action.key == "admit":
        return {"residence": Residence.DESK if inc.wants_desk else Residence.VIRTUAL}
    if action.key == "graduate":
        return {"registered": inc.organisation.is_registered}
    if action.key == "assessment":
        done = {a.stage for a in inc.assessments.all()}
        if inc.status == S.MID_REVIEW:
            return {"stage": AssessmentStage.MID}
        return {
            "stage": AssessmentStage.ADMISSION if AssessmentStage.ADMISSION not in done else AssessmentStage.GRADUATION
        }
    return {}


def _make_form(action, inc, data=None):
    return action.form(data, prefix=action.key, initial=_initial(action, inc))


# ---- helpers --------------------------------------------------------------------------------------


def _service_error(request, form, exc) -> None:
    """A refusal from a service: a Wagtail error message, and field errors on the form so
    the user sees where, with what they typed kept."""
    messages.error(request, error_text(exc))
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            if field in form.fields:
                form.add_error(field, errs)


def _forbidden(request, *, title: str, back_url: str, back_label: str, action_label: str):
    # Wagtail turns PermissionDenied into a redirect; a refused POST should say 403.
    return TemplateResponse(
        request,
        "incubator/admin/forbidden.html",
        {
            "header_title": "无权操作",
            "breadcrumbs_items": admin_breadcrumbs(("孵化基地", reverse("incubator_admin:queue")), ("无权操作", "")),
            "back_url": back_url,
            "back_label": back_label,
            "action_label": action_label,
            "title": title,
        },
        status=403,
    )


# ---- the queue --------------------------------------------------------------------------------------


@permission_required(VIEW_PERMISSION)
def queue(request):
    """入驻孵化: stays at bases in scope; applications past their screening date first."""
    user = request.user
    today = timezone.localdate()
    form = QueueFilterForm(request.GET or None, user=user)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = operator_queue(
        user,
        base=filters.get("base"),
        status=filters.get("status", ""),
        overdue_only=filters.get("overdue", False),
        ordering=filters.get("order") or "overdue",
        today=today,
    )
    page = WagtailPaginator(qs, PAGE_SIZE).get_page(request.GET.get("p"))
    for inc in page.object_list:
        inc.overdue_days = workdays_between(inc.screening_due, today) if inc.is_overdue else 0
    query = request.GET.copy()
    query.pop("p", None)
    sort_query = request.GET.copy()
    sort_query.pop("p", None)
    sort_query.pop("order", None)
    return TemplateResponse(
        request,
        "incubator/admin/queue.html",
        {
            "header_title": "入驻孵化",
            "header_icon": "tasks",
            "breadcrumbs_items": admin_breadcrumbs(("孵化基地", ""), ("入驻孵化", "")),
            "form": form,
            "page": page,
            "elided_page_range": page.paginator.get_elided_page_range(page.number),
            "filtered": bool(query),
            "overdue_total": overdue_count(user, today),
            "current_order": filters.get("order") or "overdue",
            "sort_base": sort_query.urlencode(),
            "today": today,
        },
    )


# ---- one stay ----------------------------------------------------------------------------------------


def _action_groups(inc, offered, bound: dict):
    """The offered actions grouped by form: [(form_key, form, [actions])], in ACTIONS order."""
    groups: dict[str, tuple] = {}
    for action in offered:
        if action.key not in groups:
            groups[action.key] = (action.key, bound.get(action.key) or _make_form(action, inc), [])
        groups[action.key][2].append(action)
    return list(groups.values())


def _render_incubation(request, inc, *, bound: dict | None = None, blockers=None, status: int = 200):
    user = request.user
    may_operate = services.can_operate(user, inc.base)
    offered = [a for a in ACTIONS if a.offered(inc)] if may_operate else []
    logs = list(inc.service_logs.all())
    today = timezone.localdate()
    org = inc.organisation
    latest = max(inc.assessments.all(), key=lambda a: (a.assessed_on, a.pk), default=None)
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
        "action_groups": _action_groups(inc, offered, bound or {}),
        "read_only": not may_operate,
        "latest_assessment": latest,
        "graduation_blockers": blockers,
        "promotions": list(inc.promotions.all()),
        "table_class": "inc-table",
        **assessments_context(inc),
    }
    return TemplateResponse(request, "incubator/admin/incubation.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def incubation(request, pk):
    """The whole file of one stay and what its status allows."""
    return _render_incubation(request, incubation_for_staff(request.user, pk))


def _graduation_blockers(inc, data: dict) -> list[str]:
    return services.graduation_blockers(
        inc,
        registered=data.get("registered") or bool(data.get("new_uscc")) or inc.organisation.is_registered,
        governance=data.get("governance", False),
        project=data.get("project", False),
    )


@require_POST
@permission_required(VIEW_PERMISSION)
def incubation_action(request, pk, action):
    spec = ACTIONS_BY_NAME.get(action)
    if spec is None:
        raise Http404("没有这个操作。")
    inc = incubation_for_staff(request.user, pk)
    if not services.can_operate(request.user, inc.base):
        return _forbidden(
            request,
            title=str(inc),
            back_url=reverse("incubator_admin:incubation", args=[inc.pk]),
            back_label=inc.organisation.name,
            action_label=spec.label,
        )
    form = _make_form(spec, inc, request.POST)
    blockers = None
    if form.is_valid():
        data = form.service_kwargs() if hasattr(form, "service_kwargs") else form.cleaned_data
        try:
            spec.run(inc, request.user, data)
        except (WorkflowError, ValidationError, PermissionDenied) as exc:
            _service_error(request, form, exc)
            if spec.name == "graduate":
                blockers = _graduation_blockers(inc, form.cleaned_data)
        else:
            messages.success(request, spec.success.format(org=inc.organisation.name))
            return redirect("incubator_admin:incubation", inc.pk)
    else:
        messages.error(request, form_errors_text(form))
    # the page again as it now is, with what the user typed
    fresh = incubation_for_staff(request.user, pk)
    return _render_incubation(request, fresh, bound={spec.key: form}, blockers=blockers, status=400)


# ---- promotions ------------------------------------------------------------------------------------


@permission_required(VIEW_PERMISSION)
def promotions(request):
    """推荐晋级: recommendations from the bases below, addressed to bases in scope."""
    page = WagtailPaginator(promotions_for_staff(request.user), PAGE_SIZE).get_page(request.GET.get("p"))
    return TemplateResponse(
        request,
        "incubator/admin/promotions.html",
        {
            "header_title": "推荐晋级",
            "header_icon": "arrow-up",
            "breadcrumbs_items": admin_breadcrumbs(("孵化基地", reverse("incubator_admin:queue")), ("推荐晋级", "")),
            "page": page,
            "elided_page_range": page.paginator.get_elided_page_range(page.number),
        },
    )


PROMOTION_FORMS = {
    "accept": PromotionAcceptForm,
    "decline": partial(ReasonForm, label="不接收的理由", help_text="推荐基地会收到这段说明。"),
}


def _render_promotion(request, promo, *, bound: dict | None = None, status: int = 200):
    user = request.user
    source = promo.incubation
    may_decide = promo.state == PromotionState.PENDING and services.can_operate(user, promo.to_base)
    bound = bound or {}
    initial = {"residence": Residence.DESK if source.wants_desk else Residence.VIRTUAL}
    forms_ = {
        key: bound.get(key) or form_class(prefix=key, initial=initial if key == "accept" else None)
        for key, form_class in PROMOTION_FORMS.items()
    }
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
        "may_decide": may_decide,
        "read_only": promo.state == PromotionState.PENDING and not may_decide,
        "forms": forms_,
        "requested_service_labels": incubation_requested_labels(source),
        "table_class": "inc-table",
        **assessments_context(source),
    }
    return TemplateResponse(request, "incubator/admin/promotion.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def promotion(request, pk):
    return _render_promotion(request, promotion_for_staff(request.user, pk))


@require_POST
@permission_required(VIEW_PERMISSION)
def promotion_action(request, pk, action):
    if action not in PROMOTION_FORMS:
        raise Http404("没有这个操作。")
    promo = promotion_for_staff(request.user, pk)
    label = "接收入驻" if action == "accept" else "不接收"
    if not services.can_operate(request.user, promo.to_base):
        return _forbidden(
            request,
            title=str(promo),
            back_url=reverse("incubator_admin:promotion", args=[promo.pk]),
            back_label=promo.incubation.organisation.name,
            action_label=label,
        )
    form = PROMOTION_FORMS[action](request.POST, prefix=action)
    if form.is_valid():
        try:
            if action == "accept":
                new = services.promotion_accept(promotion=promo, by=request.user, **form.cleaned_data)
            else:
                services.promotion_decline(promotion=promo, by=request.user, reason=form.cleaned_data["reason"])
        except (WorkflowError, ValidationError, PermissionDenied) as exc:
            _service_error(request, form, exc)
        else:
            name = promo.incubation.organisation.name
            if action == "accept":
                messages.success(request, f"已接收“{name}”入驻{promo.to_base.name}。")
                return redirect("incubator_admin:incubation", new.pk)
            messages.success(request, f"已不接收“{name}”的推荐，已通知推荐人。")
            return redirect("incubator_admin:promotion", promo.pk)
    else:
        messages.error(request, form_errors_text(form))
    return _render_promotion(request, promotion_for_staff(request.user, pk), bound={action: form}, status=400)


urlpatterns = [
    path("incubations/", queue, name="queue"),
    path("incubations/<int:pk>/", incubation, name="incubation"),
    path("incubations/<int:pk>/<slug:action>/", incubation_action, name="incubation_action"),
    path("promotions/", promotions, name="promotions"),
    path("promotions/<int:pk>/", promotion, name="promotion"),
    path("promotions/<int:pk>/<slug:action>/", promotion_action, name="promotion_action"),
]
