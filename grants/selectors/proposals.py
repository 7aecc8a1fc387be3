"""Reads of proposals for the staff screens (grants/staff/): the list's rows, one proposal's
page in a fixed number of queries, its attachments, the organisation's standing against the
call today, and what waits on the dashboard.

Staff see a proposal once it has been submitted: a draft is the applicant's own (one that
was withdrawn before it was ever submitted stays theirs too). Scope is the call's region:
staff of a street see the proposals to its calls and to the calls of its communities."""

import datetime

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.selectors import scope

from ..eligibility import may_apply
from ..models import Proposal, ProposalAttachment, ProposalStatus, ProposalVersion, Recommendation

P = ProposalStatus
SCOPE_FIELD = "call__region"
# the rows staff may see: submitted at least once, not a draft
STAFF_VISIBLE = Q(submitted_at__isnull=False) & ~Q(status=P.DRAFT)


def proposals_for_staff(user) -> QuerySet:
    """Every proposal `user` may see in the admin (their region's calls), unordered."""
    return scope(Proposal.objects.filter(STAFF_VISIBLE), user, region_field=SCOPE_FIELD)


def proposal_for_staff(user, pk) -> Proposal:
    """One proposal with what its staff page shows (the call, the organisation and the facts
    its eligibility is judged by, every version, the attachments, the lower call's proposal
    it was recommended from); Http404 outside the user's scope or while a draft."""
    qs = (
        proposals_for_staff(user)
        .select_related(
            "call__region",
            "organisation__region",
            "category",
            "recommended_from__call__region",
            "recommended_from__organisation",
            "agreement__org_signed_by",
            "agreement__funder_signed_by",
        )
        .prefetch_related(
            Prefetch("versions", queryset=ProposalVersion.objects.select_related("submitted_by").order_by("number")),
            Prefetch("attachments", queryset=ProposalAttachment.objects.order_by("uploaded_at", "pk")),
        )
    )
    # whether it was already recommended to its call's next round (the 推荐 action asks)
    qs = qs.annotate(
        already_recommended=Exists(
            Recommendation.objects.filter(proposal=OuterRef("pk"), to_call_id=OuterRef("call__next_round_id"))
        )
    )
    return get_object_or_404(qs, pk=pk)


def attachment_for_staff(user, pk) -> ProposalAttachment:
    """An attachment of a proposal the user may see; Http404 otherwise."""
    return get_object_or_404(
        ProposalAttachment.objects.select_related("proposal"), pk=pk, proposal__in=proposals_for_staff(user)
    )


def standing_now(proposal: Proposal, on: datetime.date | None = None) -> list[str]:
    """Every reason the organisation may not apply to the proposal's call today (its
    registration, lists, bans, 年检, grade, type, count), leaving out whether applications
    are still open: after the close that says nothing to the staff checking it."""
    from django.db.models import prefetch_related_objects

    # what orgs.selectors.eligibility reads (the grades only when a call asks for one), once
    prefetch_related_objects([proposal.organisation], "list_entries", "inspections")
    return may_apply(proposal.call, proposal.organisation, on=on, proposal=proposal, check_period=False).reasons


def waiting_for_check(user, today: datetime.date | None = None) -> dict:
    """How many proposals in the user's scope wait for the eligibility check and since when,
    and how many returned ones have passed their correction deadline: one query."""
    today = today or timezone.localdate()
    submitted = Q(status=P.SUBMITTED)
    overdue = Q(status=P.RETURNED, correction_deadline__lt=today)
    return proposals_for_staff(user).aggregate(
        waiting=Count("pk", filter=submitted),
        oldest=Min("submitted_at", filter=submitted),
        overdue=Count("pk", filter=overdue),
        overdue_since=Min("correction_deadline", filter=overdue),
    )
