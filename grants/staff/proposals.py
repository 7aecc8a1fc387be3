"""One proposal's staff page (/admin/grants/proposals/<pk>/): what was submitted, the
budget against the call's limits, the organisation's standing against the call today,
what changed since the previous version, the history, and the actions its state allows
(资格审查: 通过 / 退回修改 / 不通过, and whatever other stages register, such as 推荐至上级
征集), through core.admin_actions.

The page shows the latest submitted version (`ProposalVersion.data`, frozen at each
submission): while a proposal is back with the applicant for correction, staff read what
was submitted, not the half-made edit. The attachments are the live ones, downloadable
through a permission-checked view.

Thin views: reads through grants.selectors.proposals (scoped to the call's region: a
proposal elsewhere is a 404), every change through the services registered for the
actions, which check permission themselves. Staff who may look but not check (auditors,
finance) see the page read-only and get a 403 on a POST."""

import datetime
from dataclasses import dataclass

from django.http import HttpResponse
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
from ..models import CHECK_PERMISSION, BudgetLine, Proposal, ProposalStatus
from ..selectors.proposals import attachment_for_staff, proposal_for_staff, standing_now
from ..services.proposals import snapshot

P = ProposalStatus
VIEW_PERMISSION = "grants.view_proposal"
# the organisation's own actions, offered on the portal, never on the staff page
APPLICANT_ACTIONS = ("submit", "resubmit", "withdraw")
LABELS = {
    name: dict(BudgetLine._meta.get_field(name).flatchoices) for name in ("category", "source", "nature")
}


def _pdf_renderer():
    """grants.pdf.proposal_pdf_response, once the portal's PDF module exists."""
    try:
        from ..pdf import proposal_pdf_response
    except ImportError:
        return None
    return proposal_pdf_response


# ---- what the page shows, from a version's snapshot ------------------------------------------------


def _month(value) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


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


def budget_context(call, data: dict) -> dict:
    """The budget table of a snapshot with computed amounts, totals by category and source,
    the two shares against the call's limits, and every rule it breaks (grants.rules)."""
    lines = []
    for i, row in enumerate(data.get("budget_lines", []), start=1):
        lines.append(
            {
                **row,
                "position": i,
                "amount": rules.line_amount(row.get("quantity"), row.get("unit_price")),
                "quantity": rules.money(row.get("quantity")).normalize(),
                "unit_price": rules.money(row.get("unit_price")),
                "category_label": LABELS["category"].get(row.get("category"), row.get("category")),
                "source_label": LABELS["source"].get(row.get("source"), row.get("source")),
                "nature_label": LABELS["nature"].get(row.get("nature"), ""),
                "flagged": row.get("nature") in _forbidden_natures(call),
            }
        )
    totals = rules.budget_totals(data.get("budget_lines", []))
    problems = rules.budget_problems(call, totals, data.get("budget_lines", []))
    by_category = [
        {"label": label, "amount": totals.by_category[key]}
        for key, label in LABELS["category"].items()
        if key in totals.by_category
    ]
    return {
        "lines": lines,
        "totals": totals,
        "by_category": by_category,
        "shares": [
            Share("资助金额占总预算", totals.grant_share, call.max_grant_share, problems.get("grant_share", [])),
            Share(
                "人员费用占总预算", totals.personnel_share, call.max_personnel_share, problems.get("personnel_share", [])
            ),
        ],
        "problems": [m for messages in problems.values() for m in messages],
        "grant_range": (call.grant_min, call.grant_max),
    }


def _forbidden_natures(call) -> set[str]:
    rules_ = (("fixed_asset", call.forbid_fixed_assets), ("cash", call.forbid_cash_handouts))
    return {nature for nature, forbidden in rules_ if forbidden}


def activities_by_month(rows: list[dict]) -> list[dict]:
    """实施方案 grouped by month, in month order (the rows' own order within a month)."""
    months: dict = {}
    for row in rows:
        months.setdefault(row.get("month") or "", []).append(row)
    return [{"month": _month(key), "activities": months[key]} for key in sorted(months)]


def document(proposal: Proposal) -> tuple[dict, object]:
    """(the snapshot the page shows, its version): the latest submitted version, or the
    proposal as it is now when no version was written (rows loaded in bulk)."""
    versions = list(proposal.versions.all())
    if versions:
        return versions[-1].data, versions[-1]
    return snapshot(proposal), None


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


def _render(request, proposal, *, bound: dict | None = None, status: int = 200):
    user = request.user
    call, org = proposal.call, proposal.organisation
    data, version = document(proposal)
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
        "doc": data,
        "facts": data.get("organisation", {}),
        "fields": data.get("fields", {}),
        "version": version,
        "start_month": _month(data.get("fields", {}).get("start_month")),
        "end_month": _month(data.get("fields", {}).get("end_month")),
        "months": activities_by_month(data.get("activities", [])),
        "budget": budget_context(call, data),
        "attachments": attachments,
        "standing": standing_now(proposal, today),
        "recommended": _recommended_from(proposal, user),
        "org_page": (
            reverse("orgs_admin:review", args=[org.pk])
            if user.has_perm("orgs.view_organisation") and region_in_scope(user, org.region)
            else ""
        ),
        "pdf_available": _pdf_renderer() is not None,
        "deadline_passed": bool(proposal.correction_deadline and proposal.correction_deadline < today),
        "edited_since": bool(
            proposal.status == P.RETURNED
            and version
            and proposal.last_saved_at
            and proposal.last_saved_at > version.submitted_at
        ),
        "action_groups": groups,
        "action_url_name": "grants_admin:proposal_action",
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
    proposal = proposal_for_staff(request.user, pk)
    render = _pdf_renderer()
    if render is None:
        return HttpResponse("申报书 PDF 尚未开放。", status=501, content_type="text/plain; charset=utf-8")
    return render(proposal)


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


urlpatterns = [
    path("proposals/<int:pk>/", proposal, name="proposal"),
    path("proposals/<int:pk>/pdf/", proposal_pdf, name="proposal_pdf"),
    path("proposals/attachments/<int:pk>/", proposal_attachment, name="proposal_attachment"),
    path("proposals/<int:pk>/<slug:action>/", proposal_actions.as_view(), name="proposal_action"),
]
