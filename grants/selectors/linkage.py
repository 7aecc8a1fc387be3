"""Reads of 三级联动: what the upper call's staff see beside a proposal that came from a
lower call, and what an organisation's members see of the recommendations of their
proposals (/me/proposals/recommendations/ and the /me/ panel)."""

from django.db.models import Case, IntegerField, QuerySet, Value, When

from orgs.models import Membership

from ..eligibility import may_apply
from ..models import Proposal, Recommendation, RecommendationState


def recommendation_context(proposal: Proposal) -> dict | None:
    """For a proposal copied from a lower call (`recommended_from`): the lower proposal,
    its call, score (None until reviewed), status and the last check's remark, and the
    recommendation (reason, who, when). None for a proposal that was not recommended.
    Two queries."""
    if not proposal.recommended_from_id:
        return None
    lower = (
        Proposal.objects.select_related("call", "call__region")
        .only(
            "title",
            "number",
            "status",
            "status_reason",
            "score",
            "call__title",
            "call__level",
            "call__status",
            "call__region__name",
        )
        .filter(pk=proposal.recommended_from_id)
        .first()
    )
    if lower is None:
        return None
    rec = (
        Recommendation.objects.select_related("recommended_by")
        .filter(proposal=lower, to_call_id=proposal.call_id)
        .first()
    )
    return {
        "lower": lower,
        "lower_call": lower.call,
        "score": lower.score,
        "status": lower.status,
        "status_display": lower.get_status_display(),
        "status_reason": lower.status_reason,
        "recommendation": rec,
        "reason": rec.reason if rec else "",
        "recommended_by": rec.recommended_by if rec else None,
        "recommended_at": rec.created_at if rec else None,
    }


def recommendations_for_member(user) -> QuerySet:
    """The recommendations of the proposals of every organisation the user is a member
    of, pending first, with what the page shows."""
    if not getattr(user, "is_authenticated", False):
        return Recommendation.objects.none()
    pending = Case(
        When(state=RecommendationState.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        Recommendation.objects.filter(proposal__organisation__memberships__user=user)
        .select_related("proposal__call", "proposal__organisation", "to_call", "to_call__region", "result")
        .annotate(is_pending=pending)
        .order_by("is_pending", "-created_at", "-pk")
        .distinct()
    )


def pending_count(user) -> int:
    return recommendations_for_member(user).filter(state=RecommendationState.PENDING).count()


def with_standing(recommendations, user) -> list:
    """Each pending recommendation with `.verdict` (may the organisation apply to the
    upper call now, and why not) and `.editor` (may this user answer it)."""
    from ..services.proposals import EDITOR_ROLES

    rows = list(recommendations)
    roles = dict(
        Membership.objects.filter(user=user, organisation__in={r.proposal.organisation_id for r in rows}).values_list(
            "organisation_id", "role"
        )
    )
    for r in rows:
        r.editor = roles.get(r.proposal.organisation_id) in EDITOR_ROLES
        r.verdict = may_apply(r.to_call, r.proposal.organisation) if r.state == RecommendationState.PENDING else None
    return rows
