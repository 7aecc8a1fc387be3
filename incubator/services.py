"""Every action of the incubation lifecycle. Each checks permission, validates, runs in a
transaction through core.workflow (audit log), and notifies after commit.

Who may act: operators (role 孵化基地运营, permission incubator.operate_base) of a base in
their region subtree — a street workstation's operator acts on it and the community
studios below it, never on the city base; the organisation's 负责人/项目联系人 apply and
may withdraw their own organisation."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import can_proceed

from accounts.roles import Role
from accounts.selectors import region_in_scope, staff_users_for_region
from core.dates import chinese_date
from core.services import notify
from core.workdays import add_workdays
from core.workflow import WorkflowError, run_transition, status_display, transition_label
from orgs import services as org_services
from orgs.models import REGISTERED_TYPES, Membership, OrganisationStatus
from orgs.validators import normalise_uscc

from .models import (
    ASSESSMENT_DIMENSIONS,
    OPEN_STATES,
    RESIDENT_STATES,
    AssessmentStage,
    BaseService,
    CapacityAssessment,
    Incubation,
    IncubationBase,
    IncubationStatus,
    Promotion,
    PromotionState,
    Residence,
    ServiceLog,
)

S = IncubationStatus
DUPLICATE_APPLICATION = "该组织在本基地已有进行中的入驻申请或入驻记录，不能重复申请。"
EXTEND_ONCE = "每个组织只能续驻一次。"


# ---- permission ---------------------------------------------------------------------------


def can_operate(user, base: IncubationBase) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_perm("incubator.operate_base")
        and region_in_scope(user, base.region)
    )


def require_operator(user, base: IncubationBase) -> None:
    if not can_operate(user, base):
        raise PermissionDenied("您无权操作该孵化基地：需要基地运营权限，且基地须在您负责的区域内。")


def _today() -> datetime.date:
    return timezone.localdate()


def _record(instance, **fields) -> None:
    """Write the columns a transition comes with, and keep the instance in step:
    run_transition saves the whole row, so a column written behind the instance's back
    would be overwritten with the stale value by its next transition."""
    type(instance).objects.filter(pk=instance.pk).update(**fields)
    for name, value in fields.items():
        setattr(instance, name, value)


def _require_can_proceed(instance, name: str, field: str = "status") -> None:
    """Say why a transition cannot happen before anything else is claimed or written."""
    if not can_proceed(getattr(instance, name)):
        label = transition_label(instance, name)
        raise WorkflowError(f"当前状态为“{status_display(instance, field)}”，不能执行“{label}”。")


def _notify_org(incubation: Incubation, title: str, body: str) -> None:
    members = [m.user for m in incubation.organisation.memberships.select_related("user")]
    notify(recipients=members, title=title, body=body, url=f"/me/incubation/{incubation.pk}/")


def _notify_operators(base: IncubationBase, title: str, body: str, url: str) -> None:
    notify(recipients=staff_users_for_region(base.region, Role.BASE_OPERATOR), title=title, body=body, url=url)


# ---- capacity ------------------------------------------------------------------------------


def _take_place(base: IncubationBase, residence: str) -> None:
    """Claim one place with a single conditional UPDATE: of two operators admitting at
    once, the database lets exactly as many through as there are free places."""
    if residence == Residence.DESK:
        taken = IncubationBase.objects.filter(pk=base.pk, desks_used__lt=F("desks")).update(
            desks_used=F("desks_used") + 1
        )
        what = "实体工位"
    else:
        taken = IncubationBase.objects.filter(pk=base.pk, virtual_used__lt=F("virtual_places")).update(
            virtual_used=F("virtual_used") + 1
        )
        what = "虚拟入驻名额"
    if not taken:
        raise WorkflowError(f"{base.name}的{what}已满，无法入驻。可选择其他入驻方式，或等有组织出壳、退驻后再办理。")


def _release_place(incubation: Incubation) -> None:
    base_qs = IncubationBase.objects.filter(pk=incubation.base_id)
    if incubation.residence == Residence.DESK:
        base_qs.filter(desks_used__gt=0).update(desks_used=F("desks_used") - 1)
    elif incubation.residence == Residence.VIRTUAL:
        base_qs.filter(virtual_used__gt=0).update(virtual_used=F("virtual_used") - 1)


# ---- application and screening --------------------------------------------------------------


def incubation_apply(
    *,
    base: IncubationBase,
    organisation,
    by,
    plan: str,
    member_count: int = 1,
    needs: str = "",
    requested_services=(),
    wants_desk: bool = True,
) -> Incubation:
    """An organisation (in any registration state, 筹备 groups included) applies to a base.
    Its profile is reused; only the plan, needs and services are asked.

    Raises PermissionDenied unless `by` is the organisation's 负责人 or 项目联系人, and
    ValidationError for a closed base, a missing plan, unknown services, a member count
    below one, an open application or stay of the organisation at this base, or an
    organisation whose registration is suspended or revoked (any other state may apply)."""
    org_services.require_member(by, organisation, org_services.EDITOR_ROLES)
    if organisation.status in (OrganisationStatus.SUSPENDED, OrganisationStatus.REVOKED):
        raise ValidationError(
            f"组织登记状态为“{organisation.get_status_display()}”，暂不能申请入驻。理由：{organisation.status_reason or '—'}"
        )
    if not base.is_active:
        raise ValidationError("该基地暂不接受入驻申请。")
    if not (plan or "").strip():
        raise ValidationError({"plan": "请说明入驻后打算开展的服务。"})
    unknown = set(requested_services) - set(BaseService.values)
    if unknown:
        raise ValidationError({"requested_services": "申请的服务项目无效。"})
    if Incubation.objects.filter(
        base=base, organisation=organisation, status__in=[s.value for s in OPEN_STATES]
    ).exists():
        raise ValidationError(DUPLICATE_APPLICATION)
    today = _today()
    inc = Incubation(
        base=base,
        organisation=organisation,
        plan=plan.strip(),
        member_count=member_count,
        needs=needs,
        requested_services=list(requested_services),
        wants_desk=wants_desk,
        applied_by=by,
        applied_on=today,
        screening_due=add_workdays(today, base.screening_days),
    )
    # field checks here, so that an IntegrityError below can only mean a duplicate
    inc.full_clean(exclude=["requested_services"], validate_constraints=False)
    if inc.member_count < 1:
        raise ValidationError({"member_count": "成员人数至少为1人。"})
    try:
        with transaction.atomic():
            inc.save()
            _notify_operators(
                base,
                f"新的入驻申请：{organisation.name}",
                f"{organisation.name} 申请入驻{base.name}，请在 {chinese_date(inc.screening_due)} 前完成初审。",
                f"/admin/incubator/incubations/{inc.pk}/",
            )
            _notify_org(
                inc,
                f"入驻申请已提交：{base.name}",
                f"{base.name}将在 {chinese_date(inc.screening_due)} 前完成初审，结果会通知您。",
            )
    except IntegrityError:
        raise ValidationError(DUPLICATE_APPLICATION)
    return inc


def incubation_screen(*, incubation: Incubation, by, accept: bool, reason: str = "") -> Incubation:
    """初审. Raises PermissionDenied for anyone but an operator in scope, WorkflowError for
    a rejection without the reason the organisation will read, or when the application
    is no longer waiting for screening."""
    require_operator(by, incubation.base)
    reason = (reason or "").strip()
    if not accept and not reason:
        raise WorkflowError("初审不通过时请填写理由，申请组织将看到这段说明。")
    with transaction.atomic():
        run_transition(incubation, "screen_accept" if accept else "screen_reject", by=by, reason=reason)
        _record(incubation, screened_on=_today(), status_reason=reason)
        if accept:
            _notify_org(
                incubation,
                f"入驻申请初审通过：{incubation.base.name}",
                "您的入驻申请已通过初审，基地将与您联系签订入驻协议。",
            )
        else:
            _notify_org(incubation, f"入驻申请未通过初审：{incubation.base.name}", f"理由：{reason}")
    return incubation


def _agreement_no(base: IncubationBase, day: datetime.date) -> str:
    seq = Incubation.objects.filter(base=base, starts_on__year=day.year).exclude(agreement_no="").count() + 1
    return f"RZ{day.year}-{base.pk:03d}-{seq:03d}"


def incubation_admit(
    *,
    incubation: Incubation,
    by,
    residence: str,
    desk_label: str = "",
    starts_on: datetime.date | None = None,
    reason: str = "",
) -> Incubation:
    """入壳: sign the residence agreement and allocate a desk or a virtual place.
    Raises PermissionDenied for anyone but an operator in scope, ValidationError for a
    missing residence or desk label, WorkflowError when the application has not passed
    screening or the base has no free place of that kind (nothing is changed then)."""
    require_operator(by, incubation.base)
    if residence not in Residence.values:
        raise ValidationError({"residence": "请选择入驻方式。"})
    if residence == Residence.DESK and not desk_label.strip():
        raise ValidationError({"desk_label": "实体入驻请填写工位或房间号。"})
    _require_can_proceed(incubation, "admit")
    starts_on = starts_on or _today()
    with transaction.atomic():
        base = incubation.base
        _take_place(base, residence)
        run_transition(incubation, "admit", by=by, reason=reason or f"签订入驻协议，{Residence(residence).label}")
        ends_on = starts_on + relativedelta(months=base.period_months)
        fields = {
            "residence": residence,
            "desk_label": desk_label.strip(),
            "starts_on": starts_on,
            "ends_on": ends_on,
            "agreement_no": _agreement_no(base, starts_on),
            "status_reason": reason,
        }
        _record(incubation, **fields)
        _notify_org(
            incubation,
            f"已入驻{base.name}",
            f"入驻协议 {fields['agreement_no']} 已生成，孵化期至 {chinese_date(ends_on)}。",
        )
    return incubation


def _simple(incubation, name, *, by, title, body, reason=""):
    """A transition with nothing but a reason: operator in scope, audit row, notice.
    Raises PermissionDenied or WorkflowError (not allowed from the current status)."""
    require_operator(by, incubation.base)
    with transaction.atomic():
        run_transition(incubation, name, by=by, reason=reason)
        _record(incubation, status_reason=reason)
        _notify_org(incubation, title, body)
    return incubation


def incubation_begin(*, incubation, by):
    return _simple(
        incubation,
        "begin",
        by=by,
        title=f"开始孵化：{incubation.base.name}",
        # ends_on is None before 入壳: the transition then refuses, the message must not crash first
        body=f"您在{incubation.base.name}的孵化已开始"
        + (f"，孵化期至 {chinese_date(incubation.ends_on)}。" if incubation.ends_on else "。"),
    )


def incubation_mid_review_start(*, incubation, by):
    return _simple(
        incubation,
        "start_mid_review",
        by=by,
        title="进入中期评估",
        body=f"您在{incubation.base.name}的孵化进入中期评估，请配合完成能力评估。",
    )


def incubation_mid_review_pass(*, incubation, by, reason=""):
    return _simple(
        incubation,
        "pass_mid_review",
        by=by,
        reason=reason,
        title="中期评估通过",
        body=reason or "中期评估已通过，继续孵化。",
    )


def incubation_extend(*, incubation: Incubation, by, new_end: datetime.date, reason: str) -> Incubation:
    """续驻: once, to a later end date, with a reason. Raises PermissionDenied,
    WorkflowError (already extended once, no reason, not allowed from the current status)
    or ValidationError (no new end date, or one not after the current one)."""
    require_operator(by, incubation.base)
    if incubation.extension_count >= 1:
        raise WorkflowError(EXTEND_ONCE)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("请填写续驻理由。")
    if not isinstance(new_end, datetime.date):
        raise ValidationError({"new_end": "请填写续驻后的孵化期满日期。"})
    if incubation.ends_on and new_end <= incubation.ends_on:
        raise ValidationError(
            {"new_end": f"续驻后的截止日期须晚于原孵化期满日期（{chinese_date(incubation.ends_on)}）。"}
        )
    _require_can_proceed(incubation, "extend")
    with transaction.atomic():
        # claimed in the database: a copy read before an earlier extension must not extend again
        if not Incubation.objects.filter(pk=incubation.pk, extension_count=0).update(extension_count=1):
            raise WorkflowError(EXTEND_ONCE)
        incubation.extension_count = 1
        run_transition(incubation, "extend", by=by, reason=f"{reason}（续驻至{chinese_date(new_end)}）")
        _record(incubation, ends_on=new_end, status_reason=reason)
        _notify_org(incubation, "续驻已办理", f"孵化期延长至 {chinese_date(new_end)}。理由：{reason}")
    return incubation


def graduation_blockers(incubation: Incubation, *, registered: bool, governance: bool, project: bool) -> list[str]:
    blockers = []
    if not registered:
        blockers.append("尚未完成登记或备案。")
    if not governance:
        blockers.append("治理结构尚不健全（章程、理事会、财务制度）。")
    if not project:
        blockers.append("尚未独立运作至少一个项目。")
    latest = incubation.assessments.order_by("-assessed_on", "-pk").first()
    minimum = incubation.base.graduation_min_score
    if latest is None:
        blockers.append("没有能力评估记录。")
    elif latest.total < minimum:
        blockers.append(f"最近一次能力评估 {latest.total} 分，低于出壳要求的 {minimum} 分。")
    return blockers


def incubation_graduate(
    *,
    incubation: Incubation,
    by,
    registered: bool,
    governance: bool,
    project: bool,
    new_org_type: str = "",
    new_uscc: str = "",
    reason: str = "",
) -> Incubation:
    """出壳. The checklist must hold; an organisation that registered during incubation has
    its USCC and type recorded through the Organisations services (an approved
    LegalChangeRequest). Raises PermissionDenied; WorkflowError when not allowed from the
    current status or listing every unmet item of the checklist; ValidationError for a
    missing type or an invalid or taken USCC, or a new USCC for an organisation that is
    already registered (that is a 登记事项变更, asked for by its 负责人)."""
    require_operator(by, incubation.base)
    _require_can_proceed(incubation, "graduate")
    org = incubation.organisation
    new_uscc = normalise_uscc(new_uscc)
    if new_uscc and new_org_type not in REGISTERED_TYPES:
        raise ValidationError({"new_org_type": "请选择登记后的组织类型。"})
    if new_uscc and org.is_registered and new_uscc != org.uscc:
        raise ValidationError(
            {"new_uscc": f"该组织已登记（统一社会信用代码 {org.uscc}），变更登记事项请由负责人提出变更申请。"}
        )
    registered_now = bool(new_uscc) and not org.is_registered
    blockers = graduation_blockers(
        incubation, registered=registered or registered_now or org.is_registered, governance=governance, project=project
    )
    if blockers:
        raise WorkflowError("不能出壳：" + "".join(blockers))
    with transaction.atomic():
        if registered_now:
            org_services.registration_record(
                org=org,
                by=by,
                org_type=new_org_type,
                uscc=new_uscc,
                note=f"在{incubation.base.name}孵化期间完成登记",
                allowed=True,
            )
        run_transition(incubation, "graduate", by=by, reason=reason or "出壳清单全部满足")
        _release_place(incubation)
        today = _today()
        fields = {
            "check_registered": True,
            "check_governance": governance,
            "check_project": project,
            "graduated_on": today,
            "registered_during": registered_now,
            "certificate_no": f"CK{today.year}-{incubation.base_id:03d}-{incubation.pk:05d}",
        }
        _record(incubation, status_reason=reason, **fields)
        _notify_org(
            incubation, f"恭喜出壳：{incubation.base.name}", f"出壳证书编号 {fields['certificate_no']}，可在平台下载。"
        )
    return incubation


def incubation_withdraw(*, incubation: Incubation, by, reason: str) -> Incubation:
    """退驻, by the base or by the organisation's 负责人; the place is freed and a desk is
    due back within the base's hand-back period (15 working days by default). Raises
    PermissionDenied for anyone else, WorkflowError without a reason, when already
    withdrawn, or when not a resident."""
    is_leader = org_services._member_role(by, incubation.organisation) == Membership.Role.LEADER
    if not (is_leader or can_operate(by, incubation.base)):
        raise PermissionDenied("只有基地运营人员或该组织负责人可以办理退驻。")
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("请填写退驻原因。")
    if incubation.status == S.WITHDRAWN:
        raise WorkflowError("该组织已经退驻，无需重复办理。")
    with transaction.atomic():
        run_transition(incubation, "withdraw", by=by, reason=reason)
        _release_place(incubation)
        today = _today()
        due = add_workdays(today, incubation.base.handback_days) if incubation.residence == Residence.DESK else None
        _record(incubation, withdrawn_on=today, handback_due=due, status_reason=reason)
        body = f"退驻原因：{reason}。" + (f"请于 {chinese_date(due)} 前交还场地。" if due else "")
        _notify_org(incubation, f"已办理退驻：{incubation.base.name}", body)
        if is_leader:
            _notify_operators(
                incubation.base,
                f"{incubation.organisation.name} 申请退驻",
                body,
                f"/admin/incubator/incubations/{incubation.pk}/",
            )
    return incubation


# ---- during incubation ------------------------------------------------------------------------


def _require_resident(incubation: Incubation, what: str) -> None:
    if not incubation.is_resident:
        raise ValidationError(f"该组织当前状态为“{incubation.get_status_display()}”，不能{what}。")


def service_log_add(*, incubation: Incubation, by, **data) -> ServiceLog:
    """Record one training, mentoring session, consultation, event or resource match.
    Raises PermissionDenied, or ValidationError when the organisation is not a resident
    or a field is invalid."""
    require_operator(by, incubation.base)
    _require_resident(incubation, "记录孵化服务")
    log = ServiceLog(incubation=incubation, recorded_by=by, **data)
    log.full_clean()
    log.save()
    return log


def assessment_record(
    *, incubation: Incubation, by, stage: str, scores: dict, assessed_on=None, comment: str = ""
) -> CapacityAssessment:
    """Score the five dimensions 0–100; the total uses the base's weights of today,
    rounded half up to 2 places. One assessment per stage: recording a stage again
    replaces it. Raises PermissionDenied, or ValidationError naming the dimension whose
    score is missing, not a number or outside 0–100, or when not a resident."""
    require_operator(by, incubation.base)
    _require_resident(incubation, "进行能力评估")
    if stage not in AssessmentStage.values:
        raise ValidationError({"stage": "请选择评估阶段。"})
    scores = scores or {}
    clean = {}
    for key, label in ASSESSMENT_DIMENSIONS.items():
        raw = scores.get(key)
        try:
            value = Decimal(str(raw).strip()) if raw is not None and not isinstance(raw, bool) else None
        except ArithmeticError:
            value = None
        if value is None or not value.is_finite():  # "NaN" and "Infinity" parse as Decimals
            raise ValidationError({key: f"“{label}”得分须为0–100的数字。"})
        if not Decimal(0) <= value <= Decimal(100):
            raise ValidationError({key: f"“{label}”得分须在0到100之间。"})
        clean[key] = str(value)
    weights = incubation.base.assessment_weights
    total = sum(Decimal(clean[k]) * Decimal(str(weights[k])) for k in ASSESSMENT_DIMENSIONS) / Decimal(100)
    total = total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assessment, _ = CapacityAssessment.objects.update_or_create(
        incubation=incubation,
        stage=stage,
        defaults={
            "scores": clean,
            "weights": dict(weights),
            "total": total,
            "assessor": by,
            "assessed_on": assessed_on or _today(),
            "comment": comment,
        },
    )
    return assessment


# ---- 三级联动 promotion -------------------------------------------------------------------------


def promotion_recommend(*, incubation: Incubation, by, reason: str) -> Promotion:
    """Recommend a resident or graduate to the base one level up. Raises
    PermissionDenied for anyone but an operator of this base, ValidationError at the top
    level, for an organisation not resident or graduated, without a reason, or when a
    recommendation is already waiting."""
    require_operator(by, incubation.base)
    upper = incubation.base.parent
    if upper is None:
        raise ValidationError("市级基地没有上级基地，无需推荐。")
    if incubation.status not in (*RESIDENT_STATES, S.GRADUATED):
        raise ValidationError("只能推荐在孵或已出壳的组织。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写推荐理由。"})
    if Promotion.objects.filter(incubation=incubation, to_base=upper, state=PromotionState.PENDING).exists():
        raise ValidationError("已向上级基地推荐过该组织，正在等待处理。")
    with transaction.atomic():
        promo = Promotion.objects.create(incubation=incubation, to_base=upper, reason=reason, recommended_by=by)
        body = f"{incubation.base.name}推荐 {incubation.organisation.name} 入驻{upper.name}。理由：{reason}"
        _notify_operators(
            upper, f"下级基地推荐：{incubation.organisation.name}", body, f"/admin/incubator/promotions/{promo.pk}/"
        )
        _notify_org(incubation, f"已被推荐至{upper.name}", body)
    return promo


def promotion_accept(
    *, promotion: Promotion, by, residence: str, desk_label: str = "", starts_on: datetime.date | None = None
) -> Incubation:
    """The upper base admits the recommended organisation directly: the facts already
    known (profile, plan, needs, services) are reused, no new application is filled in;
    the new stay is logged as screened and admitted. Raises PermissionDenied for anyone
    but an operator of the upper base, WorkflowError when the recommendation was already
    handled or the upper base is full, ValidationError as incubation_admit does or when
    the organisation already has an open stay at the upper base."""
    require_operator(by, promotion.to_base)
    _require_can_proceed(promotion, "accept", field="state")
    source = promotion.incubation
    with transaction.atomic():
        today = _today()
        try:
            with transaction.atomic():
                new = Incubation.objects.create(
                    base=promotion.to_base,
                    organisation=source.organisation,
                    plan=source.plan,
                    member_count=source.member_count,
                    needs=source.needs,
                    requested_services=source.requested_services,
                    wants_desk=residence == Residence.DESK,
                    applied_by=by,
                    applied_on=today,
                    screening_due=today,
                    promoted_from=source,
                )
        except IntegrityError:
            raise ValidationError("该组织在本基地已有进行中的入驻记录。")
        note = f"由{source.base.name}推荐，直接入驻"
        run_transition(new, "screen_accept", by=by, reason=note)
        _record(new, screened_on=today, status_reason=note)
        incubation_admit(
            incubation=new, by=by, residence=residence, desk_label=desk_label, starts_on=starts_on, reason=note
        )
        run_transition(promotion, "accept", by=by, reason=note)
        _record(promotion, result=new)
        notify(
            recipients=[promotion.recommended_by],
            title=f"推荐已被接收：{source.organisation.name}",
            body=f"{promotion.to_base.name}已接收 {source.organisation.name} 入驻。",
            url=f"/admin/incubator/promotions/{promotion.pk}/",
        )
    return new


def promotion_decline(*, promotion: Promotion, by, reason: str) -> Promotion:
    """The upper base declines, with a reason the recommending base and the organisation
    read. Raises PermissionDenied, or WorkflowError without a reason or when the
    recommendation was already handled."""
    require_operator(by, promotion.to_base)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("请填写不接收的理由。")
    with transaction.atomic():
        run_transition(promotion, "decline", by=by, reason=reason)
        org = promotion.incubation.organisation
        notify(
            recipients=[promotion.recommended_by],
            title=f"推荐未被接收：{org.name}",
            body=f"{promotion.to_base.name}：{reason}",
            url=f"/admin/incubator/promotions/{promotion.pk}/",
        )
        _notify_org(promotion.incubation, f"{promotion.to_base.name}暂未接收推荐", f"理由：{reason}")
    return promotion
