"""The registry's staff lists (/admin/orgs/ and /admin/orgs/review/) as Wagtail viewsets
(core.admin_lists): 登记名录 and 待审核. Rows open the review page (orgs/views_admin.py),
where every change goes through orgs.services.

`RegistryFilterSet` (orgs.filters) is the one the Excel export uses, so the export holds
what the list shows."""

from functools import cache

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from core.admin_lists import (
    HTMLColumn,
    LinkColumn,
    StaffIndexView,
    StaffListViewSet,
    StatusColumn,
    TextColumn,
    status_tag,
)
from core.excel import export_button

from .filters import RegistryFilterSet, ReviewQueueFilterSet
from .models import AnnualInspection, Organisation, OrganisationStatus
from .selectors import similar_name_flags, with_valid_grade

__all__ = ["RegistryFilterSet", "registry_viewset", "review_queue_viewset", "urlpatterns"]

VIEW_PERMISSION = "orgs.view_organisation"
EXPORT_PERMISSION = "orgs.export_organisation"
INSPECTION_LABELS = dict(AnnualInspection.Result.choices)
LONG_WAIT_DAYS = 5
# the columns the lists read: a row does not load 简介, bank details and the like
LIST_FIELDS = (
    "name",
    "org_type",
    "uscc",
    "filing_number",
    "status",
    "region__name",
    "region__path",
    "latest_inspection_year",
    "latest_inspection_result",
)


@cache
def _review_prefix() -> str:
    return reverse("orgs_admin:review", args=[0])[: -len("0/")]


def review_url(org) -> str:
    return f"{_review_prefix()}{org.pk}/"


def _muted(text):
    return format_html('<span class="w-help-text">{}</span>', text)


def _identifier(org):
    return format_html("<code>{}</code>", org.identifier) if (org.uscc or org.filing_number) else _muted("—")


def _inspection(org):
    if not org.latest_inspection_year:
        return _muted("无记录")
    return f"{org.latest_inspection_year}年度 {INSPECTION_LABELS.get(org.latest_inspection_result, '')}"


def _local(moment, fmt):
    return timezone.localtime(moment).strftime(fmt) if moment else "—"


# the first columns of both lists
ORG_COLUMNS = [
    LinkColumn("name", label="名称", get_url=review_url, sort_key="name"),
    TextColumn("org_type", label="类型", accessor="get_org_type_display", sort_key="org_type"),
    HTMLColumn("identifier", label="信用代码/备案编号", render=_identifier, classname="w-whitespace-nowrap"),
    TextColumn("region", label="区域", accessor="region.name", sort_key="region__path"),
]


class RegistryIndexView(StaffIndexView):
    section = "社会组织"
    page_title = "登记名录"
    count_unit = "个组织"
    empty_message = "您负责的区域内还没有登记的组织。"
    filtered_empty_message = "没有符合筛选条件的组织。"
    search_placeholder = "名称、信用代码或备案编号"

    def get_base_queryset(self):
        return with_valid_grade(Organisation.objects.select_related("region").only(*LIST_FIELDS, "updated_at"))

    @cached_property
    def header_buttons(self):
        if not self.request.user.has_perm(EXPORT_PERMISSION):
            return []
        # the export (orgs/views_exchange.py) reads the same RegistryFilterSet as this list
        query = self.request.GET.copy()
        for key in (self.page_kwarg, "ordering", "_w_filter_fragment"):
            query.pop(key, None)
        query = query.urlencode()
        url = reverse("orgs_exchange:export") + (f"?{query}" if query else "")
        return [export_button(url)]  # one click POSTs the list's filters; nothing starts on a GET


class ReviewQueueIndexView(StaffIndexView):
    section = "社会组织"
    page_title = "待审核"
    count_unit = "个组织"
    intro = (
        "按提交时间排列，等待最久的在前。“疑似重名”表示平台上已有名称非常接近的组织，"
        "请在审核页核对（仅作提醒，不影响审核）。"
    )
    empty_message = "目前没有待审核的组织。"
    filtered_empty_message = "没有符合筛选条件的待审核组织。"
    search_placeholder = "名称、信用代码或备案编号"
    orderings = {"submitted_at": (F("submitted_at").asc(nulls_first=True),)}

    def get_base_queryset(self):
        return (
            Organisation.objects.filter(status=OrganisationStatus.SUBMITTED)
            .select_related("region")
            .only(*LIST_FIELDS, "submitted_at")
        )

    def decorate_rows(self, rows):
        flags = similar_name_flags(rows, self.request.user)  # one query for the page
        today = timezone.localdate()
        for org in rows:
            org.days_waiting = (today - timezone.localtime(org.submitted_at).date()).days if org.submitted_at else None
            org.similar_name = flags.get(org.pk)
        return rows


def _days_waiting(org):
    if org.days_waiting is None:
        return "—"
    if org.days_waiting > LONG_WAIT_DAYS:
        return format_html('<strong class="staff-overdue">{} 天</strong>', org.days_waiting)
    return f"{org.days_waiting} 天"


def _similar_name(org):
    if not org.similar_name:
        return ""
    name, score = org.similar_name
    return format_html(
        '{}<div class="w-help-text">{}（{}%）</div>',
        status_tag("⚠ 疑似重名", primary=True, title=f"与“{name}”相似度 {score}%"),
        name,
        score,
    )


class RegistryViewSet(StaffListViewSet):
    model = Organisation
    url_namespace = "orgs_admin"
    index_name = "registry"
    index_path = ""
    permission = VIEW_PERMISSION
    index_view_class = RegistryIndexView
    filterset_class = RegistryFilterSet
    ordering = "-updated_at"
    icon = "group"
    menu_label = "登记名录"
    menu_name = "orgs-registry"
    menu_icon = "list-ul"
    menu_order = 100
    list_display = [
        *ORG_COLUMNS,
        StatusColumn(
            "status",
            label="状态",
            accessor="get_status_display",
            sort_key="status",
            primary=lambda o: o.status == OrganisationStatus.VERIFIED,
        ),
        HTMLColumn("valid_grade", label="评估等级", render=lambda o: o.valid_grade or "—"),
        HTMLColumn("inspection", label="最近年检", render=_inspection, classname="w-whitespace-nowrap"),
        TextColumn(
            "updated_at",
            label="更新时间",
            accessor=lambda o: _local(o.updated_at, "%Y-%m-%d %H:%M"),
            sort_key="updated_at",
            classname="w-whitespace-nowrap",
        ),
    ]


class ReviewQueueViewSet(StaffListViewSet):
    model = Organisation
    url_namespace = "orgs_admin"
    index_name = "queue"
    index_path = "review/"
    permission = VIEW_PERMISSION
    index_view_class = ReviewQueueIndexView
    filterset_class = ReviewQueueFilterSet
    ordering = "submitted_at"
    icon = "tasks"
    menu_label = "待审核"
    menu_name = "orgs-queue"
    menu_icon = "tasks"
    menu_order = 110
    list_display = [
        *ORG_COLUMNS,
        TextColumn(
            "submitted_at",
            label="提交时间",
            accessor=lambda o: _local(o.submitted_at, "%Y-%m-%d"),
            sort_key="submitted_at",
            classname="w-whitespace-nowrap",
        ),
        HTMLColumn("days_waiting", label="已等待", render=_days_waiting, classname="w-whitespace-nowrap"),
        HTMLColumn("similar_name", label="重名提示", render=_similar_name),
        HTMLColumn(
            "review",
            label="",
            render=lambda o: format_html('<a class="button button-small" href="{}">审核</a>', review_url(o)),
        ),
    ]


registry_viewset = RegistryViewSet("orgs_registry")
review_queue_viewset = ReviewQueueViewSet("orgs_review_queue")
urlpatterns = [*registry_viewset.urlpatterns, *review_queue_viewset.urlpatterns]
