"""Incubation's staff lists as Wagtail viewsets (core.admin_lists): 入驻孵化, the operator's
queue (/admin/incubator/incubations/), and 推荐晋级, the promotions inbox
(/admin/incubator/promotions/). Rows open the stay's and the promotion's own pages
(incubator/views_admin.py), where every change goes through incubator.services."""

import django_filters
from django.db.models import BooleanField, Case, F, Value, When
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import Truncator

from core.admin_lists import (
    HTMLColumn,
    LinkColumn,
    StaffIndexView,
    StaffListViewSet,
    StatusColumn,
    TextColumn,
    row_url,
    status_tag,
)
from core.forms import Select
from core.workdays import workdays_between
from orgs.filters import CheckboxFilter, ScopedFilterSet, radio_choice

from .models import RESIDENT_STATES, Incubation, IncubationBase, IncubationStatus, Promotion, PromotionState
from .selectors import QUEUE_ORDERINGS, bases_for_staff, overdue_count, overdue_q

S = IncubationStatus
QUEUE_PERMISSION = "incubator.view_incubation"
PROMOTIONS_PERMISSION = "incubator.view_promotion"


def _muted(text):
    return format_html('<span class="w-help-text">{}</span>', text)


def _date(day):
    return day.strftime("%Y-%m-%d") if day else "—"


# ---- 入驻孵化 ------------------------------------------------------------------------------------


class BaseFilter(django_filters.ModelChoiceFilter):
    """The bases in the user's scope (set by QueueFilterSet)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", IncubationBase.objects.none())
        kwargs.setdefault("empty_label", "全部基地")
        kwargs.setdefault("widget", Select)
        super().__init__(*args, **kwargs)

    def choices_for(self, user):
        return bases_for_staff(user).order_by("level", "name") if user is not None else IncubationBase.objects.all()


class QueueFilterSet(ScopedFilterSet):
    base = BaseFilter(label="孵化基地")
    status = radio_choice("状态", S.choices)
    overdue = CheckboxFilter(label="只看初审超期", method="only_overdue")

    class Meta:
        model = Incubation
        fields = []

    def only_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q(timezone.localdate())) if value else queryset


class QueueIndexView(StaffIndexView):
    keys_first = True  # sorted over four joined tables
    section = "孵化基地"
    page_title = "入驻孵化"
    empty_message = "您负责的基地还没有入驻申请。"
    filtered_empty_message = "没有符合筛选条件的入驻记录。"
    # the queue's own orders (incubator.selectors), reachable from the column headings
    orderings = {key: fields for key, (_, fields) in QUEUE_ORDERINGS.items() if not key.startswith("-")}

    @cached_property
    def today(self):
        return timezone.localdate()

    def get_base_queryset(self):
        today = self.today
        # only the columns shown: the queue sorts every stay in scope, and narrow rows sort fast
        fields = ("status", "applied_on", "screening_due", "residence", "desk_label", "wants_desk", "ends_on")
        # a related model's FSM field is loaded too (ConcurrentTransitionMixin reads it on load)
        related = (
            "base__name",
            "base__region__name",
            "organisation__name",
            "organisation__org_type",
            "organisation__status",
        )
        qs = Incubation.objects.select_related("base", "base__region", "organisation").only(*fields, *related)
        return qs.annotate(
            is_overdue=Case(
                When(overdue_q(today), then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            waiting_due=Case(When(status=S.APPLIED, then=F("screening_due")), default=None),
        )

    def decorate_rows(self, rows):
        days = {}  # counting working days walks the calendar: once per due date, not per row
        for inc in rows:
            if inc.is_overdue and inc.screening_due not in days:
                days[inc.screening_due] = workdays_between(inc.screening_due, self.today)
            inc.overdue_days = days[inc.screening_due] if inc.is_overdue else 0
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.results_only:
            context["overdue_total"] = overdue_count(self.request.user, self.today)
        return context


def _overdue_flag(inc):
    if not inc.is_overdue:
        return _muted("—")
    return status_tag(f"⚠ 超期 {inc.overdue_days} 个工作日", primary=True, title=f"初审截止 {_date(inc.screening_due)}")


def _residence(inc):
    if inc.residence == "desk":
        return f"工位 {inc.desk_label}"
    if inc.residence:
        return "虚拟入驻"
    return _muted("申请工位" if inc.wants_desk else "申请虚拟")


def _incubation_url(inc):
    return row_url("incubator_admin:incubation", inc.pk)


class QueueViewSet(StaffListViewSet):
    model = Incubation
    scope_region_field = "base__region"
    url_namespace = "incubator_admin"
    index_name = "queue"
    index_path = "incubations/"
    permission = QUEUE_PERMISSION
    index_view_class = QueueIndexView
    index_template_name = "incubator/admin/queue.html"
    filterset_class = QueueFilterSet
    ordering = "overdue"
    icon = "tasks"
    menu_label = "入驻孵化"
    menu_name = "incubator-queue"
    menu_icon = "tasks"
    menu_order = 100
    list_display = [
        HTMLColumn("overdue", label="初审超期", render=_overdue_flag, sort_key="overdue"),
        HTMLColumn(
            "organisation",
            label="组织",
            classname="title",
            sort_key="organisation",
            render=lambda inc: format_html(
                '<a href="{}">{}</a><div class="w-help-text">{}</div>',
                _incubation_url(inc),
                inc.organisation.name,
                inc.organisation.get_org_type_display(),
            ),
        ),
        HTMLColumn(
            "base",
            label="孵化基地",
            render=lambda inc: format_html('{}<div class="w-help-text">{}</div>', inc.base.name, inc.base.region.name),
        ),
        StatusColumn(
            "status", label="状态", accessor="get_status_display", primary=lambda inc: inc.status in RESIDENT_STATES
        ),
        TextColumn("applied_on", label="申请日期", accessor=lambda inc: _date(inc.applied_on), sort_key="applied_on"),
        TextColumn(
            "screening_due", label="初审截止", accessor=lambda inc: _date(inc.screening_due), sort_key="screening_due"
        ),
        HTMLColumn("residence", label="入驻方式", render=_residence),
        TextColumn("ends_on", label="孵化期满", accessor=lambda inc: _date(inc.ends_on)),
        HTMLColumn(
            "open",
            label="",
            render=lambda inc: format_html(
                '<a class="button button-small{}" href="{}">{}</a>',
                "" if inc.is_overdue else " button-secondary",
                _incubation_url(inc),
                "初审" if inc.status == S.APPLIED else "查看",
            ),
        ),
    ]


# ---- 推荐晋级 ------------------------------------------------------------------------------------


class PromotionFilterSet(ScopedFilterSet):
    state = radio_choice("状态", PromotionState.choices)
    to_base = BaseFilter(label="推荐至")

    class Meta:
        model = Promotion
        fields = []


class PromotionsIndexView(StaffIndexView):
    keys_first = True  # sorted over five joined tables
    section = "孵化基地"
    page_title = "推荐晋级"
    intro = "下级基地推荐到您负责的基地的组织，待处理的在前。接收后直接入驻，无需组织重新申请。"
    empty_message = "目前没有下级基地的推荐。"
    filtered_empty_message = "没有符合筛选条件的推荐。"
    orderings = {"pending": ("is_pending", "-created_at")}

    def get_base_queryset(self):
        return (
            Promotion.objects.select_related(
                "to_base", "incubation__base", "incubation__organisation", "recommended_by"
            )
            .only(
                "state",
                "reason",
                "created_at",
                "to_base__name",
                "incubation__base__name",
                "incubation__status",  # FSM fields: ConcurrentTransitionMixin reads them on load
                "incubation__organisation__name",
                "incubation__organisation__status",
                *(f"recommended_by__{f}" for f in ("username", "name", "first_name", "last_name")),
            )
            .annotate(is_pending=Case(When(state=PromotionState.PENDING, then=Value(0)), default=Value(1)))
        )


def _promotion_url(promo):
    return row_url("incubator_admin:promotion", promo.pk)


class PromotionsViewSet(StaffListViewSet):
    model = Promotion
    scope_region_field = "to_base__region"
    url_namespace = "incubator_admin"
    index_name = "promotions"
    index_path = "promotions/"
    permission = PROMOTIONS_PERMISSION
    index_view_class = PromotionsIndexView
    filterset_class = PromotionFilterSet
    ordering = "pending"
    icon = "arrow-up"
    menu_label = "推荐晋级"
    menu_name = "incubator-promotions"
    menu_icon = "arrow-up"
    menu_order = 110
    list_display = [
        LinkColumn(
            "organisation",
            label="组织",
            accessor="incubation.organisation.name",
            get_url=_promotion_url,
            sort_key="incubation__organisation__name",
        ),
        TextColumn("from_base", label="推荐基地", accessor="incubation.base.name"),
        TextColumn("to_base", label="推荐至", accessor="to_base.name", sort_key="to_base__name"),
        TextColumn("reason", label="推荐理由", accessor=lambda p: Truncator(p.reason).chars(60)),
        TextColumn("recommended_by", label="推荐人", accessor=lambda p: str(p.recommended_by or "—")),
        TextColumn(
            "created_at",
            label="推荐时间",
            accessor=lambda p: timezone.localtime(p.created_at).strftime("%Y-%m-%d"),
            sort_key="created_at",
        ),
        StatusColumn(
            "state",
            label="状态",
            accessor="get_state_display",
            sort_key="pending",
            primary=lambda p: p.state == PromotionState.PENDING,
        ),
        HTMLColumn(
            "open",
            label="",
            render=lambda p: format_html(
                '<a class="button button-small{}" href="{}">{}</a>',
                "" if p.state == PromotionState.PENDING else " button-secondary",
                _promotion_url(p),
                "处理" if p.state == PromotionState.PENDING else "查看",
            ),
        ),
    ]


queue_viewset = QueueViewSet("incubator_queue")
promotions_viewset = PromotionsViewSet("incubator_promotions")
urlpatterns = [*queue_viewset.urlpatterns, *promotions_viewset.urlpatterns]
