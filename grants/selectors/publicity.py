"""Reads of 公示 and its objections: the public figures (how many received, how many
handled: never who, never a contact) and what staff of the call's region see."""

from django.db.models import Count, Min, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.selectors import scope

from ..models import Objection, ObjectionStatus, Publicity

SCOPE_FIELD = "publicity__call__region"
HANDLED = ~Q(status=ObjectionStatus.RECEIVED)


def objection_counts(publicity: Publicity) -> dict:
    """What the public page says: objections received and handled (one query)."""
    found = publicity.objections.aggregate(received=Count("pk"), handled=Count("pk", filter=HANDLED))
    return {"received": found["received"] or 0, "handled": found["handled"] or 0}


def objections_for_staff(user) -> QuerySet:
    """Every objection `user` may see in the admin: those to 公示 of calls in their region."""
    return scope(Objection.objects.all(), user, region_field=SCOPE_FIELD)


def objection_for_staff(user, pk) -> Objection:
    """One objection with its 公示, call and project; Http404 outside the user's scope."""
    qs = objections_for_staff(user).select_related("publicity__call__region", "proposal__organisation", "handled_by")
    return get_object_or_404(qs, pk=pk)


def waiting_objections(user) -> dict:
    """Objections in scope not yet handled: how many and since when (one query)."""
    found = (
        objections_for_staff(user)
        .filter(status=ObjectionStatus.RECEIVED)
        .aggregate(count=Count("pk"), oldest=Min("created_at"))
    )
    return {"count": found["count"] or 0, "oldest": found["oldest"]}
