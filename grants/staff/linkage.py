"""推荐项目 (三级联动) in the Wagtail admin (/admin/grants/recommendations/): the
recommendations into the calls of the user's region and out of them, pending first,
with the lower call's score. Rows open the proposal's staff page, where the recommendation
is made (the "推荐至上级征集" action, grants.services.linkage) and its context shown
(grants.selectors.linkage.recommendation_context)."""

from functools import cache

from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from wagtail import hooks

from accounts.selectors import region_in_scope, scope_q
from core.admin_lists import HTMLColumn, StaffIndexView, StaffListViewSet, StatusColumn, TextColumn
from orgs.filters import ScopedFilterSet, radio_choice

from ..filters import CallFilter
from ..models import Recommendation, RecommendationState
from ..views import linkage as _portal  # noqa: F401  (registers the applicant's /me/ panel)
from . import GRANTS_MENU_HOOK

VIEW_PERMISSION = "grants.view_recommendation"


class RecommendationFilterSet(ScopedFilterSet):
    state = radio_choice("状态", RecommendationState.choices)
    to_call = CallFilter(label="推荐至")

    class Meta:
        model = Recommendation
        fields = []


class RecommendationIndexView(StaffIndexView):
    keys_first = True
    section = "公益创投"
    page_title = "推荐项目"
    intro = "三级联动：下级征集推荐到您负责区域的征集的项目，以及您负责的征集推荐出去的项目，待确认的在前。"
    empty_message = "还没有推荐项目。"
    filtered_empty_message = "没有符合筛选条件的推荐。"
    orderings = {"pending": ("is_pending", "-created_at")}

    def get_base_queryset(self):
        pending = Case(
            When(state=RecommendationState.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return Recommendation.objects.select_related(
            "to_call", "proposal__call", "proposal__organisation", "result", "recommended_by"
        ).annotate(is_pending=pending)


@cache
def _proposal_prefix() -> str:
    return reverse("grants_admin:proposal", args=[0])[: -len("0/")]


def _project(rec):
    shown = rec.result or rec.proposal
    return format_html(
        '<a href="{}{}/">{}</a><div class="w-help-text">{}</div>',
        _proposal_prefix(),
        shown.pk,
        rec.proposal.title,
        rec.proposal.organisation.name,
    )


def _score(rec):
    score = rec.proposal.score
    return f"{score:.2f}" if score is not None else "未评审"


class RecommendationListViewSet(StaffListViewSet):
    model = Recommendation
    url_namespace = "grants_admin"
    index_name = "recommendations"
    index_path = "recommendations/"
    permission = VIEW_PERMISSION
    index_view_class = RecommendationIndexView
    filterset_class = RecommendationFilterSet
    ordering = "pending"
    icon = "arrow-up"
    menu_label = "推荐项目"
    menu_name = "grants-recommendations"
    menu_icon = "arrow-up"
    menu_order = 250
    list_display = [
        HTMLColumn("project", label="项目", render=_project, classname="title"),
        TextColumn("from_call", label="推荐自", accessor="proposal.call.title"),
        TextColumn("to_call", label="推荐至", accessor="to_call.title", sort_key="to_call__title"),
        TextColumn("score", label="下级评审得分", accessor=_score),
        TextColumn("lower_status", label="下级审查结果", accessor=lambda r: r.proposal.get_status_display()),
        TextColumn("reason", label="推荐理由", accessor=lambda r: Truncator(r.reason).chars(40)),
        TextColumn(
            "created_at",
            label="推荐时间",
            accessor=lambda r: timezone.localtime(r.created_at).strftime("%Y-%m-%d"),
            sort_key="created_at",
            classname="w-whitespace-nowrap",
        ),
        StatusColumn(
            "state",
            label="状态",
            accessor="get_state_display",
            sort_key="pending",
            primary=lambda r: r.state == RecommendationState.PENDING,
            classname="w-whitespace-nowrap",
        ),
    ]

    # in scope: recommended into a call of the user's region, or out of one
    def scope_queryset(self, queryset, user):
        into, out = scope_q(user, region_field="to_call__region"), scope_q(user, region_field="proposal__call__region")
        return queryset if into is None else queryset.filter(into | out)

    def instance_in_scope(self, instance, user) -> bool:
        return region_in_scope(user, instance.to_call.region) or region_in_scope(user, instance.proposal.call.region)

    menu_hook = GRANTS_MENU_HOOK  # the 公益创投 submenu


recommendations_viewset = RecommendationListViewSet("grants_recommendations")
urlpatterns = recommendations_viewset.urlpatterns


@hooks.register("register_admin_viewset")
def register_recommendations_list():
    return recommendations_viewset
