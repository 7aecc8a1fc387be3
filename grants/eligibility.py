"""May this organisation apply to this call? The organisation's own standing
(`orgs.selectors.eligibility`: registration, 异常/失信 lists, bans, 年检, grade) under the
call's rules, plus what only the call knows: the types it admits (备案 groups with a
sponsor; 筹备 groups only while in incubation where the call allows it), how many
applications one organisation may make, and whether applications are open at all.

Shown to the organisation before it types anything, and checked again at submission."""

import datetime

from django.utils import timezone

from core.dates import chinese_date
from orgs.models import OrgType
from orgs.selectors import Eligibility, EligibilityRules, eligibility

from .models import COUNTED_STATES, Call, Proposal


def call_rules(call: Call) -> EligibilityRules:
    types = set(call.eligible_types or [])
    if call.allow_preparing_in_incubation:
        types.add(OrgType.PREPARING)
    return EligibilityRules(min_grade=call.min_grade or None, allowed_types=tuple(sorted(types)) or None)


def _in_incubation(org) -> bool:
    from incubator.models import RESIDENT_STATES

    return org.incubations.filter(status__in=[s.value for s in RESIDENT_STATES]).exists()


def applications_used(call: Call, org, *, exclude=None) -> int:
    qs = Proposal.objects.filter(call=call, organisation=org, status__in=[s.value for s in COUNTED_STATES])
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.count()


def may_apply(
    call: Call,
    org,
    *,
    on: datetime.date | None = None,
    proposal: Proposal | None = None,
    check_period: bool = True,
) -> Eligibility:
    """Every reason `org` may not apply to `call` on day `on`, in Chinese. `proposal`, when
    given, is the application being checked (it does not count against the limit);
    `check_period=False` leaves out whether applications are open (for staff checking a
    proposal after the close)."""
    on = on or timezone.localdate()
    rules = call_rules(call)
    # a 筹备 group has no registration to verify; a 备案 group is on record with its sponsor
    preparing = org.org_type == OrgType.PREPARING
    if preparing or org.org_type == OrgType.COMMUNITY_FILED:
        rules = EligibilityRules(
            require_verified=not preparing,
            min_grade=None,
            allowed_types=rules.allowed_types,
        )
    result = eligibility(org, on, rules)
    reasons = list(result.reasons)
    if org.org_type == OrgType.COMMUNITY_FILED and not (org.sponsor_id or org.sponsor_name):
        reasons.append("社区社会组织（备案）须有挂靠/指导单位方可申报，请先在组织资料中填写。")
    if preparing and call.allow_preparing_in_incubation and not _in_incubation(org):
        reasons.append("筹备中的组织须正在孵化基地孵化，方可申报本次征集。")
    # a submitted proposal was counted against the limit when it was started and submitted
    counted = proposal is not None and proposal.status != Proposal.Status.DRAFT
    used = 0 if counted else applications_used(call, org, exclude=proposal)
    if used >= call.max_applications_per_org:
        reasons.append(f"本次征集每个组织最多申报{call.max_applications_per_org}个项目，贵组织已申报{used}个。")
    if check_period and not call.accepts_applications:
        if call.status == Call.Status.OPEN and on < call.apply_from:
            reasons.append(f"申报将于{chinese_date(call.apply_from)}开始。")
        else:
            reasons.append(f"本次征集当前不在申报期（{call.get_status_display()}）。")
    return Eligibility(eligible=not reasons, reasons=reasons)
