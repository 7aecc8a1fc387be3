"""拨付 in the Wagtail admin:

- 拨付管理 (/admin/grants/tranches/): every tranche of the projects of calls in the user's
  region, filtered by call, status and 逾期, 50 a page; rows open the project's staff page
  at its tranches;
- the project page's 资金拨付 panel (#tranches): each tranche with its gate in words and,
  for finance staff of the call's region, 拨付 (while the gate holds) and 暂缓拨付, run by
  grants.services.tranches through core.admin_actions;
- 资金概览 (/admin/grants/finance/): the money of every decided call in scope, per call,
  per level (市/街道/社区) and in total, with a chart, summed in the database;
- the dashboard's waiting items for finance: tranches to pay and overdue ones.

Who sees them: finance (grants.release_tranche), call managers (grants.manage_call) and
auditors (grants.view_tranche) of the region; only finance acts (Tranche's transitions say
so), the others read and get a 403 on a POST."""

from decimal import Decimal

import django_filters
from django.db.models import BooleanField, Case, F, Q, Value, When
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.auth import any_permission_required

from accounts.selectors import has_scoped_perm
from core.admin_actions import ActionScreen, action_groups
from core.admin_lists import HTMLColumn, StaffIndexView, StaffListViewSet, TextColumn, row_url, status_tag
from core.admin_ui import PermissionMenuItem, admin_breadcrumbs
from core.charts import BAR, MONEY, Chart, Column, Table
from core.dashboard import WAITING_ITEMS_HOOK, WaitingItem, waited_since
from core.dates import chinese_date
from orgs.filters import CheckboxFilter, ScopedFilterSet, radio_choice

from ..filters import CallFilter
from ..models import FINANCE_PERMISSION, FUNDED_STATES, MANAGE_PERMISSION, TRANCHE_GATES, Tranche, TrancheStatus
from ..panels import PAGE_PANELS, PagePanel, register_panel
from ..rules import fmt_money
from ..selectors.proposals import proposal_for_staff
from ..selectors.tranches import (
    MEASURES,
    SCOPE_FIELD,
    finance_figures,
    overdue_q,
    proposal_tranches,
    tranches_for_staff,
    waiting_tranches,
)
from . import GRANTS_MENU_HOOK
from .proposals import _render as render_proposal

T = TrancheStatus
VIEW_PERMISSIONS = (FINANCE_PERMISSION, MANAGE_PERMISSION, "grants.view_tranche")
PANEL_KEY = "tranches"
SECTION = ("公益创投", None)


def may_view(user) -> bool:
    return any(user.has_perm(p) for p in VIEW_PERMISSIONS)


def _gate_label(gate: str) -> str:
    return TRANCHE_GATES.get(gate, gate)


def _muted(text):
    return format_html('<div class="w-help-text">{}</div>', text)


# ---- 拨付管理: the list -----------------------------------------------------------------------------


def search_tranches(queryset, name, value):
    """项目名称、申报编号、组织名称 (contains) or 凭证号 (exact)."""
    q = (value or "").strip()
    if not q:
        return queryset
    return queryset.filter(
        Q(proposal__title__icontains=q)
        | Q(proposal__number__icontains=q)
        | Q(proposal__organisation__name__icontains=q)
        | Q(voucher_no=q)
    )


class TrancheFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索", method=search_tranches, max_length=100)
    call = CallFilter(label="征集", field_name="proposal__call")
    status = radio_choice("状态", T.choices)
    overdue = CheckboxFilter(label="只看逾期（已过计划拨付日期仍未拨付）", method="only_overdue")

    class Meta:
        model = Tranche
        fields = []

    def only_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q()) if value else queryset


# the columns a row reads; related FSM fields too (ConcurrentTransitionMixin reads them on load)
LIST_FIELDS = (
    "position",
    "name",
    "gate",
    "percent",
    "amount",
    "due_on",
    "status",
    "paid_on",
    "voucher_no",
    "proposal__title",
    "proposal__number",
    "proposal__status",
    "proposal__call__title",
    "proposal__call__year",
    "proposal__call__level",
    "proposal__call__status",
    "proposal__organisation__name",
    "proposal__organisation__status",
)


def tranche_url(t) -> str:
    return row_url("grants_admin:proposal", t.proposal_id) + f"#{PANEL_KEY}"


def _project(t):
    p = t.proposal
    return format_html('<a href="{}">{}</a>{}', tranche_url(t), p.title or "（未填写项目名称）", _muted(p.number))


def _call(t):
    c = t.proposal.call
    return format_html("{}{}", c.title, _muted(f"{c.year}年 · {c.get_level_display()}"))


def _tranche(t):
    return format_html(
        "第{}期 · {}{}", t.position, t.name, _muted(f"{t.percent.normalize():f}% · {_gate_label(t.gate)}")
    )


def _due(t):
    if t.due_on:
        return chinese_date(t.due_on)
    return format_html('<span class="gy-muted">{}</span>', _gate_label(t.gate))


def _status(t):
    tag = status_tag(t.get_status_display(), primary=t.status == T.DUE)
    if t.is_overdue:
        return format_html("{} {}", tag, status_tag("逾期", primary=True, title=f"计划{chinese_date(t.due_on)}拨付"))
    if t.status == T.WITHHELD and t.withhold_reason:
        return format_html("{}{}", tag, _muted(t.withhold_reason))
    return tag


class TrancheIndexView(StaffIndexView):
    section = "公益创投"
    page_title = "拨付管理"
    count_unit = "期拨付"
    intro = (
        "已签订协议项目的各期资金。拨付条件满足后由财务人员在项目页面“资金拨付”中办理；"
        "已过计划拨付日期仍未拨付的标为“逾期”。"
    )
    empty_message = "您负责区域内还没有签订协议的项目。"
    filtered_empty_message = "没有符合筛选条件的拨付。"
    search_placeholder = "项目名称、申报编号、组织名称或凭证号"
    # overdue first, then by date (undated, gated ones last), each project's tranches in order
    orderings = {"overdue": ("-is_overdue", F("due_on").asc(nulls_last=True), "proposal_id", "position")}

    def user_has_permission(self, permission):
        return may_view(self.request.user)

    def get_base_queryset(self):
        today = timezone.localdate()
        return (
            Tranche.objects.select_related("proposal__call", "proposal__organisation")
            .only(*LIST_FIELDS, "withhold_reason")
            .annotate(
                is_overdue=Case(
                    When(overdue_q(today), then=Value(True)), default=Value(False), output_field=BooleanField()
                )
            )
        )

    @cached_property
    def header_buttons(self):
        from wagtail.admin.widgets.button import HeaderButton

        return [HeaderButton("资金概览", url=reverse("grants_admin:finance"), icon_name="table")]


class TrancheListViewSet(StaffListViewSet):
    model = Tranche
    scope_region_field = SCOPE_FIELD
    url_namespace = "grants_admin"
    index_name = "tranches"
    index_path = "tranches/"
    index_view_class = TrancheIndexView
    filterset_class = TrancheFilterSet
    ordering = "overdue"
    icon = "tasks"
    menu_label = "拨付管理"
    menu_name = "grants-tranches"
    menu_icon = "tasks"
    menu_order = 500
    list_display = [
        HTMLColumn("project", label="项目", render=_project, sort_key="proposal__title", classname="title"),
        TextColumn("organisation", label="申报组织", accessor=lambda t: t.proposal.organisation.name),
        HTMLColumn("call", label="征集", render=_call, sort_key="proposal__call__title"),
        HTMLColumn("position", label="期次", render=_tranche, classname="w-whitespace-nowrap"),
        TextColumn(
            "amount",
            label="金额（元）",
            accessor=lambda t: fmt_money(t.amount),
            sort_key="amount",
            classname="w-whitespace-nowrap",
        ),
        HTMLColumn("due_on", label="计划拨付日期", render=_due, sort_key="due_on", classname="w-whitespace-nowrap"),
        HTMLColumn("status", label="状态", render=_status, sort_key="status"),
        TextColumn(
            "paid_on",
            label="拨付日期",
            accessor=lambda t: chinese_date(t.paid_on) if t.paid_on else "—",
            sort_key="paid_on",
            classname="w-whitespace-nowrap",
        ),
        TextColumn("voucher_no", label="凭证号", accessor=lambda t: t.voucher_no or "—"),
    ]

    menu_hook = GRANTS_MENU_HOOK  # the 公益创投 submenu

    @cached_property
    def permission(self):
        return VIEW_PERMISSIONS[-1]

    def get_menu_item(self, order=None):
        return PermissionMenuItem(
            self.menu_label,
            self.menu_url,
            name=self.menu_name,
            icon_name=self.menu_icon,
            order=self.get_menu_item_order(order),
            check=may_view,
        )


tranches_viewset = TrancheListViewSet("grants_tranches")


@hooks.register("register_admin_viewset")
def register_tranches_list():
    return tranches_viewset  # its on_register adds the scope and the item in the 公益创投 menu


# ---- the project page's 资金拨付 panel ---------------------------------------------------------------


def _release_initial(t):
    return {"bank_account": t.proposal.organisation.bank_account}


def tranches_panel(proposal, user, bound):
    """The project's tranches with their gates in words, what was paid, what is next and,
    for finance, the actions: one query (none before the agreement is signed)."""
    if proposal.status not in FUNDED_STATES:
        return None
    rows = proposal_tranches(proposal)
    bound = bound or {}
    for t in rows:
        # 拨付 is offered only while the gate holds (the service says why otherwise)
        exclude = () if t.gate_verdict.holds else ("release",)
        t.groups = action_groups(
            t,
            user,
            bound=bound.get(t.pk),
            initial=lambda action, t=t: _release_initial(t) if action.slug == "release" else None,
            exclude=exclude,
        )
    released = sum((t.amount for t in rows if t.status == T.RELEASED), Decimal(0))
    proposal._released_total = released  # the evaluations panel reads it: no second sum
    return {
        "tranches": rows,
        "award": proposal.awarded_amount,
        "released": released,
        "remaining": (proposal.awarded_amount or Decimal(0)) - released,
        "next": next((t for t in rows if t.status != T.RELEASED), None),
        "may_release": has_scoped_perm(user, FINANCE_PERMISSION, proposal.call.region),
        "action_url_name": "grants_admin:tranche_action",
    }


register_panel(PagePanel(PANEL_KEY, "grants/admin/_tranches.html", tranches_panel, order=30), PAGE_PANELS)


def _tranche_for_staff(request, pk) -> Tranche:
    from django.shortcuts import get_object_or_404

    t = get_object_or_404(
        tranches_for_staff(request.user).select_related("proposal__call__region", "proposal__organisation"), pk=pk
    )
    proposal_for_staff(request.user, t.proposal_id)  # 404 unless the project's page is the user's to see
    return t


tranche_actions = ActionScreen(
    model=Tranche,
    get_object=_tranche_for_staff,
    render=lambda request, t, *, bound=None, status=200: render_proposal(
        request, proposal_for_staff(request.user, t.proposal_id), panel_bound={PANEL_KEY: {t.pk: bound}}, status=status
    ),
    view_permission="grants.view_proposal",
    forbidden_text=lambda action: (
        f"您没有“{action.label}”的权限：项目资金须由征集所在区域的财务人员办理；业务主管、审计等岗位只能查看。"
    ),
    success_url=lambda t, action, result: tranche_url(t),
    back_label=lambda t: str(t.proposal),
    section=("拨付管理", reverse_lazy("grants_admin:tranches")),
    initial=lambda t, action: _release_initial(t) if action.slug == "release" else None,
)


# ---- 资金概览: the finance dashboard ----------------------------------------------------------------

# the chart's series: colour and a legend short enough to sit side by side
CHART_SERIES = {
    "committed": ("#1d4ed8", "已立项"),
    "released": ("#1a7f37", "已拨付"),
    "withheld": ("#b3261e", "暂缓拨付"),
    "outstanding": ("#9aa0a8", "待拨付"),
}
CHART_CALLS = 8  # a chart of calls (one level in scope) shows the latest this many


def money_chart(title: str, rows, *, slug: str, by: str) -> Chart:
    """Grouped bars per row (a level or a call) of CHART_SERIES, drawn in 万元 by ECharts
    (core.charts); the page's own tables beside it hold the exact amounts."""
    table = Table(
        slug,
        title,
        by,
        [
            Column(key, f"{name}（元）", MONEY, legend=name, colour=colour)
            for key, (colour, name) in CHART_SERIES.items()
        ],
    )
    for row in rows:
        table.add(row.label, **{key: getattr(row, key) for key in CHART_SERIES})
    return Chart(table, BAR)


def _year(request, years) -> int | None:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return None
    return year if year in years else None


@any_permission_required(*VIEW_PERMISSIONS)
def finance(request):
    """资金概览: pool, committed, released, withheld, returned and clawed back per call and
    per level, the overdue tranches flagged; for the calls in the user's region."""
    user = request.user
    figures = finance_figures(user)
    year = _year(request, figures["years"])
    if year:
        figures = finance_figures(user, year=year)
    levels = figures["levels"]
    if len(levels) > 1:
        chart = money_chart("各层级资金情况", levels, slug="finance-levels", by="层级")
    else:
        calls = figures["calls"][:CHART_CALLS]
        chart = money_chart("各征集资金情况", calls, slug="finance-calls", by="征集") if calls else None
    region = user.region
    context = {
        "header_title": "资金概览",
        "header_icon": "table",
        "breadcrumbs_items": admin_breadcrumbs(SECTION, ("资金概览", None)),
        "scope_label": "全市" if user.is_superuser or region is None else region.full_name,
        "figures": figures,
        "year": year,
        "chart": chart,
        "measures": MEASURES,
        "tranches_url": reverse("grants_admin:tranches"),
    }
    return TemplateResponse(request, "grants/admin/finance.html", context)


@hooks.register(GRANTS_MENU_HOOK)
def finance_menu_item():
    return PermissionMenuItem(
        "资金概览", reverse("grants_admin:finance"), name="grants-finance", icon_name="table", order=510, check=may_view
    )


# ---- the dashboard's waiting items -------------------------------------------------------------------


@hooks.register(WAITING_ITEMS_HOOK)
def tranche_waiting_items(request) -> list[WaitingItem]:
    user = request.user
    if not user.has_perm(FINANCE_PERMISSION):
        return []
    today = timezone.localdate()
    found = waiting_tranches(user, today)
    url = reverse("grants_admin:tranches")
    items = []
    if found["to_pay"]:
        items.append(WaitingItem(label="项目资金待拨付", url=f"{url}?status={T.DUE}", count=found["to_pay"], order=45))
    if found["overdue"]:
        items.append(
            WaitingItem(
                label="项目资金逾期未拨付",
                url=f"{url}?overdue=on",
                count=found["overdue"],
                detail=waited_since("最早一期计划于", found["overdue_since"], today, waited="已逾期"),
                status="已逾期",
                urgent=True,
                order=46,
            )
        )
    return items


urlpatterns = [
    *tranches_viewset.urlpatterns,
    path("tranches/<int:pk>/<slug:action>/", tranche_actions.as_view(), name="tranche_action"),
    path("finance/", finance, name="finance"),
]
