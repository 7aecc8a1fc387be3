"""申报项目, the staff proposal list (/admin/grants/proposals/), a Wagtail listing on
core.admin_lists: the proposals to the calls in the user's region, filters and search as
query parameters (grants.filters), every column sortable that can be, 50 a page.

Rows open the proposal's staff page (grants/staff/proposals.py), where the eligibility
check runs through grants.services.checks. The list loads only the columns it shows; a sort
over the organisation's or the call's name spans joined tables, so for those it sorts and
slices the primary keys first (`keys_first`): narrow rows sort fast."""

from django.db.models import Case, DecimalField, F, When
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from wagtail import hooks

from core.admin_lists import HTMLColumn, StaffIndexView, StaffListViewSet, TextColumn, row_url, status_tag
from core.dates import chinese_date
from core.excel import export_button

from ..filters import ProposalFilterSet
from ..models import Proposal, ProposalStatus
from ..rules import fmt_money, fmt_percent
from ..selectors.proposals import SCOPE_FIELD, STAFF_VISIBLE
from . import GRANTS_MENU_HOOK

P = ProposalStatus
VIEW_PERMISSION = "grants.view_proposal"
# the columns a row reads; related FSM fields too (ConcurrentTransitionMixin reads them on load)
LIST_FIELDS = (
    "number",
    "title",
    "status",
    "submitted_at",
    "grant_amount",
    "budget_total",
    "correction_deadline",
    "call__title",
    "call__year",
    "call__level",
    "call__status",
    "organisation__name",
    "organisation__org_type",
    "organisation__status",
)
# 资助占比 as the database computes it, for sorting (the cell shows Proposal.grant_share)
GRANT_SHARE = Case(
    When(budget_total__gt=0, then=F("grant_amount") * 100 / F("budget_total")),
    default=None,
    output_field=DecimalField(max_digits=7, decimal_places=2),
)
# the statuses shown with the emphasised tag: the ones waiting for staff
WAITING = (P.SUBMITTED,)


def proposal_url(proposal) -> str:
    return row_url("grants_admin:proposal", proposal.pk)


def _muted(text):
    return format_html('<div class="w-help-text">{}</div>', text)


def _title(p):
    return format_html('<a href="{}">{}</a>', proposal_url(p), p.title or "（未填写项目名称）")


def _organisation(p):
    return format_html("{}{}", p.organisation.name, _muted(p.organisation.get_org_type_display()))


def _call(p):
    return format_html("{}{}", p.call.title, _muted(f"{p.call.year}年 · {p.call.get_level_display()}"))


def _status(p):
    tag = status_tag(p.get_status_display(), primary=p.status in WAITING)
    if p.status == P.RETURNED and p.correction_deadline:
        late = p.correction_deadline < timezone.localdate()
        note = f"补正截止 {chinese_date(p.correction_deadline)}" + ("（已逾期）" if late else "")
        note = format_html('<div class="w-help-text{}">{}</div>', " staff-overdue" if late else "", note)
        return format_html("{}{}", tag, note)
    return tag


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


# the sorts over another table's column: the primary keys are sorted first (StaffIndexView)
JOINED_SORTS = {"organisation__name", "call__title"}


class ProposalIndexView(StaffIndexView):
    section = "公益创投"
    page_title = "申报项目"
    count_unit = "个申报项目"
    intro = "已提交的申报项目（草稿仍属申报单位，不在此列出）。点击项目名称进入资格审查。"
    empty_message = "您负责区域的征集还没有收到申报。"
    filtered_empty_message = "没有符合筛选条件的申报项目。"
    search_placeholder = "项目名称、申报编号、组织名称或信用代码"
    orderings = {"grant_share": (F("grant_share_sort").asc(nulls_last=True),)}

    @cached_property
    def keys_first(self):
        return (self.ordering or "").lstrip("-") in JOINED_SORTS

    def get_base_queryset(self):
        return (
            Proposal.objects.filter(STAFF_VISIBLE)
            .select_related("call", "organisation")
            .only(*LIST_FIELDS)
            .annotate(grant_share_sort=GRANT_SHARE)
        )

    @cached_property
    def header_buttons(self):
        if not self.request.user.has_perm(VIEW_PERMISSION):
            return []
        # the export (grants/staff/exports.py) reads the same ProposalFilterSet as this list
        query = self.request.GET.copy()
        for key in (self.page_kwarg, "ordering", "_w_filter_fragment"):
            query.pop(key, None)
        query = query.urlencode()
        url = reverse("grants_admin:proposals_export") + (f"?{query}" if query else "")
        return [export_button(url)]  # one click POSTs the list's filters; nothing starts on a GET


class ProposalListViewSet(StaffListViewSet):
    model = Proposal
    scope_region_field = SCOPE_FIELD
    url_namespace = "grants_admin"
    index_name = "proposals"
    index_path = "proposals/"
    permission = VIEW_PERMISSION
    index_view_class = ProposalIndexView
    filterset_class = ProposalFilterSet
    ordering = "-submitted_at"
    icon = "doc-full"
    menu_label = "申报项目"
    menu_name = "grants-proposals"
    menu_icon = "doc-full"
    menu_order = 200
    list_display = [
        TextColumn("number", label="申报编号", sort_key="number", classname="w-whitespace-nowrap"),
        HTMLColumn("title", label="项目名称", render=_title, sort_key="title", classname="title"),
        HTMLColumn("organisation", label="申报组织", render=_organisation, sort_key="organisation__name"),
        HTMLColumn("call", label="征集", render=_call, sort_key="call__title"),
        TextColumn(
            "grant_amount",
            label="申请金额（元）",
            accessor=lambda p: fmt_money(p.grant_amount),
            sort_key="grant_amount",
            classname="w-whitespace-nowrap",
        ),
        TextColumn(
            "grant_share", label="资助占比", accessor=lambda p: fmt_percent(p.grant_share), sort_key="grant_share"
        ),
        TextColumn(
            "submitted_at",
            label="提交时间",
            accessor=lambda p: _local(p.submitted_at),
            sort_key="submitted_at",
            classname="w-whitespace-nowrap",
        ),
        HTMLColumn("status", label="状态", render=_status, sort_key="status"),
    ]

    menu_hook = GRANTS_MENU_HOOK  # the 公益创投 submenu


proposals_viewset = ProposalListViewSet("grants_proposals")
urlpatterns = proposals_viewset.urlpatterns


@hooks.register("register_admin_viewset")
def register_proposals_list():
    return proposals_viewset  # its on_register adds the scope and the item in the 公益创投 menu
