"""Reads of the registry: scoped staff lists, the public directory, eligibility."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from accounts.selectors import scope

from .models import (
    GRADES,
    AnnualInspection,
    EvaluationGrade,
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


def membership(user, organisation) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, organisation=organisation).first()


def organisations_for_staff(user) -> QuerySet:
    """Organisations in the user's region subtree (everything for a superuser)."""
    return scope(Organisation.objects.all(), user).select_related("region")


def public_organisations() -> QuerySet:
    """The public directory: verified organisations only."""
    return Organisation.objects.filter(status=OrganisationStatus.VERIFIED)


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

    entries = list(ListEntry.objects.filter(organisation=org, listed_on__lte=on))

    def active_since(kind, since):
        return [e for e in entries if e.kind == kind and (e.removed_on is None or e.removed_on >= since)]

    for e in active_since(ListEntry.Kind.ABNORMAL, _years_before(on, rules.abnormal_lookback_years)):
        reasons.append(f"{e.listed_on:%Y年%m月%d日}被列入活动异常名录，近{rules.abnormal_lookback_years}年内不得申报。")
    for e in active_since(ListEntry.Kind.DISHONEST, _years_before(on, rules.dishonest_lookback_years)):
        reasons.append(
            f"{e.listed_on:%Y年%m月%d日}被列入严重违法失信名单，近{rules.dishonest_lookback_years}年内不得申报。"
        )
    for e in entries:
        if e.kind == ListEntry.Kind.BAN and (e.removed_on is None or e.removed_on > on):
            until = f"至{e.removed_on:%Y年%m月%d日}" if e.removed_on else ""
            reasons.append(f"因{e.reason or '严重违约'}被禁止申报{until}。")

    if rules.require_inspection_passed and org.is_registered:
        last = AnnualInspection.objects.filter(organisation=org, year__lt=on.year).order_by("-year").first()
        ok = {AnnualInspection.Result.PASSED} | (
            {AnnualInspection.Result.BASIC} if rules.accept_basic_inspection else set()
        )
        if last is None:
            reasons.append("没有年检记录。")
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
    for g in EvaluationGrade.objects.filter(organisation=org, awarded_on__lte=on).order_by("-awarded_on"):
        return g if g.valid_on(on) else None
    return None


def organisation_detail_qs() -> QuerySet:
    return Organisation.objects.select_related("region", "sponsor").prefetch_related(
        "service_areas",
        Prefetch("documents", queryset=OrganisationDocument.objects.filter(is_current=True)),
    )
