"""Reads of the incubation lifecycle: what an organisation's members see of their own stays,
and what staff see of the bases in their region subtree (accounts.selectors.scope)."""

import datetime

from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Region
from accounts.selectors import scope
from orgs.models import Membership

from .models import (
    ASSESSMENT_DIMENSIONS,
    RESIDENT_STATES,
    CapacityAssessment,
    Incubation,
    IncubationBase,
    IncubationStatus,
    Promotion,
    PromotionState,
    ServiceLog,
)

S = IncubationStatus


# ---- the organisation's side ----------------------------------------------------------------


def incubations_for_member(user) -> QuerySet:
    """Every stay of every organisation the user belongs to, newest first; one query."""
    if not getattr(user, "is_authenticated", False):
        return Incubation.objects.none()
    member = Membership.objects.filter(user=user, organisation=OuterRef("organisation"))
    return (
        Incubation.objects.filter(Exists(member)).select_related("base", "organisation").order_by("-applied_on", "-pk")
    )


def incubation_for_member_page(pk: int) -> Incubation:
    """One stay with what its page shows, in a fixed number of queries: the base, the
    organisation, its service log and its assessments."""
    return get_object_or_404(
        Incubation.objects.select_related(
            "base", "base__region", "organisation", "organisation__region"
        ).prefetch_related(
            Prefetch("service_logs", queryset=ServiceLog.objects.order_by("-date", "-pk")),
            Prefetch("assessments", queryset=CapacityAssessment.objects.select_related("assessor")),
        ),
        pk=pk,
    )


def open_bases() -> QuerySet:
    """Bases taking applications, by level and region."""
    return IncubationBase.objects.filter(is_active=True).select_related("region")


# ---- staff ----------------------------------------------------------------------------------


def incubations_for_staff(user) -> QuerySet:
    """Stays at bases whose region lies in the user's subtree (all for a superuser)."""
    return scope(Incubation.objects.all(), user, region_field="base__region")


def overdue_q(today: datetime.date) -> Q:
    """初审超期: still waiting for screening after its due date (Incubation.screening_overdue)."""
    return Q(status=S.APPLIED, screening_due__lt=today)


# the queue's sort keys: (label, ordering); the first is the default
QUEUE_ORDERINGS = {
    # overdue first, then the others waiting for 初审 by due date, then everything else newest first
    "overdue": ("初审超期优先", ("-is_overdue", F("waiting_due").asc(nulls_last=True), "-applied_on", "-pk")),
    "-applied_on": ("申请日期（新→旧）", ("-applied_on", "-pk")),
    "applied_on": ("申请日期（旧→新）", ("applied_on", "pk")),
    "screening_due": ("初审截止日期", ("screening_due", "pk")),
    "organisation": ("组织名称", ("organisation__name", "pk")),
}


def operator_queue(
    user,
    *,
    base: IncubationBase | None = None,
    status: str = "",
    overdue_only: bool = False,
    ordering: str = "overdue",
    today: datetime.date | None = None,
) -> QuerySet:
    """The operator's queue: stays at bases in scope, each annotated with `is_overdue`,
    the overdue ones first by default; the base, its region and the organisation are joined
    so a page of 50 costs one query whatever the number of stays."""
    today = today or timezone.localdate()
    qs = (
        incubations_for_staff(user)
        .select_related("base", "base__region", "organisation")
        .annotate(
            is_overdue=Case(
                When(overdue_q(today), then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            waiting_due=Case(When(status=S.APPLIED, then=F("screening_due")), default=None),
        )
    )
    if base is not None:
        qs = qs.filter(base=base)
    if status:
        qs = qs.filter(status=status)
    if overdue_only:
        qs = qs.filter(overdue_q(today))
    return qs.order_by(*QUEUE_ORDERINGS.get(ordering, QUEUE_ORDERINGS["overdue"])[1])


def overdue_count(user, today: datetime.date | None = None) -> int:
    return incubations_for_staff(user).filter(overdue_q(today or timezone.localdate())).count()


def incubation_for_staff(user, pk: int) -> Incubation:
    """One stay for its admin page; outside the user's scope it does not exist (404)."""
    return get_object_or_404(
        incubations_for_staff(user)
        .select_related(
            "base", "base__region", "base__parent", "organisation", "organisation__region", "organisation__sponsor"
        )
        .prefetch_related(
            "organisation__service_areas",
            Prefetch(
                "service_logs", queryset=ServiceLog.objects.select_related("recorded_by").order_by("-date", "-pk")
            ),
            Prefetch("assessments", queryset=CapacityAssessment.objects.select_related("assessor")),
            Prefetch("promotions", queryset=Promotion.objects.select_related("to_base", "result")),
        ),
        pk=pk,
    )


def bases_for_staff(user) -> QuerySet:
    return scope(IncubationBase.objects.all(), user).select_related("region", "parent")


def promotions_for_staff(user) -> QuerySet:
    """Recommendations addressed to bases in the user's scope, pending ones first."""
    return (
        scope(Promotion.objects.all(), user, region_field="to_base__region")
        .select_related("to_base", "incubation__base", "incubation__organisation", "recommended_by", "result")
        .annotate(is_pending=Case(When(state=PromotionState.PENDING, then=Value(0)), default=Value(1)))
        .order_by("is_pending", "-created_at")
    )


def promotion_for_staff(user, pk: int) -> Promotion:
    return get_object_or_404(
        promotions_for_staff(user).select_related("incubation__organisation__region", "to_base__region"), pk=pk
    )


def assessment_series(assessments) -> list[dict]:
    """Assessments oldest first as rows for a table and a chart: stage, date, the five
    dimension scores in rubric order, the weighted total."""
    rows = []
    for a in sorted(assessments, key=lambda a: (a.assessed_on, a.pk)):
        rows.append(
            {
                "assessment": a,
                "label": a.get_stage_display(),
                "date": a.assessed_on,
                "scores": [float(a.scores.get(k, 0)) for k in ASSESSMENT_DIMENSIONS],
                "total": float(a.total),
            }
        )
    return rows


# ---- the public site (/bases/): only public facts ------------------------------------------
# Names, places, services, capacity and who is or was resident: never an organisation's
# phone, e-mail, bank account, documents or application texts.

_RESIDENT_VALUES = [s.value for s in RESIDENT_STATES]
# the organisation's status too: its model reads it on load (ConcurrentTransitionMixin),
# and a deferred field would cost one query per row
_PUBLIC_INCUBATION_FIELDS = (
    "id",
    "base_id",
    "status",
    "organisation__id",
    "organisation__name",
    "organisation__status",
)


def public_bases() -> QuerySet:
    """Active bases for the public directory, each annotated with its number of residents
    and graduates; one query for all of them."""
    return (
        IncubationBase.objects.filter(is_active=True)
        .select_related("region")
        .annotate(
            resident_count=Count("incubations", filter=Q(incubations__status__in=_RESIDENT_VALUES)),
            graduate_count=Count("incubations", filter=Q(incubations__status=S.GRADUATED)),
        )
        .order_by("level", "region__path", "name")
    )


def public_base(pk: int) -> IncubationBase:
    """One base for its public page (active or not: its history stays public)."""
    return get_object_or_404(IncubationBase.objects.select_related("region", "parent", "operator_org", "photo"), pk=pk)


def public_residents(base: IncubationBase) -> QuerySet:
    """Current residents: organisation name and since when, oldest first."""
    return (
        Incubation.objects.filter(base=base, status__in=_RESIDENT_VALUES)
        .select_related("organisation")
        .only(*_PUBLIC_INCUBATION_FIELDS, "starts_on", "residence")
        .order_by("starts_on", "pk")
    )


def public_graduates(base: IncubationBase) -> QuerySet:
    """Graduates: organisation name and graduation date, newest first."""
    return (
        Incubation.objects.filter(base=base, status=S.GRADUATED)
        .select_related("organisation")
        .only(*_PUBLIC_INCUBATION_FIELDS, "graduated_on")
        .order_by("-graduated_on", "-pk")
    )


def regions_above(regions) -> dict[str, Region]:
    """Every region node on the way down to each of `regions` (the city, district, street
    and the region itself), by path: one query for any number of regions."""
    step = Region.steplen
    prefixes = {r.path[: i * step] for r in regions for i in range(1, len(r.path) // step + 1)}
    return {r.path: r for r in Region.objects.filter(path__in=prefixes).order_by("path")}


def region_label(region: Region, nodes: dict[str, Region]) -> str:
    """A region's name as an address reads below the city ("鄂城区凤凰街道"); the city
    itself keeps its own name. `nodes` comes from regions_above."""
    step = Region.steplen
    chain = [nodes[region.path[: i * step]].name for i in range(1, len(region.path) // step + 1)]
    return "".join(chain[1:]) or chain[0]
