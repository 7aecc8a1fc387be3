"""专家库 in the Wagtail admin (/admin/grants/experts/): the experts whose region lies in the
user's subtree (a district manager their district's, a city manager all), with filters
and search; the add and edit screens (one form for the login account and the profile,
the declared affiliations inline), saved through grants.services.experts; on the edit
screen the expert's standing and the 暂停评审 / 恢复评审 actions (core.admin_actions,
posted to `grants_admin:expert_action`).

The affiliations' organisation is picked in a Wagtail chooser (a modal with search) that
offers only organisations the user may see named: any in their scope, elsewhere the
verified ones (orgs.selectors.visible_q). Its views live in this app's admin namespace."""

import datetime

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.widgets.chooser import BaseChooser
from wagtail.log_actions import LogFormatter

from accounts.selectors import scope
from core.admin_actions import ActionScreen, action_groups, edit_view_render
from core.admin_lists import HTMLColumn, StaffIndexView, StatusColumn, TextColumn
from core.forms import Select
from core.viewsets import ScopedModelViewSet, ServiceSaveMixin
from orgs.filters import RegionFilter, ScopedFilterSet, radio_choice, search_organisations
from orgs.models import Organisation, ServiceArea
from orgs.selectors import visible_q

from ..forms.experts import ExpertForm
from ..models import Affiliation, Assignment, AssignmentStatus, ExpertProfile
from ..services import experts as services
from . import GRANTS_MENU_HOOK

VIEW_PERMISSION = "grants.view_expertprofile"
EDIT_PERMISSIONS = ("grants.add_expertprofile", "grants.change_expertprofile")
SECTION = "公益创投"


def edit_url(expert) -> str:
    return reverse("grants_experts:edit", args=[expert.pk])


# ---- the organisation chooser (for the affiliations) ------------------------------------------------


def _may_choose(user) -> bool:
    return any(user.has_perm(p) for p in EDIT_PERMISSIONS)


def _choosable(user):
    q = visible_q(user)
    qs = Organisation.objects.all() if q is None else Organisation.objects.filter(q)
    return qs.select_related("region")


class OrganisationFilterForm(BaseFilterForm):
    q = forms.CharField(
        label="搜索",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "组织名称、统一社会信用代码或备案编号"}),
    )

    def filter(self, objects):
        query = (self.cleaned_data.get("q") or "").strip()
        if query:
            self.is_searching, self.search_query = True, query
            objects = search_organisations(objects, "q", query)
        return objects


class _ChooserAccess:
    """Only those who edit experts open the chooser; it offers what they may see named,
    one at a time (an affiliation names one organisation)."""

    is_multiple_choice = False

    def dispatch(self, request, *args, **kwargs):
        if not _may_choose(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_object_list(self):
        return _choosable(self.request.user).order_by("name", "pk")

    @property
    def columns(self):
        title = self.title_column
        title.label = "组织名称"
        return [
            title,
            Column("region", label="所在区域", accessor="region.name"),
            Column("status", label="登记状态", accessor="get_status_display"),
        ]


class OrganisationChooseView(_ChooserAccess, chooser_views.ChooseView):
    filter_form_class = OrganisationFilterForm
    page_title = "选择组织"
    icon = "group"
    per_page = 20


class OrganisationChooseResultsView(_ChooserAccess, chooser_views.ChooseResultsView):
    filter_form_class = OrganisationFilterForm
    per_page = 20


class OrganisationChosenView(_ChooserAccess, chooser_views.ChosenView):
    def get_object(self, pk):
        return _choosable(self.request.user).get(pk=pk)

    def get_edit_item_url(self, instance):
        return ""


_CHOOSER_KWARGS = {
    "model": Organisation,
    "results_url_name": "grants_admin:organisation_choose_results",
    "chosen_url_name": "grants_admin:organisation_chosen",
    "chosen_multiple_url_name": None,
    "create_url_name": None,
    "preserve_url_parameters": [],
}


class OrganisationChooser(BaseChooser):
    """The chooser widget of an affiliation's organisation."""

    model = Organisation
    chooser_modal_url_name = "grants_admin:organisation_choose"
    choose_one_text = "选择组织"
    choose_another_text = "改选其他组织"
    clear_choice_text = "清除"
    show_edit_link = False
    icon = "group"

    def get_value_data_from_instance(self, instance):
        return {"id": instance.pk, "edit_url": "", "title": str(instance)}


# ---- the list ------------------------------------------------------------------------------------------


def search_experts(queryset, name, value):
    q = (value or "").strip()
    if not q:
        return queryset
    return queryset.filter(
        Q(user__name__icontains=q) | Q(user__username__iexact=q) | Q(user__mobile=q) | Q(employer__icontains=q)
    )


def filter_available(queryset, name, value):
    return queryset.filter(available=(value == "yes")) if value else queryset


class ExpertFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索", method=search_experts, max_length=100)
    expertise = django_filters.ModelChoiceFilter(
        label="擅长领域",
        field_name="expertise",
        queryset=ServiceArea.objects.order_by("sort_order", "pk"),
        empty_label="全部领域",
        widget=Select,
    )
    region = RegionFilter(label="区域")
    available = radio_choice("可参加评审", [("yes", "可参加"), ("no", "已暂停")], method=filter_available)

    class Meta:
        model = ExpertProfile
        fields = []


def this_year() -> tuple[datetime.datetime, datetime.datetime]:
    """The local calendar year as an aware [start, end) range (an index-friendly filter)."""
    year = timezone.localdate().year
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime(year, 1, 1, tzinfo=tz),
        datetime.datetime(year + 1, 1, 1, tzinfo=tz),
    )


def _count(queryset, counted):
    """A correlated count per expert of `queryset`'s rows, as an integer column (0 for none)."""
    per_expert = queryset.filter(expert=OuterRef("pk")).order_by().values("expert").annotate(n=counted).values("n")
    return Coalesce(Subquery(per_expert, output_field=IntegerField()), Value(0))


def with_counts(queryset):
    """`task_count` (this year's assignments, recused ones left out) and `affiliation_count`
    (organisations declared), as columns of the list's one query."""
    start, end = this_year()
    tasks = Assignment.objects.filter(created_at__gte=start, created_at__lt=end).exclude(
        status=AssignmentStatus.RECUSED
    )
    return queryset.annotate(
        task_count=_count(tasks, Count("pk")),
        affiliation_count=_count(Affiliation.objects.all(), Count("organisation", distinct=True)),
    )


class ExpertIndexView(StaffIndexView):
    section = SECTION
    page_title = "专家库"
    count_unit = "位专家"
    intro = (
        "您负责区域内的评审专家。抽取评审专家时只抽“可参加评审”的专家，并自动回避与申报组织有关联的专家。"
        "本年度评审任务数不含已回避的任务。"
    )
    empty_message = "您负责的区域还没有评审专家，请点击“添加评审专家”。"
    filtered_empty_message = "没有符合筛选条件的专家。"
    search_placeholder = "搜索姓名、手机号或工作单位"
    orderings = {"name": ("user__name", "user__username"), "region": ("region__path",)}

    def get_base_queryset(self):
        return with_counts(
            ExpertProfile.objects.select_related("user", "region").prefetch_related(
                Prefetch("expertise", queryset=ServiceArea.objects.order_by("sort_order", "pk"))
            )
        )

    @cached_property
    def may_change(self):
        return self.request.user.has_perm("grants.change_expertprofile")

    def decorate_rows(self, rows):
        for expert in rows:
            expert.admin_url = edit_url(expert) if self.may_change else ""
        return rows


def _name(expert):
    name = expert.name
    title = format_html('<a href="{}">{}</a>', expert.admin_url, name) if expert.admin_url else name
    mobile = expert.user.mobile or expert.user.username
    return format_html('<div class="title-wrapper">{}</div><div class="w-help-text">{}</div>', title, mobile)


def _expertise(expert):
    names = [a.name for a in expert.expertise.all()]
    return "、".join(names) if names else format_html('<span class="gy-muted">{}</span>', "未填写")


def _status_label(expert) -> str:
    return "可参加" if expert.available else "已暂停"


# ---- saving through the services ---------------------------------------------------------------------


class ExpertCreateView(ServiceSaveMixin, generic.CreateView):
    def save_instance(self):
        return services.expert_create(by=self.request.user, **self.form.service_kwargs())

    def get_success_url(self):
        return reverse("grants_experts:index")

    def get_success_message(self, instance):
        if getattr(instance, "linked", False):
            return (
                f"已将已有账号“{instance.name}”（{instance.user.username}）加入专家库，并授予评审专家身份；"
                "该账号的密码不变。"
            )
        return f"已添加评审专家“{instance.name}”。专家可用手机号 {instance.user.username} 和初始密码登录。"


class ExpertEditView(ServiceSaveMixin, generic.EditView):
    template_name = "grants/staff/expert_edit.html"
    success_message = "已保存评审专家“%(object)s”。"

    def save_instance(self):
        return services.expert_update(expert=self.form.instance, by=self.request.user, **self.form.service_kwargs())

    def get_success_url(self):
        return edit_url(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            expert_context(self.request, self.object, bound=getattr(self.request, "expert_action_bound", None))
        )
        return context


def expert_context(request, expert, *, bound=None) -> dict:
    """The panel above the edit form: where the expert stands and what may be done."""
    start, end = this_year()
    counts = expert.assignments.filter(created_at__gte=start, created_at__lt=end).aggregate(
        tasks=Count("pk", filter=~Q(status=AssignmentStatus.RECUSED)),
        submitted=Count("pk", filter=Q(status=AssignmentStatus.SUBMITTED)),
        recused=Count("pk", filter=Q(status=AssignmentStatus.RECUSED)),
    )
    return {
        "expert": expert,
        "year": start.year,
        "counts": counts,
        "account_own": services.account_is_own(expert.user),
        "action_groups": action_groups(expert, request.user, bound=bound),
        "action_url_name": "grants_admin:expert_action",
    }


# ---- the viewset -------------------------------------------------------------------------------------------


class ExpertViewSet(ScopedModelViewSet):
    model = ExpertProfile
    scope_region_field = "region"
    icon = "user"
    menu_label = "专家库"
    add_to_admin_menu = False
    url_prefix = "grants/experts"
    copy_view_enabled = False  # a copy would be saved past the services, without an account
    list_per_page = 50
    index_view_class = ExpertIndexView
    index_results_template_name = "core/admin/list_results.html"
    filterset_class = ExpertFilterSet
    ordering = "name"
    list_display = [
        HTMLColumn("name", label="姓名", classname="title", render=_name, sort_key="name"),
        TextColumn("employer", label="工作单位", sort_key="employer"),
        TextColumn("title", label="职称/职务", sort_key="title"),
        HTMLColumn("expertise", label="擅长领域", render=_expertise),
        TextColumn("region", label="所在区域", accessor="region.name", sort_key="region"),
        StatusColumn("available", label="可参加评审", accessor=_status_label, primary=lambda e: e.available),
        TextColumn("task_count", label="本年度评审任务数", sort_key="task_count"),
        TextColumn("affiliation_count", label="关联组织数", sort_key="affiliation_count"),
    ]

    add_view_class = ExpertCreateView
    edit_view_class = ExpertEditView
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("name"), FieldPanel("mobile")]),
                    FieldRowPanel([FieldPanel("email"), FieldPanel("password")]),
                ],
                heading="登录账号",
            ),
            MultiFieldPanel(
                [
                    FieldPanel("region"),
                    FieldRowPanel([FieldPanel("employer"), FieldPanel("title")]),
                    FieldPanel("expertise"),
                ],
                heading="专家信息",
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("available"), FieldPanel("max_per_call")]),
                    FieldPanel("unavailable_note"),
                ],
                heading="评审安排",
            ),
            InlinePanel(
                "affiliations",
                panels=[
                    FieldPanel("organisation", widget=OrganisationChooser),
                    FieldRowPanel([FieldPanel("kind"), FieldPanel("note")]),
                ],
                heading="关联组织",
                label="关联关系",
                help_text="专家本人或近亲属与社会组织的关系（成员、理事监事、有偿顾问、近亲属任职）。抽取专家时自动回避这些组织的申报项目。",
            ),
        ],
        base_form_class=ExpertForm,
    )

    def scope_queryset(self, queryset, user):
        return super().scope_queryset(queryset, user).select_related("user", "region")


expert_viewset = ExpertViewSet("grants_experts")


# ---- pausing and resuming (core.admin_actions) -------------------------------------------------------------


def _expert_in_scope(request, pk):
    return get_object_or_404(scope(ExpertProfile.objects.select_related("user", "region"), request.user), pk=pk)


_render_expert = edit_view_render(expert_viewset, "expert_action_bound")


expert_actions = ActionScreen(
    model=ExpertProfile,
    get_object=_expert_in_scope,
    render=_render_expert,
    view_permission=VIEW_PERMISSION,
    forbidden_text=lambda action: f"您没有“{action.label}”的权限：只有专家所在区域的业务主管（民政）可以办理。",
    section=(SECTION, reverse_lazy("grants_experts:index")),
)

urlpatterns = [
    path("experts/<int:pk>/actions/<slug:action>/", expert_actions.as_view(), name="expert_action"),
    path(
        "organisations/choose/",
        OrganisationChooseView.as_view(**_CHOOSER_KWARGS),
        name="organisation_choose",
    ),
    path(
        "organisations/choose/results/",
        OrganisationChooseResultsView.as_view(**_CHOOSER_KWARGS),
        name="organisation_choose_results",
    ),
    path(
        "organisations/choose/<int:pk>/",
        OrganisationChosenView.as_view(model=Organisation),
        name="organisation_chosen",
    ),
]


# ---- registration ---------------------------------------------------------------------------------------------


@hooks.register("register_admin_viewset")
def register_expert_viewset():
    return expert_viewset


@hooks.register(GRANTS_MENU_HOOK)
def experts_menu_item():
    from core.admin_ui import PermissionMenuItem

    return PermissionMenuItem(
        "专家库",
        reverse("grants_experts:index"),
        name="grants-experts",
        icon_name="user",
        order=110,
        permission=VIEW_PERMISSION,
    )


class _NoteFormatter(LogFormatter):
    def format_message(self, log_entry):
        note = (log_entry.data or {}).get("note")
        return f"{self.message}：{note}" if note else self.message


@hooks.register("register_log_actions")
def register_expert_log_actions(actions):
    for action, label in ((services.PAUSED_LOG, "暂停评审"), (services.RESUMED_LOG, "恢复评审")):
        actions.register_action(action)(
            type(f"Formatter_{label}", (_NoteFormatter,), {"label": label, "message": label})
        )
