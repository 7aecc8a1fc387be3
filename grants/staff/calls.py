"""项目征集 in the Wagtail admin (/admin/grants/calls/): the list of calls in the user's
scope, the add and edit screens (saved through grants.services.calls), and on the edit
screen the call's status with the actions its state machine offers (posted to
`grants_admin:call_action`, the shared core.admin_actions view).

The call's public page (cms.CallPage) is created by the CMS when the call is; the edit
screen links to it, where editors write the announcement and publish it."""

import django_filters
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse, reverse_lazy
from django.utils.functional import cached_property
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, MultiFieldPanel, ObjectList
from wagtail.admin.views import generic
from wagtail.log_actions import log

from accounts.selectors import scope
from core.admin_actions import ActionScreen, action_groups, edit_view_render
from core.admin_lists import HTMLColumn, StaffIndexView, StatusColumn, TextColumn
from core.forms import Select
from core.viewsets import ScopedModelViewSet, ServiceSaveMixin
from orgs.filters import RegionFilter, ScopedFilterSet, radio_choice

from ..forms.calls import CallForm
from ..models import Call, CallLevel, CallStatus, ProposalStatus
from ..services import calls as services
from ..services.award import REVIEW_ACTION_SLUGS
from . import GRANTS_MENU_HOOK

VIEW_PERMISSION = "grants.view_call"
SECTION = "公益创投"


# ---- the list ------------------------------------------------------------------------------------


def _years():
    return [(y, f"{y}年") for y in Call.objects.order_by("-year").values_list("year", flat=True).distinct()]


def search_calls(queryset, name, value):
    q = (value or "").strip()
    return queryset.filter(Q(title__icontains=q) | Q(organiser__icontains=q)) if q else queryset


class CallFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索", method=search_calls, max_length=100)
    status = radio_choice("状态", CallStatus.choices)
    level = radio_choice("层级", CallLevel.choices)
    year = django_filters.ChoiceFilter(label="年度", choices=_years, empty_label="全部年度", widget=Select)
    region = RegionFilter(label="区域")

    class Meta:
        model = Call
        fields = []


class CallIndexView(StaffIndexView):
    section = SECTION
    page_title = "项目征集"
    count_unit = "个征集"
    intro = "您负责区域内的公益创投项目征集。状态按时间表每日自动推进至“评审中”，之后的环节由业务主管办理。"
    empty_message = "您负责的区域还没有项目征集。"
    filtered_empty_message = "没有符合筛选条件的项目征集。"
    search_placeholder = "搜索征集名称或主办单位"
    orderings = {"newest": ("-year", "level", "-apply_from")}

    def get_base_queryset(self):
        draft, withdrawn = ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN
        return Call.objects.select_related("region").annotate(
            submitted_count=Count("proposals", filter=~Q(proposals__status__in=[draft, withdrawn])),
            draft_count=Count("proposals", filter=Q(proposals__status=draft)),
        )

    @cached_property
    def may_change(self):
        return self.request.user.has_perm("grants.change_call")

    def decorate_rows(self, rows):
        for call in rows:
            call.admin_url = call.get_admin_url() if self.may_change else ""
        return rows


def _title(call):
    title = format_html('<a href="{}">{}</a>', call.admin_url, call.title) if call.admin_url else call.title
    return format_html('<div class="title-wrapper">{}</div><div class="w-help-text">{}</div>', title, call.organiser)


def _counts(call):
    return format_html('{}<div class="w-help-text">草稿 {}</div>', call.submitted_count, call.draft_count)


# ---- saving through the services -------------------------------------------------------------------


class CallCreateView(ServiceSaveMixin, generic.CreateView):
    success_message = "已创建项目征集“%(object)s”。"

    def save_instance(self):
        form = self.form
        call = services.call_create(
            by=self.request.user, data=form.service_data(), categories=form.service_categories()
        )
        log(call, "wagtail.create", user=self.request.user)
        return call

    def get_success_url(self):
        return self.object.get_admin_url()

    def get_success_message(self, instance):
        page = getattr(instance, "page", None)
        if page is None:
            return f"已创建项目征集“{instance}”。"
        return f"已创建项目征集“{instance}”，并生成了公告页面（草稿）：请在“编辑公告页面”撰写公告后发布。"


class CallEditView(ServiceSaveMixin, generic.EditView):
    template_name = "grants/staff/call_edit.html"
    success_message = "已保存项目征集“%(object)s”。"

    def save_instance(self):
        form = self.form
        call = services.call_update(
            call=form.instance, by=self.request.user, data=form.service_data(), categories=form.service_categories()
        )
        log(call, "wagtail.edit", user=self.request.user)
        return call

    def get_success_url(self):
        return self.object.get_admin_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(call_context(self.request, self.object, bound=getattr(self.request, "call_action_bound", None)))
        return context


def call_context(request, call: Call, *, bound=None) -> dict:
    """The status panel above the edit form: where the call stands and what may be done."""
    page = getattr(call, "page", None)
    counts = call.proposals.aggregate(
        submitted=Count("pk", filter=~Q(status__in=[ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN])),
        drafts=Count("pk", filter=Q(status=ProposalStatus.DRAFT)),
    )
    return {
        "call": call,
        "timeline": call.timeline(),
        "stage_today": call.stage_today(),
        "counts": counts,
        "call_page": page,
        "page_edit_url": reverse("wagtailadmin_pages:edit", args=[page.pk]) if page is not None else "",
        "page_url": page.url if page is not None and page.live else "",
        "proposals_url": _proposals_url(call),
        # the review actions live on the call's 评审管理 screen (grants/staff/review.py)
        "action_groups": action_groups(call, request.user, bound=bound, exclude=REVIEW_ACTION_SLUGS),
        "review_url": (
            reverse("grants_admin:call_review", args=[call.pk])
            if call.status not in (CallStatus.DRAFT, CallStatus.NEEDS, CallStatus.OPEN)
            else ""
        ),
        "action_url_name": "grants_admin:call_action",
        "locked": services.locked_fields(call),
    }


def _proposals_url(call) -> str:
    try:
        return f"{reverse('grants_admin:proposals')}?call={call.pk}"
    except NoReverseMatch:  # the staff proposal list is another screen's
        return ""


# ---- the viewset ----------------------------------------------------------------------------------


class CallViewSet(ScopedModelViewSet):
    model = Call
    scope_region_field = "region"
    icon = "doc-full"
    menu_label = "项目征集"
    add_to_admin_menu = False
    url_prefix = "grants/calls"
    copy_view_enabled = False  # a copy would be saved past the services
    list_per_page = 50
    index_view_class = CallIndexView
    index_results_template_name = "core/admin/list_results.html"
    filterset_class = CallFilterSet
    ordering = "newest"
    list_display = [
        HTMLColumn("title", label="征集名称", classname="title", render=_title, sort_key="title"),
        TextColumn("level", label="层级", accessor="get_level_display", sort_key="level"),
        TextColumn("region", label="区域", accessor="region.name"),
        TextColumn("year", label="年度", sort_key="year"),
        StatusColumn(
            "status", label="状态", accessor="get_status_display", primary=lambda c: c.status == CallStatus.OPEN
        ),
        TextColumn(
            "apply_from",
            label="申报时间",
            accessor=lambda c: f"{c.apply_from:%Y-%m-%d} 至 {c.apply_until:%Y-%m-%d}",
            sort_key="apply_from",
        ),
        HTMLColumn("submitted_count", label="已提交申报", render=_counts, sort_key="submitted_count"),
    ]

    add_view_class = CallCreateView
    edit_view_class = CallEditView
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldPanel("title"),
                    FieldRowPanel([FieldPanel("year"), FieldPanel("level"), FieldPanel("region")]),
                    FieldRowPanel([FieldPanel("organiser"), FieldPanel("base")]),
                    FieldPanel("summary"),
                ],
                heading="基本信息",
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("pool_total"), FieldPanel("grant_min"), FieldPanel("grant_max")]),
                    FieldRowPanel([FieldPanel("max_grant_share"), FieldPanel("max_personnel_share")]),
                    FieldRowPanel([FieldPanel("forbid_fixed_assets"), FieldPanel("forbid_cash_handouts")]),
                ],
                heading="资金规则",
            ),
            MultiFieldPanel(
                [
                    FieldPanel("categories"),
                    FieldPanel("eligible_types"),
                    FieldPanel("allow_preparing_in_incubation"),
                    FieldRowPanel([FieldPanel("min_grade"), FieldPanel("max_applications_per_org")]),
                ],
                heading="申报资格",
            ),
            MultiFieldPanel(
                [
                    HelpPanel("<p>状态每日按时间表自动推进：需求征集开始 → 开放申报 → 申报截止 → 评审开始。</p>"),
                    FieldRowPanel([FieldPanel("needs_from"), FieldPanel("needs_until")]),
                    FieldRowPanel([FieldPanel("apply_from"), FieldPanel("apply_until")]),
                    FieldPanel("eligibility_until"),
                    FieldRowPanel([FieldPanel("review_from"), FieldPanel("review_until"), FieldPanel("pitch_on")]),
                    FieldRowPanel([FieldPanel("publicity_from"), FieldPanel("publicity_until")]),
                    FieldRowPanel([FieldPanel("implement_from"), FieldPanel("implement_until")]),
                ],
                heading="时间安排",
            ),
            MultiFieldPanel(
                [
                    FieldPanel("rubric"),
                    FieldRowPanel(
                        [FieldPanel("panel_size"), FieldPanel("aggregation"), FieldPanel("min_fundable_score")]
                    ),
                    FieldRowPanel([FieldPanel("blind_review"), FieldPanel("exclude_local_experts")]),
                    FieldRowPanel([FieldPanel("has_pitch"), FieldPanel("pitch_weight")]),
                    FieldPanel("pitch_rubric"),
                    FieldRowPanel([FieldPanel("spread_limit"), FieldPanel("fund_cheaper_after_skip")]),
                ],
                heading="评审规则",
            ),
            MultiFieldPanel([FieldPanel("tranche_plan")], heading="拨付计划"),
            MultiFieldPanel([FieldPanel("agreement_template")], heading="项目协议"),
            MultiFieldPanel(
                [
                    FieldPanel("report_cadence"),
                    FieldPanel("evaluation_rubric"),
                    FieldPanel("pass_score"),
                    FieldPanel("grade_bands"),
                ],
                heading="进度报告与评估",
            ),
            MultiFieldPanel([FieldPanel("next_round")], heading="三级联动"),
        ],
        base_form_class=CallForm,
    )

    def scope_queryset(self, queryset, user):
        return super().scope_queryset(queryset, user).select_related("region")


call_viewset = CallViewSet("grants_calls")


# ---- the actions on one call -------------------------------------------------------------------------


def _call_in_scope(request, pk):
    return get_object_or_404(scope(Call.objects.select_related("region"), request.user), pk=pk)


_render_call = edit_view_render(call_viewset, "call_action_bound")


call_actions = ActionScreen(
    model=Call,
    get_object=_call_in_scope,
    render=_render_call,
    view_permission=VIEW_PERMISSION,
    forbidden_text=lambda action: f"您没有“{action.label}”的权限：只有征集所在区域的业务主管（民政）可以办理。",
    section=(SECTION, reverse_lazy("grants_calls:index")),
)

urlpatterns = [
    path("calls/<int:pk>/actions/<slug:action>/", call_actions.as_view(), name="call_action"),
]


# ---- registration ------------------------------------------------------------------------------------


@hooks.register("register_admin_viewset")
def register_call_viewset():
    return call_viewset


@hooks.register(GRANTS_MENU_HOOK)
def calls_menu_item():
    from core.admin_ui import PermissionMenuItem

    return PermissionMenuItem(
        "项目征集",
        reverse("grants_calls:index"),
        name="grants-calls",
        icon_name="doc-full",
        order=100,
        permission=VIEW_PERMISSION,
    )
