"""评审管理: the call manager's screens of a call's review (/admin/grants/calls/<pk>/…).

- review/     where the review stands: each round's completion per proposal and per
              reviewer, and the actions the call's state allows (抽取专家, 催办, 结束评审,
              路演, 发布公示, 批复), all offered from their registrations
              (grants.services.award, core.workflow.extra_action)
- ranking/    the ranking (grants.ranking via grants.selectors.review): each reviewer's
              total as 评委k, the aggregate, spread, calibration and the agreement figure
- award/      the award list under the pool, committed by category and district
- ranking.xlsx  the workbook of grants.exports_ranking
- draws/<pk>/ one recorded panel draw, replayed on the page for the auditor

Everyone with grants.view_call in the call's region may look (auditors included); only a
call manager of the region may act (the services check it again). Reviewers never reach
these screens: they hold no grants.view_call."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from wagtail.admin.auth import permission_required

from accounts.selectors import scope
from core.admin_actions import ActionScreen, action_groups
from core.admin_ui import admin_breadcrumbs

from .. import ranking as rk
from ..draw import replay
from ..models import Call, CallStatus, ExpertProfile, ObjectionStatus, PanelDraw, PublicityKind, Stage
from ..rules import fmt_money
from ..selectors.review import call_ranking, round_progress, rounds_of
from ..services.award import REVIEW_ACTION_SLUGS, _manages, award_list, eligible_waiting

VIEW_PERMISSION = "grants.view_call"
RANK_PAGE_SIZE = 100


def call_for_staff(user, pk) -> Call:
    return get_object_or_404(scope(Call.objects.select_related("region"), user), pk=pk)


def _crumbs(call, here):
    return admin_breadcrumbs(
        ("公益创投", None),
        ("项目征集", reverse("grants_calls:index")),
        (call.title, reverse("grants_calls:edit", args=[call.pk])),
        (here, None),
    )


def _nav(call, here: str) -> list[dict]:
    items = [
        ("review", "评审进度", reverse("grants_admin:call_review", args=[call.pk])),
        ("ranking", "评审排名", reverse("grants_admin:call_ranking", args=[call.pk])),
        ("award", "立项名单", reverse("grants_admin:call_award", args=[call.pk])),
    ]
    return [{"key": k, "label": label, "url": url, "current": k == here} for k, label, url in items]


def _publicity(call):
    if call.status in (CallStatus.DRAFT, CallStatus.NEEDS, CallStatus.OPEN, CallStatus.CLOSED, CallStatus.REVIEWING):
        return None
    shortlist = call.publicities.filter(kind=PublicityKind.SHORTLIST).first()
    if shortlist is None:
        return None
    counts = {s: 0 for s in ObjectionStatus.values}
    for status in shortlist.objections.values_list("status", flat=True):
        counts[status] += 1
    return {
        "publicity": shortlist,
        "received": sum(counts.values()),
        "pending": counts[ObjectionStatus.RECEIVED],
        "upheld": counts[ObjectionStatus.UPHELD],
    }


def _render_review(request, call, *, bound=None, status=200):
    rounds = rounds_of(call)
    call.__dict__["_rounds"] = rounds
    sections = []
    for stage in (Stage.REVIEW, Stage.PITCH):
        rnd = rounds.get(stage)
        if rnd is not None:
            sections.append({"round": rnd, **round_progress(rnd)})
    groups = [g for g in action_groups(call, request.user, bound=bound) if g.first.slug in REVIEW_ACTION_SLUGS]
    context = {
        "header_title": f"评审管理：{call.title}",
        "header_icon": "group",
        "breadcrumbs_items": _crumbs(call, "评审管理"),
        "call": call,
        "nav": _nav(call, "review"),
        "sections": sections,
        "eligible_waiting": eligible_waiting(call),
        "pool_size": (
            ExpertProfile.objects.filter(available=True).count() if call.status == CallStatus.REVIEWING else None
        ),
        "publicity": _publicity(call),
        "action_groups": groups,
        "action_url_name": "grants_admin:call_review_action",
        "may_manage": _manages(call, request.user),
    }
    return TemplateResponse(request, "grants/admin/review_console.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def review_console(request, pk):
    return _render_review(request, call_for_staff(request.user, pk))


review_actions = ActionScreen(
    model=Call,
    get_object=lambda request, pk: call_for_staff(request.user, pk),
    render=_render_review,
    view_permission=VIEW_PERMISSION,
    forbidden_text=lambda action: f"您没有“{action.label}”的权限：只有征集所在区域的业务主管（民政）可以组织评审。",
    success_url=lambda call, action, result: reverse("grants_admin:call_review", args=[call.pk]),
    back_label=lambda call: call.title,
    section=("项目征集", "/admin/grants/calls/"),
)


def _page(request, rows):
    paginator = Paginator(rows, RANK_PAGE_SIZE)
    return paginator.get_page(request.GET.get("p"))


@permission_required(VIEW_PERMISSION)
def ranking_page(request, pk):
    call = call_for_staff(request.user, pk)
    result = call_ranking(call)
    ranking = result.ranking
    frame = result.proposals
    labels = result.reviewer_labels
    page = _page(request, ranking.rows)
    rows = []
    for r in page.object_list:
        info = frame.loc[r.proposal]
        rows.append(
            {
                "row": r,
                "number": info["number"],
                "title": info["title"],
                "url": reverse("grants_admin:proposal", args=[r.proposal]),
                "totals": [(labels[e], t) for e, t in sorted(r.reviewer_totals.items(), key=lambda et: labels[et[0]])],
            }
        )
    reviewers = []
    experts = {e.pk: e for e in ExpertProfile.objects.filter(pk__in=list(labels)).select_related("user")}
    for s in ranking.reviewers:
        reviewers.append(
            {
                "label": labels.get(s.reviewer, ""),
                "name": experts[s.reviewer].name if s.reviewer in experts else "",
                "stats": s,
            }
        )
    context = {
        "header_title": f"评审排名：{call.title}",
        "header_icon": "order",
        "breadcrumbs_items": _crumbs(call, "评审排名"),
        "call": call,
        "nav": _nav(call, "ranking"),
        "ranking": ranking,
        "rows": rows,
        "page": page,
        "reviewers": reviewers,
        "flagged": sum(1 for r in ranking.rows if r.flagged),
        "texts": {
            "calibration": rk.CALIBRATION_TEXT,
            "leniency": rk.LENIENCY_TEXT,
            "fell_back": rk.FELL_BACK_TEXT,
            "no_pitch": rk.NO_PITCH_TEXT,
        },
        "export_url": reverse("grants_admin:call_ranking_export", args=[call.pk]),
    }
    return TemplateResponse(request, "grants/admin/review_ranking.html", context)


@permission_required(VIEW_PERMISSION)
def award_page(request, pk):
    call = call_for_staff(request.user, pk)
    result, award = award_list(call)
    frame = result.proposals
    page = _page(request, award.rows)
    rows = [
        {
            "row": a,
            "number": frame.loc[a.proposal, "number"],
            "title": frame.loc[a.proposal, "title"],
            "requested": frame.loc[a.proposal, "requested"],
            "url": reverse("grants_admin:proposal", args=[a.proposal]),
        }
        for a in page.object_list
    ]
    context = {
        "header_title": f"立项名单：{call.title}",
        "header_icon": "tick-inverse",
        "breadcrumbs_items": _crumbs(call, "立项名单"),
        "call": call,
        "nav": _nav(call, "award"),
        "award": award,
        "rows": rows,
        "page": page,
        "funded": sum(1 for a in award.rows if a.funded),
        "money": {
            "pool": fmt_money(award.pool),
            "committed": fmt_money(award.committed),
            "remaining": fmt_money(award.remaining),
        },
        "by_category": [(k, fmt_money(v)) for k, v in award.committed_by_category.items()],
        "by_level": [(k, fmt_money(v)) for k, v in award.committed_by_level.items()],
        "publicity": _publicity(call),
    }
    return TemplateResponse(request, "grants/admin/review_award.html", context)


@permission_required(VIEW_PERMISSION)
def ranking_export(request, pk):
    from ..exports_ranking import ranking_workbook_response

    return ranking_workbook_response(call_for_staff(request.user, pk))


@permission_required(VIEW_PERMISSION)
def draw_record(request, pk):
    """One draw as recorded, and the panel the record gives when drawn again."""
    record = get_object_or_404(
        PanelDraw.objects.select_related("round__call__region", "proposal", "replaces__expert__user"), pk=pk
    )
    call = record.round.call
    if not scope(Call.objects.filter(pk=call.pk), request.user).exists():
        raise Http404
    ids = {c["expert"] for c in record.candidates} | {x["expert"] for x in record.exclusions}
    experts = {e.pk: e for e in ExpertProfile.objects.filter(pk__in=ids).select_related("user")}
    replayed = replay(record)
    context = {
        "header_title": "专家抽取记录",
        "header_icon": "history",
        "breadcrumbs_items": _crumbs(call, "专家抽取记录"),
        "call": call,
        "record": record,
        "candidates": [
            {**c, "expert_obj": experts.get(c["expert"]), "chosen": c["expert"] in record.chosen}
            for c in record.candidates
        ],
        "exclusions": record.exclusions,
        "chosen": [experts.get(e) for e in record.chosen],
        "replayed": [experts.get(e) for e in replayed],
        "replay_matches": replayed == list(record.chosen),
    }
    return TemplateResponse(request, "grants/admin/review_draw.html", context)


urlpatterns = [
    path("calls/<int:pk>/review/", review_console, name="call_review"),
    path("calls/<int:pk>/review/<slug:action>/", review_actions.as_view(), name="call_review_action"),
    path("calls/<int:pk>/ranking/", ranking_page, name="call_ranking"),
    path("calls/<int:pk>/ranking.xlsx", ranking_export, name="call_ranking_export"),
    path("calls/<int:pk>/award/", award_page, name="call_award"),
    path("draws/<int:pk>/", draw_record, name="draw"),
]
