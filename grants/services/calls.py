"""项目征集: a call manager in scope creates and edits a call (every rule validated together),
and moves it along its lifecycle; `advance_calls` moves every call whose timeline says it
should be further on (run daily by grants.tasks.grants_daily), logged as the system's act.

What a call promised cannot change under the people who relied on it: once applications
open its level and region are fixed, once they close its money rules and eligibility (the
eligibility check is made against them), once review starts its review rules, once it is
decided its tranche plan, report cadence and evaluation rules (the agreements are signed on
them), once projects are under way its agreement template (`locked_fields`)."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_fsm import ConcurrentTransition

from accounts.roles import Role
from accounts.selectors import has_scoped_perm, staff_users_for_region
from core.errors import UserError
from core.workflow import Notice, WorkflowError, action_service, log_created, transition, transition_label
from orgs.models import Membership, ServiceArea

from ..models import Call, CallStatus, Proposal, ProposalStatus
from ..models.calls import DEFAULT_CATEGORY_CODES, MANAGE_PERMISSION

S = CallStatus
MANAGE_DENIED = "您无权管理该项目征集：需要“发布和管理项目征集”的权限，且征集区域须在您负责的区域内。"
STALE_MESSAGE = (
    "该征集在您打开之后已被其他人或系统处理过（当前状态：{status}）。您填写的内容还在页面上，请刷新后再保存。"
)

# the columns a call manager edits (status moves only through transitions)
EDITABLE_FIELDS = (
    "title",
    "year",
    "level",
    "region",
    "base",
    "organiser",
    "summary",
    "pool_total",
    "grant_min",
    "grant_max",
    "max_grant_share",
    "max_personnel_share",
    "forbid_fixed_assets",
    "forbid_cash_handouts",
    "eligible_types",
    "allow_preparing_in_incubation",
    "min_grade",
    "max_applications_per_org",
    "needs_from",
    "needs_until",
    "apply_from",
    "apply_until",
    "eligibility_until",
    "review_from",
    "review_until",
    "pitch_on",
    "publicity_from",
    "publicity_until",
    "implement_from",
    "implement_until",
    "rubric",
    "panel_size",
    "aggregation",
    "blind_review",
    "has_pitch",
    "pitch_weight",
    "min_fundable_score",
    "spread_limit",
    "exclude_local_experts",
    "pitch_rubric",
    "fund_cheaper_after_skip",
    "tranche_plan",
    "agreement_template",
    "report_cadence",
    "evaluation_rubric",
    "pass_score",
    "grade_bands",
    "next_round",
)

MONEY_RULES = (
    "pool_total",
    "grant_min",
    "grant_max",
    "max_grant_share",
    "max_personnel_share",
    "forbid_fixed_assets",
    "forbid_cash_handouts",
)
ELIGIBILITY_RULES = ("eligible_types", "allow_preparing_in_incubation", "min_grade", "max_applications_per_org")
REVIEW_RULES = (
    "rubric",
    "panel_size",
    "aggregation",
    "blind_review",
    "has_pitch",
    "pitch_weight",
    "min_fundable_score",
    "exclude_local_experts",
    "pitch_rubric",
)

EVALUATION_RULES = ("report_cadence", "evaluation_rubric", "pass_score", "grade_bands")

STAGES = list(S.values)
# (from this status on, these fields, why) — "categories" is the many-to-many
LOCKS = [
    (S.OPEN, ("level", "region"), "征集开放申报后，层级和征集区域不能再修改。"),
    (
        S.CLOSED,
        (*MONEY_RULES, *ELIGIBILITY_RULES, "categories"),
        "申报截止后，资金规则和申报资格不能再修改（资格审查以此为准）。",
    ),
    (S.REVIEWING, REVIEW_RULES, "进入评审后，评审规则不能再修改。"),
    (S.PUBLICISING, ("spread_limit", "fund_cheaper_after_skip"), "立项公示后，立项名单的规则不能再修改。"),
    (S.DECIDED, ("tranche_plan",), "批复立项后，拨付计划不能再修改。"),
    (
        S.DECIDED,
        EVALUATION_RULES,
        "批复立项后，进度报告频次和评估规则不能再修改（项目协议据此签订）。",
    ),
    (
        S.IMPLEMENTING,
        ("agreement_template",),
        "项目进入实施后，协议条款模板不能再修改；尚未签订的协议可在项目页面逐份修改条款。",
    ),
]


def locked_fields(call: Call | None) -> dict[str, str]:
    """The fields of `call` that may no longer change, each with the reason."""
    if call is None or call.pk is None:
        return {}
    reached = STAGES.index(call.status)
    return {name: why for since, names, why in LOCKS if reached >= STAGES.index(since) for name in names}


def default_categories():
    return ServiceArea.objects.filter(code__in=DEFAULT_CATEGORY_CODES)


def _check_keys(data: dict) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable on a call: {sorted(unknown)}")


def _require_manager(by, region) -> None:
    """A call manager, in scope of `region` when there is one (the form says which to pick)."""
    may = has_scoped_perm(by, MANAGE_PERMISSION, region) if region is not None else _holds(by)
    if not may:
        raise PermissionDenied(MANAGE_DENIED)


def _holds(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(MANAGE_PERMISSION))


def _categories(categories):
    chosen = list(categories) if categories is not None else []
    return chosen or list(default_categories())


# ---- create and edit -------------------------------------------------------------------------------


def call_create(*, by, data: dict, categories=None) -> Call:
    """A new call (草稿) from `data` (field → value) for a region in the creator's scope;
    `categories` (ServiceAreas) default to the "6+1". Every rule checked together
    (ValidationError by field); its history starts with the creation."""
    _check_keys(data)
    region = data.get("region")
    _require_manager(by, region)
    if region is None:
        raise ValidationError({"region": "请选择征集区域。"})
    call = Call(**data, created_by=by)
    call.full_clean()
    with transaction.atomic():
        call.save()
        call.categories.set(_categories(categories))
        log_created(call, by=by, label="创建项目征集")
    return call


def call_update(*, call: Call, by, data: dict, categories=None) -> Call:
    """Change a call's rules. The call must be in the user's scope before and after; a
    field locked by the call's stage (`locked_fields`) may not change."""
    _check_keys(data)
    stored = Call.objects.select_related("region").get(pk=call.pk)
    _require_manager(by, stored.region)
    new_region = data.get("region", stored.region)
    if new_region is not None and not has_scoped_perm(by, MANAGE_PERMISSION, new_region):
        raise ValidationError({"region": "所选区域不在您的管辖范围内，请选择您所辖的区域。"})
    chosen = _categories(categories) if categories is not None else None
    errors = {}
    for name, why in locked_fields(stored).items():
        if name == "categories":
            if chosen is not None and {c.pk for c in chosen} != set(stored.categories.values_list("pk", flat=True)):
                errors[name] = [why]
        elif name in data and _value(data[name]) != _value(getattr(stored, name)):
            errors[name] = [why]
    if errors:
        raise ValidationError(errors)
    for name, value in data.items():
        setattr(call, name, value)
    call.full_clean()
    try:
        with transaction.atomic():
            call.save(update_fields=[*data, "updated_at"])
            if chosen is not None:
                call.categories.set(chosen)
    except ConcurrentTransition:
        current = Call.objects.get(pk=call.pk)
        raise UserError(STALE_MESSAGE.format(status=current.get_status_display())) from None
    return call


def _value(value):
    return getattr(value, "pk", value)


# ---- the lifecycle ---------------------------------------------------------------------------------


def _managers(call: Call):
    return staff_users_for_region(call.region, Role.CALL_MANAGER)


def _drafting_members(call: Call):
    """The members of organisations with a draft (never submitted) for the call."""
    from accounts.models import User

    return User.objects.filter(
        memberships__organisation__proposals__call=call,
        memberships__organisation__proposals__status=ProposalStatus.DRAFT,
        memberships__role__in=[Membership.Role.LEADER, Membership.Role.CONTACT],
        is_active=True,
    ).distinct()


def _notices(call: Call, name: str, by) -> list[Notice]:
    """Who hears of the step: the call managers of the region (but not the one who took
    it), and at the close the organisations still holding an unsubmitted draft."""
    label = transition_label(call, name)
    actor = "系统按时间表" if by is None else f"{by}"
    managers = [u for u in _managers(call) if by is None or u.pk != by.pk]
    notices = [
        Notice(
            managers,
            f"项目征集{label}：{call.title}",
            f"{actor}执行了“{label}”，当前状态：{call.get_status_display()}。",
            call.get_admin_url(),
        )
    ]
    if name == "close_applications":
        notices.append(
            Notice(
                list(_drafting_members(call)),
                f"申报已截止：{call.title}",
                "本次征集已截止申报，贵组织尚未提交的申报书不能再提交。",
                call,
            )
        )
    return notices


CALL_TRANSITIONS = (
    "start_needs",
    "open_applications",
    "close_applications",
    "start_review",
    "publicise",
    "decide",
    "start_implementation",
    "finish",
)


def call_transition(*, call: Call, by, name: str, reason: str = "") -> Call:
    """Run transition `name` of the call for a call manager in scope (by=None: the system,
    from `advance_calls`), with its audit row and notices."""
    transition(
        call,
        name,
        by=by,
        allowed=True if by is None else None,
        denied=MANAGE_DENIED,
        reason=reason,
        record={"status_reason": (reason or "").strip()[:500]},
        notify=lambda: _notices(call, name, by),
    )
    return call


for _name in CALL_TRANSITIONS:
    action_service(Call, _name, name=_name)(call_transition)


# ---- following the timeline --------------------------------------------------------------------------


def _next_step(call: Call, today: datetime.date) -> str | None:
    """The transition the timeline calls for today, if any. Never past 评审: 公示 and what
    follows wait for decisions made in the review."""
    if call.status in (S.DRAFT, S.NEEDS) and call.apply_from <= today:
        return "open_applications"
    if call.status == S.DRAFT and call.needs_from and call.needs_from <= today:
        return "start_needs"
    if call.status == S.OPEN and call.apply_until < today:
        return "close_applications"
    if call.status == S.CLOSED and call.review_from <= today:
        return "start_review"
    return None


AUTO_REASONS = {
    "start_needs": "按时间表自动进入需求征集（{date}起）。",
    "open_applications": "按时间表自动开放申报（{date}起）。",
    "close_applications": "按时间表自动截止申报（申报截止日{date}已过）。",
    "start_review": "按时间表自动进入专家评审（{date}起）。",
}
AUTO_DATES = {
    "start_needs": "needs_from",
    "open_applications": "apply_from",
    "close_applications": "apply_until",
    "start_review": "review_from",
}


def _due_q(today: datetime.date):
    from django.db.models import Q

    return (
        Q(status=S.DRAFT, needs_from__lte=today)
        | Q(status__in=[S.DRAFT, S.NEEDS], apply_from__lte=today)
        | Q(status=S.OPEN, apply_until__lt=today)
        | Q(status=S.CLOSED, review_from__lte=today)
    )


def advance_calls(today: datetime.date | None = None) -> list[tuple[Call, str, str]]:
    """Move every call the timeline says is behind, step by step (a call whose window has
    passed unnoticed goes through each stage it missed, each logged), as the system.
    Returns (call, from status, to status) for each step taken."""
    from django.utils import timezone

    from core.dates import chinese_date

    today = today or timezone.localdate()
    moved = []
    for call in Call.objects.filter(_due_q(today)).select_related("region").order_by("pk"):
        while (name := _next_step(call, today)) is not None:
            before = call.status
            reason = AUTO_REASONS[name].format(date=chinese_date(getattr(call, AUTO_DATES[name])))
            try:
                call_transition(call=call, by=None, name=name, reason=reason)
            except WorkflowError:  # moved by someone else meanwhile: their step stands
                break
            moved.append((call, before, call.status))
    return moved


def applications_count(call: Call) -> int:
    """Applications made so far: submitted or later (drafts and withdrawn ones aside)."""
    return (
        Proposal.objects.filter(call=call).exclude(status__in=[ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN]).count()
    )
