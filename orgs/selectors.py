"""Reads of the registry: scoped staff lists, the public directory, eligibility."""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from accounts.selectors import scope, scope_q
from core.dates import chinese_date

from .models import (
    GRADE_VALID_YEARS,
    GRADES,
    AnnualInspection,
    EvaluationGrade,
    LegalChangeRequest,
    ListEntry,
    Membership,
    Organisation,
    OrganisationDocument,
    OrganisationStatus,
)


def memberships_for_user(user) -> QuerySet:
    return (
        Membership.objects.filter(user=user)
        .select_related("organisation", "organisation__region")
        .order_by("organisation__name")
    )


def member_role(user, organisation) -> str | None:
    """The user's Membership role in `organisation` (an instance or a pk), None if not a
    member or not logged in: the one lookup every permission check uses."""
    if not getattr(user, "is_authenticated", False):
        return None
    org_id = getattr(organisation, "pk", organisation)
    return Membership.objects.filter(user=user, organisation_id=org_id).values_list("role", flat=True).first()


def membership(user, organisation) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, organisation=organisation).first()


def organisations_for_staff(user) -> QuerySet:
    """Organisations in the user's region subtree (everything for a superuser)."""
    return scope(Organisation.objects.all(), user).select_related("region")


def registry_for_staff(user, on: datetime.date | None = None) -> QuerySet:
    """The staff registry list: `organisations_for_staff` with `valid_grade`, the 评估等级
    in force (what the 评估等级 column shows; `latest_grade` may have expired)."""
    return with_valid_grade(organisations_for_staff(user), on)


PUBLIC_Q = Q(status=OrganisationStatus.VERIFIED)


def public_organisations() -> QuerySet:
    """The public directory: verified organisations only."""
    return Organisation.objects.filter(PUBLIC_Q)


def visible_q(user) -> Q | None:
    """Organisations a staff user may see named: any in their scope, elsewhere only public
    ones (None = no restriction, for a superuser)."""
    in_scope = scope_q(user)
    return None if in_scope is None else in_scope | PUBLIC_Q


def with_valid_grade(qs: QuerySet, on: datetime.date | None = None) -> QuerySet:
    """Annotate `valid_grade`: the 评估等级 in force on `on` (None when the latest has
    expired), in the same query. `latest_grade` alone would keep showing an expired grade.
    A queryset already annotated (registry_for_staff, then a grade filter) is kept as is."""
    if "valid_grade" in qs.query.annotations:
        return qs
    on = on or datetime.date.today()
    grades = EvaluationGrade.objects.filter(
        organisation=OuterRef("pk"), awarded_on__lte=on, awarded_on__gt=_years_before(on, GRADE_VALID_YEARS)
    ).order_by("-awarded_on", "-pk")
    return qs.annotate(valid_grade=Subquery(grades.values("grade")[:1]))


def current_documents(organisation) -> QuerySet:
    return organisation.documents.filter(is_current=True).select_related("uploaded_by")


def documents_with_history(organisation) -> QuerySet:
    return organisation.documents.select_related("uploaded_by").order_by("kind", "-version")


# ---- eligibility -------------------------------------------------------------------


@dataclass(frozen=True)
class EligibilityRules:
    """What a call (or incubation base) requires. Defaults follow common municipal rules."""

    require_verified: bool = True
    abnormal_lookback_years: int = 1
    dishonest_lookback_years: int = 2
    require_inspection_passed: bool = True
    accept_basic_inspection: bool = True
    # the last inspection must be this recent: year N is inspected during N+1, so on a day
    # in 2026 the 2025 report may still be under way and 2024 is the oldest that counts
    inspection_max_age_years: int = 2
    min_grade: str | None = None  # e.g. "3A": grade must be 3A or better and still valid
    allowed_types: tuple[str, ...] | None = None


@dataclass
class Eligibility:
    eligible: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self):
        return self.eligible


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def eligibility(
    org: Organisation, on: datetime.date | None = None, rules: EligibilityRules | None = None
) -> Eligibility:
    """May `org` apply on day `on` under `rules`? Every reason it may not, in Chinese."""
    on = on or datetime.date.today()
    rules = rules or EligibilityRules()
    reasons: list[str] = []

    if rules.allowed_types and org.org_type not in rules.allowed_types:
        reasons.append(f"组织类型“{org.get_org_type_display()}”不在本次申报范围内。")
    if rules.require_verified and org.status != OrganisationStatus.VERIFIED:
        reasons.append(f"组织登记信息尚未通过审核（当前状态：{org.get_status_display()}）。")

    # .all() on the related managers: uses rows a page has prefetched, else one query each
    entries = [e for e in org.list_entries.all() if e.listed_on <= on]

    def active_since(kind, since):
        return [e for e in entries if e.kind == kind and (e.removed_on is None or e.removed_on >= since)]

    for e in active_since(ListEntry.Kind.ABNORMAL, _years_before(on, rules.abnormal_lookback_years)):
        reasons.append(
            f"{chinese_date(e.listed_on)}被列入活动异常名录，近{rules.abnormal_lookback_years}年内不得申报。"
        )
    for e in active_since(ListEntry.Kind.DISHONEST, _years_before(on, rules.dishonest_lookback_years)):
        reasons.append(
            f"{chinese_date(e.listed_on)}被列入严重违法失信名单，近{rules.dishonest_lookback_years}年内不得申报。"
        )
    for e in entries:
        if e.kind == ListEntry.Kind.BAN and (e.removed_on is None or e.removed_on > on):
            until = f"至{chinese_date(e.removed_on)}" if e.removed_on else ""
            reasons.append(f"因{e.reason or '严重违约'}被禁止申报{until}。")

    if rules.require_inspection_passed and org.is_registered:
        last = max((i for i in org.inspections.all() if i.year < on.year), key=lambda i: i.year, default=None)
        ok = {AnnualInspection.Result.PASSED} | (
            {AnnualInspection.Result.BASIC} if rules.accept_basic_inspection else set()
        )
        oldest_current = on.year - rules.inspection_max_age_years
        # 年检 covers the previous year: an organisation founded last year or this year has none due yet
        newly_founded = org.founded_on is not None and org.founded_on.year >= on.year - 1
        if last is None and not newly_founded:
            reasons.append("没有年检记录。")
        elif last is None:
            pass
        elif last.year < oldest_current:
            reasons.append(f"最近一次年检为{last.year}年度，缺少{oldest_current}年度以来的年检记录。")
        elif last.result not in ok:
            reasons.append(f"{last.year}年度年检结果为“{last.get_result_display()}”。")

    if rules.min_grade:
        grade = current_grade(org, on)
        if grade is None:
            reasons.append(f"本次申报要求评估等级{rules.min_grade}及以上，该组织没有有效的评估等级。")
        elif GRADES.index(grade.grade) > GRADES.index(rules.min_grade):
            reasons.append(f"本次申报要求评估等级{rules.min_grade}及以上，该组织为{grade.grade}。")

    return Eligibility(eligible=not reasons, reasons=reasons)


def current_grade(org: Organisation, on: datetime.date | None = None) -> EvaluationGrade | None:
    on = on or datetime.date.today()
    latest = max((g for g in org.grades.all() if g.awarded_on <= on), key=lambda g: g.awarded_on, default=None)
    return latest if latest is not None and latest.valid_on(on) else None


def organisation_detail_qs() -> QuerySet:
    return Organisation.objects.select_related("region", "sponsor").prefetch_related(
        "service_areas",
        Prefetch("documents", queryset=OrganisationDocument.objects.filter(is_current=True)),
    )


# ---- staff screens (Wagtail admin) ---------------------------------------------------

SIMILAR_NAME_THRESHOLD = 85


def review_queue(user) -> QuerySet:
    """Submitted organisations in the user's scope, the longest-waiting first."""
    return (
        organisations_for_staff(user)
        .filter(status=OrganisationStatus.SUBMITTED)
        .order_by(F("submitted_at").asc(nulls_first=True), "pk")
    )


def organisation_for_review(user, pk) -> Organisation:
    """One organisation in the user's scope with everything the review page shows, in a
    fixed number of queries; Http404 when it lies outside the scope. `has_pending_change`
    says whether to load the pending LegalChangeRequest (see pending_change)."""
    pending = LegalChangeRequest.objects.filter(organisation=OuterRef("pk"), state=LegalChangeRequest.State.PENDING)
    qs = (
        organisations_for_staff(user)
        .select_related("sponsor", "created_by")
        .annotate(has_pending_change=Exists(pending))
        .prefetch_related(
            "service_areas",
            Prefetch(
                "documents",
                queryset=OrganisationDocument.objects.select_related("uploaded_by").order_by("kind", "-version"),
            ),
            Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("joined_at", "pk")),
            "inspections",
            "grades",
            Prefetch("list_entries", queryset=ListEntry.objects.select_related("created_by")),
        )
    )
    return get_object_or_404(qs, pk=pk)


def pending_change(org: Organisation) -> LegalChangeRequest | None:
    """The organisation's change request awaiting a decision, if any."""
    if getattr(org, "has_pending_change", True) is False:
        return None
    req = org.change_requests.filter(state=LegalChangeRequest.State.PENDING).select_related("requested_by").first()
    if req is not None:
        req.organisation = org
    return req


@lru_cache(maxsize=100_000)  # a pure function of the name; names rarely change
def _comparable_name(name: str) -> str:
    """Full-width → half-width, no spaces or punctuation: （筹） and (筹) are the same."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", name or "")).lower()


def _name_index(user, exclude_pks=()) -> tuple[dict[int, str], dict[int, str]]:
    """(pk → name, pk → comparable name) of every organisation `user` may see named
    (visible_q): one query."""
    qs = Organisation.objects.exclude(pk__in=list(exclude_pks))
    visible = visible_q(user)
    if visible is not None:
        qs = qs.filter(visible)
    names = dict(qs.order_by().values_list("pk", "name"))
    return names, {pk: _comparable_name(name) for pk, name in names.items()}


def _matches(name: str, choices: dict[int, str], *, exclude_pk=None, limit: int, threshold: int):
    """[(pk, score)] of the closest `choices` (comparable names), best first."""
    from rapidfuzz import fuzz, process

    found = process.extract(
        _comparable_name(name), choices, scorer=fuzz.ratio, processor=None, score_cutoff=threshold, limit=limit + 1
    )
    return [(pk, score) for _, score, pk in found if pk != exclude_pk][:limit]


def similar_organisations(org: Organisation, user, limit: int = 5, threshold: int = SIMILAR_NAME_THRESHOLD) -> list:
    """Other organisations whose name is very close to `org`'s: a warning for the verifier
    that this may be a duplicate or an imitation, never a block. Any status within `user`'s
    scope, only public (verified) ones elsewhere: another district's drafts are not theirs
    to see. Each result carries `.similarity` (0–100). Two queries however large the registry."""
    _, choices = _name_index(user, exclude_pks=[org.pk])
    matches = _matches(org.name, choices, limit=limit, threshold=threshold)
    if not matches:
        return []
    found = Organisation.objects.select_related("region").in_bulk([pk for pk, _ in matches])
    result = []
    for pk, score in matches:
        other = found[pk]
        other.similarity = round(score)
        result.append(other)
    return result


def similar_name_flags(orgs, user, threshold: int = SIMILAR_NAME_THRESHOLD) -> dict[int, tuple[str, int]]:
    """For a page of organisations: pk → (closest other organisation's name, score) where
    one `user` may see (as for similar_organisations) is at least `threshold` similar.
    One query for the whole page."""
    orgs = list(orgs)
    if not orgs:
        return {}
    from rapidfuzz import fuzz, process

    names, choices = _name_index(user)
    pks, keys = list(choices), list(choices.values())
    column = {pk: i for i, pk in enumerate(pks)}
    # one vectorised comparison of the whole page against the whole registry
    scores = process.cdist([_comparable_name(o.name) for o in orgs], keys, scorer=fuzz.ratio, score_cutoff=threshold)
    flags = {}
    for row, org in zip(scores, orgs, strict=True):
        if org.pk in column:
            row[column[org.pk]] = 0
        best = int(row.argmax())
        if row[best] >= threshold:
            flags[org.pk] = (names[pks[best]], round(float(row[best])))
    return flags
