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
from accounts.selectors import region_in_scope, staff_users_for_region
from core.services import notify
from core.workdays import add_workdays
from core.workflow import WorkflowError, run_transition
from orgs import services as org_services
from orgs.models import Membership, OrgType

from .models import (
    ASSESSMENT_DIMENSIONS,
    OPEN_STATES,
    AssessmentStage,
    BaseService,
    CapacityAssessment,
    Incubation,
    IncubationBase,
    IncubationStatus,
    Promotion,
    Residence,
    ServiceLog,
)

S = IncubationStatus


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
    Its profile is reused; only the plan, needs and services are asked."""
    org_services.require_member(by, organisation, org_services.EDITOR_ROLES)
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
        raise ValidationError("该组织在本基地已有进行中的入驻申请或入驻记录，不能重复申请。")
    today = _today()
    try:
        with transaction.atomic():
            inc = Incubation.objects.create(
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
            _notify_operators(
                base,
                f"新的入驻申请：{organisation.name}",
                f"{organisation.name} 申请入驻{base.name}，请在 {inc.screening_due:%Y年%m月%d日} 前完成初审。",
                f"/admin/incubator/incubations/{inc.pk}/",
            )
    except IntegrityError:
        raise ValidationError("该组织在本基地已有进行中的入驻申请或入驻记录，不能重复申请。")
    return inc


def incubation_screen(*, incubation: Incubation, by, accept: bool, reason: str = "") -> Incubation:
    """初审. A rejection needs a reason the organisation will read."""
    require_operator(by, incubation.base)
    reason = (reason or "").strip()
    if not accept and not reason:
        raise WorkflowError("初审不通过时请填写理由，申请组织将看到这段说明。")
    with transaction.atomic():
        run_transition(incubation, "screen_accept" if accept else "screen_reject", by=by, reason=reason)
        Incubation.objects.filter(pk=incubation.pk).update(screened_on=_today(), status_reason=reason)
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
    Refused with a clear message when the base is full."""
    require_operator(by, incubation.base)
    if residence not in Residence.values:
        raise ValidationError({"residence": "请选择入驻方式。"})
    if residence == Residence.DESK and not desk_label.strip():
        raise ValidationError({"desk_label": "实体入驻请填写工位或房间号。"})
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
        }
        Incubation.objects.filter(pk=incubation.pk).update(**fields)
        for k, v in fields.items():
            setattr(incubation, k, v)
        _notify_org(
            incubation,
            f"已入驻{base.name}",
            f"入驻协议 {fields['agreement_no']} 已生成，孵化期至 {ends_on:%Y年%m月%d日}。",
        )
    return incubation


def _simple(incubation, name, *, by, reason="", title=None, body=None):
    require_operator(by, incubation.base)
    with transaction.atomic():
        run_transition(incubation, name, by=by, reason=reason)
        Incubation.objects.filter(pk=incubation.pk).update(status_reason=reason)
        if title:
            _notify_org(incubation, title, body or reason)
    return incubation


def incubation_begin(*, incubation, by):
    return _simple(incubation, "begin", by=by)


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
    """续驻: once, to a later end date, with a reason."""
    require_operator(by, incubation.base)
    if incubation.extension_count >= 1:
        raise WorkflowError("每个组织只能续驻一次。")
    if not (reason or "").strip():
        raise WorkflowError("请填写续驻理由。")
    if incubation.ends_on and new_end <= incubation.ends_on:
        raise ValidationError(
            {"new_end": f"续驻后的截止日期须晚于原孵化期满日期（{incubation.ends_on:%Y年%m月%d日}）。"}
        )
    with transaction.atomic():
        run_transition(incubation, "extend", by=by, reason=f"{reason}（续驻至{new_end:%Y年%m月%d日}）")
        Incubation.objects.filter(pk=incubation.pk).update(
            ends_on=new_end, extension_count=F("extension_count") + 1, status_reason=reason
        )
        incubation.ends_on = new_end
        incubation.extension_count += 1
        _notify_org(incubation, "续驻已办理", f"孵化期延长至 {new_end:%Y年%m月%d日}。理由：{reason}")
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
    its USCC and type recorded through the Organisations services."""
    require_operator(by, incubation.base)
    org = incubation.organisation
    registered_now = bool(new_uscc)
    if registered_now and new_org_type not in (OrgType.SOCIAL_GROUP, OrgType.SERVICE_ORG, OrgType.FOUNDATION):
        raise ValidationError({"new_org_type": "请选择登记后的组织类型。"})
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
        Incubation.objects.filter(pk=incubation.pk).update(status_reason=reason, **fields)
        for k, v in fields.items():
            setattr(incubation, k, v)
        _notify_org(
            incubation, f"恭喜出壳：{incubation.base.name}", f"出壳证书编号 {fields['certificate_no']}，可在平台下载。"
        )
    return incubation


def incubation_withdraw(*, incubation: Incubation, by, reason: str) -> Incubation:
    """退驻, by the base or by the organisation's 负责人; the space is due back within the
    base's hand-back period (15 working days by default)."""
    is_leader = org_services._member_role(by, incubation.organisation) == Membership.Role.LEADER
    if not (is_leader or can_operate(by, incubation.base)):
        raise PermissionDenied("只有基地运营人员或该组织负责人可以办理退驻。")
    if not (reason or "").strip():
        raise WorkflowError("请填写退驻原因。")
    if incubation.status == S.WITHDRAWN:
        raise WorkflowError("该组织已经退驻，无需重复办理。")
    with transaction.atomic():
        run_transition(incubation, "withdraw", by=by, reason=reason)
        _release_place(incubation)
        today = _today()
        due = add_workdays(today, incubation.base.handback_days) if incubation.residence == Residence.DESK else None
        Incubation.objects.filter(pk=incubation.pk).update(withdrawn_on=today, handback_due=due, status_reason=reason)
        incubation.withdrawn_on, incubation.handback_due = today, due
        body = f"退驻原因：{reason}。" + (f"请于 {due:%Y年%m月%d日} 前交还场地。" if due else "")
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


def service_log_add(*, incubation: Incubation, by, **data) -> ServiceLog:
    require_operator(by, incubation.base)
    if not incubation.is_resident:
        raise ValidationError(f"该组织当前状态为“{incubation.get_status_display()}”，不能记录孵化服务。")
    log = ServiceLog(incubation=incubation, recorded_by=by, **data)
    log.full_clean()
    log.save()
    return log


def assessment_record(
    *, incubation: Incubation, by, stage: str, scores: dict, assessed_on=None, comment: str = ""
) -> CapacityAssessment:
    """Score the five dimensions 0–100; the total uses the base's weights of today."""
    require_operator(by, incubation.base)
    if stage not in AssessmentStage.values:
        raise ValidationError({"stage": "请选择评估阶段。"})
    clean = {}
    for key, label in ASSESSMENT_DIMENSIONS.items():
        try:
            value = Decimal(str(scores.get(key, "")))
        except ArithmeticError:
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
    """Recommend a resident or graduate to the base one level up."""
    require_operator(by, incubation.base)
    upper = incubation.base.parent
    if upper is None:
        raise ValidationError("市级基地没有上级基地，无需推荐。")
    if incubation.status not in (*[s for s in OPEN_STATES if s not in (S.APPLIED, S.SCREENED)], S.GRADUATED):
        raise ValidationError("只能推荐在孵或已出壳的组织。")
    if not (reason or "").strip():
        raise ValidationError({"reason": "请填写推荐理由。"})
    if Promotion.objects.filter(incubation=incubation, to_base=upper, state="pending").exists():
        raise ValidationError("已向上级基地推荐过该组织，正在等待处理。")
    promo = Promotion.objects.create(incubation=incubation, to_base=upper, reason=reason.strip(), recommended_by=by)
    _notify_operators(
        upper,
        f"下级基地推荐：{incubation.organisation.name}",
        f"{incubation.base.name}推荐 {incubation.organisation.name} 入驻{upper.name}。理由：{reason}",
        f"/admin/incubator/promotions/{promo.pk}/",
    )
    return promo


def promotion_accept(
    *, promotion: Promotion, by, residence: str, desk_label: str = "", starts_on: datetime.date | None = None
) -> Incubation:
    """The upper base admits the recommended organisation directly: the facts already
    known (profile, plan, assessments) are reused, no new application is filled in."""
    require_operator(by, promotion.to_base)
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
        Incubation.objects.filter(pk=new.pk).update(screened_on=today)
        incubation_admit(
            incubation=new, by=by, residence=residence, desk_label=desk_label, starts_on=starts_on, reason=note
        )
        run_transition(promotion, "accept", by=by, reason=note)
        Promotion.objects.filter(pk=promotion.pk).update(result=new)
    return new


def promotion_decline(*, promotion: Promotion, by, reason: str) -> Promotion:
    require_operator(by, promotion.to_base)
    if not (reason or "").strip():
        raise WorkflowError("请填写不接收的理由。")
    with transaction.atomic():
        run_transition(promotion, "decline", by=by, reason=reason)
        notify(
            recipients=[promotion.recommended_by],
            title=f"推荐未被接收：{promotion.incubation.organisation.name}",
            body=f"{promotion.to_base.name}：{reason}",
            url="/admin/",
        )
    return promotion
