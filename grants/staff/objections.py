"""公示异议 in the Wagtail admin (/admin/grants/objections/): the objections filed on the 公示
of calls in the user's region, waiting ones first, filtered by call and status; one
objection's page with everything the objector left (contact and evidence: staff only),
the project it concerns, and the handling actions its state machine offers (异议成立 /
异议不成立, a written 处理情况 required), run by grants.services.publicity through
core.admin_actions. Plus the dashboard's waiting item.

Who sees them: staff holding grants.manage_call or grants.view_call in the call's region;
only a call manager there may handle one (Objection's transitions say so), so auditors and
finance read the page and get a 403 on a POST."""

from django.db.models import Case, IntegerField, Value, When
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import Truncator
from wagtail import hooks
from wagtail.admin.auth import any_permission_required

from accounts.selectors import has_scoped_perm, region_in_scope
from core.admin_actions import ActionScreen, action_groups
from core.admin_lists import HTMLColumn, StaffIndexView, StaffListViewSet, StatusColumn, TextColumn, row_url
from core.admin_ui import admin_breadcrumbs
from core.dashboard import WAITING_ITEMS_HOOK, WaitingItem, waited_since
from core.files import serve_private
from orgs.filters import ScopedFilterSet, radio_choice

from ..filters import CallFilter
from ..models import MANAGE_PERMISSION, Objection, ObjectionStatus
from ..selectors.publicity import SCOPE_FIELD, objection_for_staff, waiting_objections
from ..services.publicity import receipt_number, window_dates
from . import GRANTS_MENU_HOOK

S = ObjectionStatus
VIEW_PERMISSIONS = (MANAGE_PERMISSION, "grants.view_call")
SECTION = ("公益创投", None)


def may_view(user) -> bool:
    return any(user.has_perm(p) for p in VIEW_PERMISSIONS)


def objection_url(objection) -> str:
    return row_url("grants_admin:objection", objection.pk)


# ---- the list --------------------------------------------------------------------------------------


class ObjectionFilterSet(ScopedFilterSet):
    call = CallFilter(label="征集", field_name="publicity__call")
    status = radio_choice("状态", S.choices)

    class Meta:
        model = Objection
        fields = []


class ObjectionIndexView(StaffIndexView):
    section = "公益创投"
    page_title = "公示异议"
    count_unit = "件异议"
    intro = (
        "公示期内公众提出的异议，待处理的在前。异议人的联系方式和材料仅工作人员可见；公示页面只显示收到和处理的件数。"
    )
    empty_message = "您负责区域的公示还没有收到异议。"
    filtered_empty_message = "没有符合筛选条件的异议。"
    orderings = {"waiting": ("waiting", "-created_at")}

    def user_has_permission(self, permission):
        return may_view(self.request.user)

    def get_base_queryset(self):
        waiting = Case(When(status=S.RECEIVED, then=Value(0)), default=Value(1), output_field=IntegerField())
        return (
            Objection.objects.select_related("publicity__call", "proposal", "handled_by")
            .only(
                "created_at",
                "status",
                "publicity__title",
                "publicity__call__title",
                "publicity__call__year",
                "publicity__call__status",
                "proposal__title",
                "proposal__number",
                "proposal__status",
                "handled_by__name",
                "handled_by__username",
            )
            .annotate(waiting=waiting)
        )


def _muted(text):
    return format_html('<div class="w-help-text">{}</div>', text)


def _submitted(o):
    return format_html(
        '<a href="{}">{}</a>{}',
        objection_url(o),
        timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M"),
        _muted(f"异议编号 {receipt_number(o)}"),
    )


def _publicity(o):
    return format_html("{}{}", o.publicity.title, _muted(o.publicity.call.title))


def _proposal(o):
    if o.proposal_id is None:
        return format_html('<span class="gy-muted">{}</span>', "针对整个名单")
    return format_html("{}{}", Truncator(o.proposal.title).chars(24), _muted(o.proposal.number))


def _handler(o):
    user = o.handled_by
    return (getattr(user, "name", "") or user.get_username()) if user else "—"


class ObjectionListViewSet(StaffListViewSet):
    model = Objection
    scope_region_field = SCOPE_FIELD
    url_namespace = "grants_admin"
    index_name = "objections"
    index_path = "objections/"
    index_view_class = ObjectionIndexView
    filterset_class = ObjectionFilterSet
    ordering = "waiting"
    icon = "warning"
    menu_label = "公示异议"
    menu_name = "grants-objections"
    menu_icon = "warning"
    menu_order = 400
    list_display = [
        HTMLColumn("created_at", label="提交时间", render=_submitted, sort_key="created_at", classname="title"),
        HTMLColumn("publicity", label="公示", render=_publicity, sort_key="publicity__title"),
        HTMLColumn("proposal", label="对应项目", render=_proposal, sort_key="proposal__title"),
        StatusColumn(
            "status",
            label="状态",
            accessor="get_status_display",
            primary=lambda o: o.status == S.RECEIVED,
            sort_key="status",
            classname="w-whitespace-nowrap",
        ),
        TextColumn("handled_by", label="处理人", accessor=_handler, classname="w-whitespace-nowrap"),
    ]

    menu_hook = GRANTS_MENU_HOOK  # the 公益创投 submenu

    menu_check = may_view

    @cached_property
    def permission(self):
        return VIEW_PERMISSIONS[1]


objections_viewset = ObjectionListViewSet("grants_objections")


@hooks.register("register_admin_viewset")
def register_objections_list():
    return objections_viewset  # its on_register adds the scope and the item in the 公益创投 menu


# ---- one objection --------------------------------------------------------------------------------


def _objection(request, pk) -> Objection:
    """The objection in the user's scope (Http404 outside)."""
    return objection_for_staff(request.user, pk)


def _render(request, objection, *, bound: dict | None = None, status: int = 200):
    user = request.user
    publicity = objection.publicity
    call = publicity.call
    groups = action_groups(objection, user, bound=bound)
    proposal = objection.proposal
    page = getattr(publicity, "page", None)
    context = {
        "header_title": f"公示异议 {receipt_number(objection)}",
        "header_icon": "warning",
        "breadcrumbs_items": admin_breadcrumbs(
            SECTION, ("公示异议", reverse("grants_admin:objections")), (receipt_number(objection), None)
        ),
        "objection": objection,
        "receipt": receipt_number(objection),
        "publicity": publicity,
        "call": call,
        "window": window_dates(publicity),
        "public_url": page.url if page is not None and page.live else "",
        "proposal": proposal,
        "row": next((r for r in publicity.rows or [] if proposal and r.get("proposal") == proposal.pk), None),
        "proposal_url": (
            reverse("grants_admin:proposal", args=[proposal.pk])
            if proposal and user.has_perm("grants.view_proposal") and region_in_scope(user, call.region)
            else ""
        ),
        "evidence_url": reverse("grants_admin:objection_evidence", args=[objection.pk]) if objection.evidence else "",
        "action_groups": groups,
        "action_url_name": "grants_admin:objection_action",
        "read_only": not groups and not has_scoped_perm(user, MANAGE_PERMISSION, call.region),
    }
    return TemplateResponse(request, "grants/staff/objection.html", context, status=status)


@any_permission_required(*VIEW_PERMISSIONS)
def objection(request, pk):
    return _render(request, _objection(request, pk))


@any_permission_required(*VIEW_PERMISSIONS)
def objection_evidence(request, pk):
    """The evidence an objector uploaded, for staff of the call's region only."""
    found = _objection(request, pk)
    return serve_private(found.evidence, download_name=found.evidence_name or "证明材料", as_attachment=True)


objection_actions = ActionScreen(
    model=Objection,
    get_object=_objection,
    render=_render,
    view_permission=VIEW_PERMISSIONS[1],
    forbidden_text=lambda action: (
        f"您没有“{action.label}”的权限：异议须由征集所在区域的业务主管（民政）处理；审计、财务等岗位只能查看。"
    ),
    section=("公示异议", reverse_lazy("grants_admin:objections")),
    back_label=lambda o: f"公示异议 {receipt_number(o)}",
)


# ---- the dashboard -------------------------------------------------------------------------------


@hooks.register(WAITING_ITEMS_HOOK)
def objections_waiting_items(request) -> list[WaitingItem]:
    user = request.user
    if not user.has_perm(MANAGE_PERMISSION):
        return []
    found = waiting_objections(user)
    if not found["count"]:
        return []
    return [
        WaitingItem(
            label="公示异议待处理",
            url=f"{reverse('grants_admin:objections')}?status={S.RECEIVED}",
            count=found["count"],
            detail=waited_since("最早一件提交于", found["oldest"]),
            urgent=True,
            order=30,
        )
    ]


urlpatterns = [
    *objections_viewset.urlpatterns,
    path("objections/<int:pk>/", objection, name="objection"),
    path("objections/<int:pk>/evidence/", objection_evidence, name="objection_evidence"),
    path("objections/<int:pk>/<slug:action>/", objection_actions.as_view(), name="objection_action"),
]
