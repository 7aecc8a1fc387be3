"""One proposal's staff page (/admin/grants/proposals/<pk>/): what was submitted, the
budget against the call's limits, the organisation's standing against the call today,
what changed since the previous version, the history, and the actions its state allows
(资格审查: 通过 / 退回修改 / 不通过, and whatever other stages register, such as 推荐至上级
征集), through core.admin_actions.

The page reads the proposal as the applicant's page and the PDF do (grants.pdf
`proposal_document`: the latest submitted version, frozen at each submission): while a
proposal is back with the applicant for correction, staff read what was submitted, not the
half-made edit. The attachments are the live ones, downloadable through a
permission-checked view.

Thin views: reads through grants.selectors.proposals (scoped to the call's region: a
proposal elsewhere is a 404), every change through the services registered for the
actions, which check permission themselves. Staff who may look but not check (auditors,
finance) see the page read-only and get a 403 on a POST."""

from dataclasses import dataclass

from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from wagtail.admin.auth import permission_required

from accounts.selectors import has_scoped_perm, region_in_scope
from core.admin_actions import ActionScreen, action_groups
from core.admin_ui import admin_breadcrumbs
from core.files import human_size, serve_private

from .. import rules
from ..diff import diff_versions
from ..models import CHECK_PERMISSION, FUNDED_STATES, REVIEW_STATES, Assignment, LineNature, Proposal, ProposalStatus
from ..panels import PAGE_PANELS, panels_context
from ..pdf import proposal_document, proposal_pdf_response
from ..selectors.proposals import attachment_for_staff, proposal_for_staff, standing_now
from ..services.proposals import snapshot

P = ProposalStatus
VIEW_PERMISSION = "grants.view_proposal"
# the organisation's own actions, offered on the portal, never on the staff page
APPLICANT_ACTIONS = ("submit", "resubmit", "withdraw")


# ---- what staff read beyond the applicant's document ------------------------------------------------


@dataclass
class Share:
    """A share of the budget beside the call's limit."""

    label: str
    value: object  # Decimal percentage or None
    limit: object
    problems: list[str]

    @property
    def text(self) -> str:
        return rules.fmt_percent(self.value)

    @property
    def limit_text(self) -> str:
        return rules.fmt_percent(self.limit)


def budget_check(call, lines: list[dict], totals: rules.Totals) -> dict:
    """The budget of a snapshot against the call's money rules (grants.rules): the two
    shares beside their limits, every rule broken, the natures the call forbids."""
    problems = rules.budget_problems(call, totals, lines)
    forbidden = {
        str(LineNature(nature).label)
        for nature, forbids in (
            (LineNature.FIXED_ASSET, call.forbid_fixed_assets),
            (LineNature.CASH, call.forbid_cash_handouts),
        )
        if forbids
    }
    return {
        "shares": [
            Share("资助金额占总预算", totals.grant_share, call.max_grant_share, problems.get("grant_share", [])),
            Share(
                "人员费用占总预算",
                totals.personnel_share,
                call.max_personnel_share,
                problems.get("personnel_share", []),
            ),
        ],
        "problems": [m for messages in problems.values() for m in messages],
        "grant_range": (call.grant_min, call.grant_max),
        "forbidden_natures": forbidden,
    }


def by_month(activities: list[dict]) -> list[dict]:
    """实施方案 grouped by month (the document lists them in month order)."""
    months: list[dict] = []
    for a in activities:
        if not months or months[-1]["month"] != a["month"]:
            months.append({"month": a["month"], "activities": []})
        months[-1]["activities"].append(a)
    return months


def versions_context(proposal: Proposal, query) -> dict:
    """The versions and what changed between two of them: the latest and the one before it,
    or the two chosen with ?from=&to= (version numbers)."""
    versions = list(proposal.versions.all())
    if len(versions) < 2:
        return {"versions": versions}
    by_number = {v.number: v for v in versions}

    def chosen(key, default):
        try:
            return by_number.get(int(query.get(key, "")), default)
        except ValueError:
            return default

    new = chosen("to", versions[-1])
    earlier = [v for v in versions if v.number < new.number]
    old = chosen("from", earlier[-1] if earlier else new)
    return {
        "versions": versions,
        "diff_old": old,
        "diff_new": new,
        "diff": diff_versions(old.data, new.data) if old is not new else None,
    }


def _recommended_from(proposal: Proposal, user) -> dict | None:
    lower = proposal.recommended_from
    if lower is None:
        return None
    return {
        "proposal": lower,
        "call": lower.call,
        "in_scope": region_in_scope(user, lower.call.region),
    }


# ---- the page ------------------------------------------------------------------------------------


# the proposal states in which its page shows the review (panels, scores, actions on them)
REVIEWED_STATES = (*REVIEW_STATES, P.APPROVED, P.NOT_FUNDED)


def review_context(proposal, user, *, assignment_bound: dict | None = None) -> dict | None:
    """The proposal's panels: each expert with their state, the draw that put them there,
    their total once the round is closed, and what a call manager may do with them
    (退回重评, 改派), from the assignment's own transitions. One query."""
    if proposal.status not in REVIEWED_STATES:
        return None
    rows = []
    assignments = list(
        Assignment.objects.filter(proposal=proposal)
        .select_related("expert__user", "round", "draw")
        .order_by("round__stage", "pk")
    )
    labels = {
        e: f"评委{i}"
        for i, e in enumerate(
            sorted({a.expert_id for a in assignments if a.status == Assignment.Status.SUBMITTED}), start=1
        )
    }
    for a in assignments:
        a.round.call = proposal.call  # conditions and permissions read the call: no query
        bound = (assignment_bound or {}).get(a.pk)
        rows.append(
            {
                "a": a,
                "label": labels.get(a.expert_id, ""),
                "groups": action_groups(a, user, bound=bound, exclude=("submit",)),
                "closed": not a.round.is_open,
            }
        )
    return {"rows": rows, "url_name": "grants_admin:assignment_action"}


def _render(
    request, proposal, *, bound: dict | None = None, status: int = 200, assignment_bound=None, panel_bound=None
):
    user = request.user
    call, org = proposal.call, proposal.organisation
    doc = proposal_document(proposal)  # grants.pdf: the reading the applicant and the PDF share
    version = doc["version"]
    data = version.data if version else snapshot(proposal)
    may_check = has_scoped_perm(user, CHECK_PERMISSION, call.region)
    groups = action_groups(proposal, user, bound=bound, exclude=APPLICANT_ACTIONS)
    attachments = list(proposal.attachments.all())
    for a in attachments:
        a.size_text = human_size(a.size)
    today = timezone.localdate()
    context = {
        "header_title": f"申报项目：{proposal.title or proposal.number}",
        "header_icon": "doc-full",
        "breadcrumbs_items": admin_breadcrumbs(
            ("公益创投", None),
            ("申报项目", reverse("grants_admin:proposals")),
            (proposal.number or proposal.title, None),
        ),
        "proposal": proposal,
        "call": call,
        "org": org,
        "doc": doc,
        "facts": data.get("organisation", {}),
        "version": version,
        "months": by_month(doc["activities"]),
        "check": budget_check(call, data.get("budget_lines", []), doc["totals"]),
        "attachments": attachments,
        # the organisation's standing matters until the call decides; a funded project is judged by its evaluations
        "standing": standing_now(proposal, today) if proposal.status not in FUNDED_STATES else None,
        "recommended": _recommended_from(proposal, user),
        "org_page": (
            reverse("orgs_admin:review", args=[org.pk])
            if user.has_perm("orgs.view_organisation") and region_in_scope(user, org.region)
            else ""
        ),
        "deadline_passed": bool(proposal.correction_deadline and proposal.correction_deadline < today),
        "edited_since": bool(
            proposal.status == P.RETURNED
            and version
            and proposal.last_saved_at
            and proposal.last_saved_at > version.submitted_at
        ),
        "action_groups": groups,
        "action_url_name": "grants_admin:proposal_action",
        "review": review_context(proposal, user, assignment_bound=assignment_bound),
        "panels": panels_context(PAGE_PANELS, proposal, user, panel_bound),
        "read_only": not may_check and not groups,
        **versions_context(proposal, request.GET),
    }
    return TemplateResponse(request, "grants/admin/proposal.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def proposal(request, pk):
    """The whole of one submitted proposal and what its status allows."""
    return _render(request, proposal_for_staff(request.user, pk))


@permission_required(VIEW_PERMISSION)
def proposal_attachment(request, pk):
    """An attachment of a proposal in the user's scope, as a download."""
    attachment = attachment_for_staff(request.user, pk)
    return serve_private(attachment.file, download_name=attachment.original_name, as_attachment=True)


@permission_required(VIEW_PERMISSION)
def proposal_pdf(request, pk):
    """The printable A4 PDF of the proposal (grants.pdf, the applicant's own document)."""
    return proposal_pdf_response(proposal_for_staff(request.user, pk))


def _forbidden_text(action) -> str:
    return (
        f"您没有“{action.label}”的权限：须由征集所在区域具有资格审查权限的业务主管办理；"
        "审计、财务等岗位只能查看申报项目。"
    )


proposal_actions = ActionScreen(
    model=Proposal,
    get_object=lambda request, pk: proposal_for_staff(request.user, pk),
    render=_render,
    view_permission=VIEW_PERMISSION,
    forbidden_text=_forbidden_text,
    back_label=lambda p: p.title or p.number,
    section=("申报项目", reverse_lazy("grants_admin:proposals")),
)


def _assignment_for_staff(request, pk):
    from django.shortcuts import get_object_or_404

    a = get_object_or_404(Assignment.objects.select_related("round__call", "expert__user"), pk=pk)
    proposal_for_staff(request.user, a.proposal_id)  # 404 outside the user's scope
    return a


assignment_actions = ActionScreen(
    model=Assignment,
    get_object=_assignment_for_staff,
    render=lambda request, a, *, bound=None, status=200: _render(
        request, proposal_for_staff(request.user, a.proposal_id), assignment_bound={a.pk: bound}, status=status
    ),
    view_permission=VIEW_PERMISSION,
    forbidden_text=lambda action: (
        f"您没有“{action.label}”的权限：只有征集所在区域的业务主管（民政）可以退回重评或改派专家。"
    ),
    success_url=lambda a, action, result: reverse("grants_admin:proposal", args=[a.proposal_id]) + "#review",
    back_label=lambda a: str(a.proposal),
    section=("申报项目", reverse_lazy("grants_admin:proposals")),
)


urlpatterns = [
    path("proposals/<int:pk>/", proposal, name="proposal"),
    path("assignments/<int:pk>/<slug:action>/", assignment_actions.as_view(), name="assignment_action"),
    path("proposals/<int:pk>/pdf/", proposal_pdf, name="proposal_pdf"),
    path("proposals/attachments/<int:pk>/", proposal_attachment, name="proposal_attachment"),
    path("proposals/<int:pk>/<slug:action>/", proposal_actions.as_view(), name="proposal_action"),
]
