"""需求审核 in the Wagtail admin (/admin/grants/needs/): the list of needs in the user's
region subtree, waiting ones first, with filters and search; one need's page with
everything the resident left (the phone too: staff only), the possible duplicates in the
same community and the actions its state machine offers (accept, merge, reject), run by
grants.services.needs through core.admin_actions. Plus the dashboard's waiting item."""

from functools import cache

import django_filters
from django.db.models import Case, IntegerField, Q, Value, When
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from wagtail import hooks
from wagtail.admin.auth import permission_required

from accounts.models import Region
from core.admin_actions import ActionScreen, action_groups
from core.admin_lists import HTMLColumn, StaffIndexView, StaffListViewSet, StatusColumn, TextColumn, status_tag
from core.admin_ui import admin_breadcrumbs
from core.dashboard import WAITING_ITEMS_HOOK, WaitingItem, waited_since
from core.forms import Select
from orgs.filters import RegionFilter, ScopedFilterSet, radio_choice
from orgs.models import ServiceArea

from ..filters import CallFilter
from ..models import MODERATE_PERMISSION, Need, NeedStatus
from ..selectors.needs import (
    duplicate_flags,
    need_for_staff,
    possible_duplicates,
    waiting_summary,
    with_street,
)
from ..services.needs import can_moderate
from . import GRANTS_MENU_HOOK

VIEW_PERMISSION = "grants.view_need"
SECTION = ("公益创投", reverse_lazy("grants_admin:needs"))
S = NeedStatus


# ---- the list --------------------------------------------------------------------------------------


def search_needs(queryset, name, value):
    q = (value or "").strip()
    return queryset.filter(Q(title__icontains=q) | Q(description__icontains=q)) if q else queryset


class PlaceFilter(RegionFilter):
    """A street (with its communities) or one community, within the user's subtree."""

    def choices_for(self, user):
        return super().choices_for(user).filter(level__in=[Region.Level.STREET, Region.Level.COMMUNITY])


class NeedFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索", method=search_needs, max_length=100)
    status = radio_choice("状态", S.choices)
    place = PlaceFilter(label="街道/社区", empty_label="全部街道和社区")
    category = django_filters.ModelChoiceFilter(
        label="服务领域", queryset=ServiceArea.objects.all(), empty_label="全部领域", widget=Select
    )
    call = CallFilter(label="征集")

    class Meta:
        model = Need
        fields = []


class NeedIndexView(StaffIndexView):
    section = "公益创投"
    page_title = "社区需求"
    intro = "居民、社区居委会和网格员提交的需求，待审核的在前。采纳后在网站公开（不含电话），可标注征集和服务领域。"
    empty_message = "您负责的区域还没有收到社区需求。"
    filtered_empty_message = "没有符合筛选条件的需求。"
    search_placeholder = "需求标题或内容"
    orderings = {"waiting": ("waiting", "-created_at")}

    def get_base_queryset(self):
        waiting = Case(When(status=S.SUBMITTED, then=Value(0)), default=Value(1), output_field=IntegerField())
        return with_street(Need.objects.select_related("region", "category", "call")).annotate(waiting=waiting)

    def decorate_rows(self, rows):
        flags = duplicate_flags(rows)
        for n in rows:
            n.duplicate = flags.get(n.pk)
        return rows


@cache
def _need_prefix() -> str:
    return reverse("grants_admin:need", args=[0])[: -len("0/")]


def _need_url(n) -> str:
    return f"{_need_prefix()}{n.pk}/"


def _muted(text):
    return format_html('<div class="w-help-text">{}</div>', text)


def _title(n):
    # kept to one line each: on a phone the table scrolls instead of breaking every character
    return format_html(
        '<a href="{}" title="{}">{}</a>{}',
        _need_url(n),
        n.title,
        Truncator(n.title).chars(20),
        _muted(Truncator(n.description).chars(24)),
    )


def _place(n):
    return format_html("{}{}", n.region.name, _muted(n.street) if n.street else "")


def _duplicate(n):
    if not n.duplicate:
        return "—"
    title, score = n.duplicate
    return status_tag(f"疑似重复 {score}%", primary=True, title=title)


def _open(n):
    waiting = n.status == S.SUBMITTED
    return format_html(
        '<a class="button button-small{}" href="{}">{}</a>',
        "" if waiting else " button-secondary",
        _need_url(n),
        "审核" if waiting else "查看",
    )


class NeedListViewSet(StaffListViewSet):
    model = Need
    scope_region_field = "region"
    url_namespace = "grants_admin"
    index_name = "needs"
    index_path = "needs/"
    permission = VIEW_PERMISSION
    index_view_class = NeedIndexView
    filterset_class = NeedFilterSet
    ordering = "waiting"
    icon = "openquote"
    menu_label = "社区需求"
    menu_name = "grants-needs"
    menu_icon = "openquote"
    menu_order = 150
    list_display = [
        HTMLColumn("title", label="需求", render=_title, sort_key="title", classname="title w-whitespace-nowrap"),
        HTMLColumn("place", label="社区", render=_place, sort_key="region__path", classname="w-whitespace-nowrap"),
        TextColumn("category", label="服务领域", accessor=lambda n: n.category.name if n.category_id else "—"),
        TextColumn("people_count", label="涉及人数", sort_key="people_count"),
        TextColumn("supporters", label="同类需求", sort_key="supporters"),
        TextColumn("submitter_kind", label="提出人", accessor="get_submitter_kind_display"),
        TextColumn(
            "created_at",
            label="提交时间",
            accessor=lambda n: timezone.localtime(n.created_at).strftime("%Y-%m-%d"),
            sort_key="created_at",
            classname="w-whitespace-nowrap",
        ),
        StatusColumn(
            "status",
            label="状态",
            accessor="get_status_display",
            primary=lambda n: n.status == S.SUBMITTED,
            classname="w-whitespace-nowrap",
        ),
        HTMLColumn("duplicate", label="重复提示", render=_duplicate, classname="w-whitespace-nowrap"),
        HTMLColumn("open", label="", render=_open),
    ]

    menu_hook = GRANTS_MENU_HOOK  # the 公益创投 submenu


needs_viewset = NeedListViewSet("grants_needs")


@hooks.register("register_admin_viewset")
def register_needs_list():
    return needs_viewset  # its on_register adds the scope and the item in the 公益创投 menu


# ---- one need ------------------------------------------------------------------------------------


def _with_viewer(need, user):
    need.viewer = user  # the action forms offer the calls and needs of this moderator's scope
    return need


def _initial(need, action) -> dict | None:
    if action.slug in ("accept", "merge"):
        return {"need": need, "user": getattr(need, "viewer", None)}
    return None


def _render_need(request, need, *, bound: dict | None = None, status: int = 200):
    user = request.user
    moderator = can_moderate(user, need)
    groups = action_groups(need, user, bound=bound, initial=lambda action: _initial(need, action))
    context = {
        "header_title": need.title,
        "header_icon": "openquote",
        "breadcrumbs_items": admin_breadcrumbs(SECTION, ("社区需求", reverse("grants_admin:needs")), (need.title, "")),
        "need": need,
        "duplicates": possible_duplicates(need) if need.status == S.SUBMITTED else [],
        "merged": list(need.merged.order_by("created_at")) if need.status == S.ACCEPTED else [],
        "proposals": list(need.proposals.select_related("organisation", "call").order_by("-submitted_at", "-pk")),
        "action_groups": groups,
        "action_url_name": "grants_admin:need_action",
        "read_only": not moderator,
    }
    return TemplateResponse(request, "grants/needs/staff_need.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def need(request, pk):
    return _render_need(request, _with_viewer(need_for_staff(request.user, pk), request.user))


need_actions = ActionScreen(
    model=Need,
    get_object=lambda request, pk: _with_viewer(need_for_staff(request.user, pk), request.user),
    render=_render_need,
    view_permission=VIEW_PERMISSION,
    forbidden_text=lambda action: f"您没有“{action.label}”的权限：只有需求所在区域有审核权限的工作人员可以处理。",
    section=SECTION,
    initial=_initial,
)


# ---- the dashboard -------------------------------------------------------------------------------


@hooks.register(WAITING_ITEMS_HOOK)
def needs_waiting_items(request) -> list[WaitingItem]:
    user = request.user
    if not user.has_perm(MODERATE_PERMISSION):
        return []
    found = waiting_summary(user)
    if not found["count"]:
        return []
    return [
        WaitingItem(
            label="社区需求待审核",
            url=f"{reverse('grants_admin:needs')}?status={S.SUBMITTED}",
            count=found["count"],
            detail=waited_since("最早一条提交于", found["oldest"]),
            order=35,
        )
    ]


urlpatterns = [
    *needs_viewset.urlpatterns,
    path("needs/<int:pk>/", need, name="need"),
    path("needs/<int:pk>/<slug:action>/", need_actions.as_view(), name="need_action"),
]
