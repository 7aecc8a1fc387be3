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

from accounts.roles import Role
from accounts.selectors import has_scoped_perm, staff_users_for_region
from core.dates import chinese_date
from core.workdays import add_workdays
from core.workflow import (
    Notice,
    WorkflowError,
    action_service,
    extra_action,
    log_created,
    may_run,
    require_can_proceed,
    run_transition,
    send_notices,
    transition,
)
from orgs import services as org_services
from orgs.models import REGISTERED_TYPES, Membership, OrganisationStatus, OrgType
from orgs.selectors import member_role
from orgs.validators import normalise_uscc

from .models import (
    ASSESSMENT_DIMENSIONS,
    OPEN_STATES,
    OPERATE_PERMISSION,
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


OPERATOR_DENIED = "您无权操作该孵化基地：需要基地运营权限，且基地须在您负责的区域内。"


def can_operate(user, base: IncubationBase) -> bool:
    return has_scoped_perm(user, OPERATE_PERMISSION, base.region)


def require_operator(user, base: IncubationBase) -> None:
    if not can_operate(user, base):
        raise PermissionDenied(OPERATOR_DENIED)


def _today() -> datetime.date:
    return timezone.localdate()


def _org_notice(incubation: Incubation, title: str, body: str) -> Notice:
    """A notice to the organisation's members, linking to the stay in the portal."""
    return org_services.members_notice(incubation.organisation, title, body, incubation)


def _operators_notice(base: IncubationBase, title: str, body: str, target) -> Notice:
    """A notice to the operators whose region covers `base`, linking to `target`'s staff page."""
    return Notice(staff_users_for_region(base.region, Role.BASE_OPERATOR), title, body, target.get_admin_url())


def _operate(incubation, name, *, by, reason="", record=None, notify=(), **kwargs):
    """A transition of a stay by an operator of its base; the reason is kept on the stay."""
    reason = (reason or "").strip()
    return transition(
        incubation,
        name,
        by=by,
        denied=OPERATOR_DENIED,
        reason=reason,
        record={"status_reason": reason, **(record or {})},
        notify=notify,
        **kwargs,
    )


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
            log_created(inc, by=by, label="提交入驻申请")
            due = chinese_date(inc.screening_due)
            send_notices(
                [
                    _operators_notice(
                        base,
                        f"新的入驻申请：{organisation.name}",
                        f"{organisation.name} 申请入驻{base.name}，请在 {due} 前完成初审。",
                        inc,
                    ),
                    _org_notice(
                        inc, f"入驻申请已提交：{base.name}", f"{base.name}将在 {due} 前完成初审，结果会通知您。"
                    ),
                ]
            )
    except IntegrityError:
        raise ValidationError(DUPLICATE_APPLICATION)
    return inc


@action_service(Incubation, "screen_accept", accept=True)
@action_service(Incubation, "screen_reject", accept=False)
def incubation_screen(*, incubation: Incubation, by, accept: bool, reason: str = "") -> Incubation:
    """初审. Raises PermissionDenied for anyone but an operator in scope, WorkflowError for
    a rejection without the reason the organisation will read, or when the application
    is no longer waiting for screening."""
    require_operator(by, incubation.base)
    base = incubation.base.name
    if accept:
        notice = _org_notice(
            incubation, f"入驻申请初审通过：{base}", "您的入驻申请已通过初审，基地将与您联系签订入驻协议。"
        )
    else:
        notice = _org_notice(incubation, f"入驻申请未通过初审：{base}", f"理由：{(reason or '').strip()}")
    _operate(
        incubation,
        "screen_accept" if accept else "screen_reject",
        by=by,
        reason=reason,
        reason_required=not accept,
        record={"screened_on": _today()},
        notify=[notice],
    )
    return incubation


def _agreement_no(base: IncubationBase, day: datetime.date) -> str:
    seq = Incubation.objects.filter(base=base, starts_on__year=day.year).exclude(agreement_no="").count() + 1
    return f"RZ{day.year}-{base.pk:03d}-{seq:03d}"


@action_service(Incubation, "admit")
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
    require_can_proceed(incubation, "admit")
    starts_on = starts_on or _today()
    base = incubation.base
    ends_on = starts_on + relativedelta(months=base.period_months)
    with transaction.atomic():
        _take_place(base, residence)
        agreement_no = _agreement_no(base, starts_on)
        _operate(
            incubation,
            "admit",
            by=by,
            reason=reason,
            log_reason=reason or f"签订入驻协议，{Residence(residence).label}",
            record={
                "residence": residence,
                "desk_label": desk_label.strip(),
                "starts_on": starts_on,
                "ends_on": ends_on,
                "agreement_no": agreement_no,
            },
            notify=[
                _org_notice(
                    incubation,
                    f"已入驻{base.name}",
                    f"入驻协议 {agreement_no} 已生成，孵化期至 {chinese_date(ends_on)}。",
                )
            ],
        )
    return incubation


@action_service(Incubation, "begin")
def incubation_begin(*, incubation, by):
    # ends_on is None before 入壳: the transition then refuses, the message must not crash first
    until = f"，孵化期至 {chinese_date(incubation.ends_on)}。" if incubation.ends_on else "。"
    title, body = f"开始孵化：{incubation.base.name}", f"您在{incubation.base.name}的孵化已开始{until}"
    _operate(incubation, "begin", by=by, notify=[_org_notice(incubation, title, body)])
    return incubation


@action_service(Incubation, "start_mid_review")
def incubation_mid_review_start(*, incubation, by):
    body = f"您在{incubation.base.name}的孵化进入中期评估，请配合完成能力评估。"
    _operate(incubation, "start_mid_review", by=by, notify=[_org_notice(incubation, "进入中期评估", body)])
    return incubation


@action_service(Incubation, "pass_mid_review")
def incubation_mid_review_pass(*, incubation, by, reason=""):
    body = (reason or "").strip() or "中期评估已通过，继续孵化。"
    _operate(
        incubation, "pass_mid_review", by=by, reason=reason, notify=[_org_notice(incubation, "中期评估通过", body)]
    )
    return incubation


@action_service(Incubation, "extend")
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
    require_can_proceed(incubation, "extend")
    with transaction.atomic():
        # claimed in the database: a copy read before an earlier extension must not extend again
        if not Incubation.objects.filter(pk=incubation.pk, extension_count=0).update(extension_count=1):
            raise WorkflowError(EXTEND_ONCE)
        incubation.extension_count = 0  # the transition's condition reads the state it was in
        _operate(
            incubation,
            "extend",
            by=by,
            reason=reason,
            log_reason=f"{reason}（续驻至{chinese_date(new_end)}）",
            record={"ends_on": new_end, "extension_count": 1},
            notify=[_org_notice(incubation, "续驻已办理", f"孵化期延长至 {chinese_date(new_end)}。理由：{reason}")],
        )
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


NOT_REGISTERED = (
    "筹备中的团队须填写登记后的统一社会信用代码才能按“已完成登记或备案”出壳；"
    "已在社区备案的，请先由组织在资料中填写备案编号并通过审核。"
)


@action_service(Incubation, "graduate")
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
    LegalChangeRequest). "Registered or filed" must be a fact on record: a 筹备 group
    needs the USCC it got. Raises PermissionDenied; WorkflowError when not allowed from
    the current status or listing every unmet item of the checklist; ValidationError for
    a missing type or an invalid or taken USCC, a 筹备 group ticked as registered with no
    USCC, or a new USCC for an organisation that is already registered (that is a
    登记事项变更, asked for by its 负责人)."""
    require_operator(by, incubation.base)
    require_can_proceed(incubation, "graduate")
    org = incubation.organisation
    new_uscc = normalise_uscc(new_uscc)
    if new_uscc and new_org_type not in REGISTERED_TYPES:
        raise ValidationError({"new_org_type": "请选择登记后的组织类型。"})
    if new_uscc and org.is_registered and new_uscc != org.uscc:
        raise ValidationError(
            {"new_uscc": f"该组织已登记（统一社会信用代码 {org.uscc}），变更登记事项请由负责人提出变更申请。"}
        )
    registered_now = bool(new_uscc) and not org.is_registered
    on_record = org.is_registered or org.org_type == OrgType.COMMUNITY_FILED or registered_now
    if registered and not on_record:
        raise ValidationError({"new_uscc": NOT_REGISTERED})
    blockers = graduation_blockers(incubation, registered=on_record, governance=governance, project=project)
    if blockers:
        raise WorkflowError("不能出壳：" + "".join(blockers))
    today = _today()
    certificate_no = f"CK{today.year}-{incubation.base_id:03d}-{incubation.pk:05d}"
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
        _operate(
            incubation,
            "graduate",
            by=by,
            reason=reason,
            log_reason=(reason or "").strip() or "出壳清单全部满足",
            record={
                "check_registered": True,
                "check_governance": governance,
                "check_project": project,
                "graduated_on": today,
                "registered_during": registered_now,
                "certificate_no": certificate_no,
            },
            notify=[
                _org_notice(
                    incubation, f"恭喜出壳：{incubation.base.name}", f"出壳证书编号 {certificate_no}，可在平台下载。"
                )
            ],
        )
        _release_place(incubation)
    return incubation


@action_service(Incubation, "withdraw")
def incubation_withdraw(*, incubation: Incubation, by, reason: str) -> Incubation:
    """退驻, by the base or by the organisation's 负责人; the place is freed and a desk is
    due back within the base's hand-back period (15 working days by default). Raises
    PermissionDenied for anyone else, WorkflowError without a reason, when already
    withdrawn, or when not a resident."""
    withdraw_denied = "只有基地运营人员或该组织负责人可以办理退驻。"
    if not may_run(incubation, "withdraw", by):
        raise PermissionDenied(withdraw_denied)
    is_leader = member_role(by, incubation.organisation) == Membership.Role.LEADER
    if incubation.status == S.WITHDRAWN:
        raise WorkflowError("该组织已经退驻，无需重复办理。")
    today = _today()
    due = add_workdays(today, incubation.base.handback_days) if incubation.residence == Residence.DESK else None
    reason = (reason or "").strip()
    body = f"退驻原因：{reason}。" + (f"请于 {chinese_date(due)} 前交还场地。" if due else "")
    notices = [_org_notice(incubation, f"已办理退驻：{incubation.base.name}", body)]
    if is_leader:
        notices.append(_operators_notice(incubation.base, f"{incubation.organisation.name} 申请退驻", body, incubation))
    with transaction.atomic():
        transition(
            incubation,
            "withdraw",
            by=by,
            denied=withdraw_denied,
            reason=reason,
            record={"withdrawn_on": today, "handback_due": due, "status_reason": reason},
            notify=notices,
        )
        _release_place(incubation)
    return incubation


# ---- during incubation ------------------------------------------------------------------------


def _require_resident(incubation: Incubation, what: str) -> None:
    if not incubation.is_resident:
        raise ValidationError(f"该组织当前状态为“{incubation.get_status_display()}”，不能{what}。")


def _resident_action(slug, label, **options):
    return extra_action(
        Incubation,
        slug,
        label,
        when=lambda inc: inc.is_resident,
        permitted=lambda inc, user: can_operate(user, inc.base),
        **options,
    )


@_resident_action(
    "service-log",
    "记录服务",
    form="incubator.forms.ServiceLogForm",
    order=50,
    success="已为“{obj.organisation.name}”记录一次孵化服务。",
)
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


@_resident_action(
    "assessment",
    "保存能力评估",
    form="incubator.forms.AssessmentForm",
    order=60,
    intro="五个维度各按0–100打分，加权总分按本基地当前的权重计算。同一阶段再次评估会覆盖原记录。",
    success="已保存“{obj.organisation.name}”的能力评估。",
)
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


def _promotable(inc) -> bool:
    return (
        inc.status in (*RESIDENT_STATES, S.GRADUATED)
        and bool(inc.base.parent_id)
        and not any(p.state == PromotionState.PENDING for p in inc.promotions.all())
    )


@extra_action(
    Incubation,
    "promote",
    "推荐至上级基地",
    when=_promotable,
    permitted=lambda inc, user: can_operate(user, inc.base),
    order=90,
    reason="optional",
    reason_label="推荐理由",
    intro="三级联动：上级基地接收后可直接入驻，无需重新申请。",
    success="已将“{obj.organisation.name}”推荐至上级基地。",
)
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
        log_created(promo, by=by, label=f"推荐至{upper.name}")
        body = f"{incubation.base.name}推荐 {incubation.organisation.name} 入驻{upper.name}。理由：{reason}"
        send_notices(
            [
                _operators_notice(upper, f"下级基地推荐：{incubation.organisation.name}", body, promo),
                _org_notice(incubation, f"已被推荐至{upper.name}", body),
            ]
        )
    return promo


@action_service(Promotion, "accept")
def promotion_accept(
    *, promotion: Promotion, by, residence: str, desk_label: str = "", starts_on: datetime.date | None = None
) -> Incubation:
    """The upper base admits the recommended organisation directly: the facts already
    known (profile, plan, needs, services) are reused, no new application is filled in;
    the new stay is logged as screened and admitted, and the lower stay, if still open,
    is closed as 晋级出壳 and its place freed. Raises PermissionDenied for anyone but an
    operator of the upper base, WorkflowError when the recommendation was already
    handled or the upper base is full, ValidationError as incubation_admit does or when
    the organisation already has an open stay at the upper base."""
    require_operator(by, promotion.to_base)
    require_can_proceed(promotion, "accept")
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
        log_created(new, by=by, label=note)
        _operate(new, "screen_accept", by=by, reason=note, record={"screened_on": today})
        incubation_admit(
            incubation=new, by=by, residence=residence, desk_label=desk_label, starts_on=starts_on, reason=note
        )
        if source.is_resident:
            # the lower stay ends here: its desk or virtual place is free for the next group
            run_transition(source, "promote_out", by=by, reason=f"晋级至{promotion.to_base.name}")
            Incubation.objects.filter(pk=source.pk).update(status_reason=f"晋级至{promotion.to_base.name}")
            _release_place(source)
        transition(
            promotion,
            "accept",
            by=by,
            reason=note,
            record={"result": new},
            notify=[
                Notice(
                    [promotion.recommended_by],
                    f"推荐已被接收：{source.organisation.name}",
                    f"{promotion.to_base.name}已接收 {source.organisation.name} 入驻。",
                    promotion.get_admin_url(),
                )
            ],
        )
    return new


@action_service(Promotion, "decline")
def promotion_decline(*, promotion: Promotion, by, reason: str) -> Promotion:
    """The upper base declines, with a reason the recommending base and the organisation
    read. Raises PermissionDenied, or WorkflowError without a reason or when the
    recommendation was already handled."""
    require_operator(by, promotion.to_base)
    reason = (reason or "").strip()
    org = promotion.incubation.organisation
    transition(
        promotion,
        "decline",
        by=by,
        reason=reason,
        notify=[
            Notice(
                [promotion.recommended_by],
                f"推荐未被接收：{org.name}",
                f"{promotion.to_base.name}：{reason}",
                promotion.get_admin_url(),
            ),
            _org_notice(promotion.incubation, f"{promotion.to_base.name}暂未接收推荐", f"理由：{reason}"),
        ],
    )
    return promotion
