import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import Region
from core.workflow import WorkflowModel


class BaseLevel(models.IntegerChoices):
    CITY = 1, "市级孵化基地"
    STREET = 3, "街道（镇）共享工作站"
    COMMUNITY = 4, "社区（村）共享工作室"


class BaseService(models.TextChoices):
    SPACE = "space", "场地"
    TRAINING = "training", "培训"
    MENTORING = "mentoring", "督导/导师"
    REGISTRATION = "registration", "注册指导"
    FINANCE = "finance", "财务托管"
    ASSESSMENT = "assessment", "能力评估"
    RESOURCES = "resources", "资源对接"


# Capacity-assessment rubric: dimension -> default weight (sums to 100), editable per base.
ASSESSMENT_DIMENSIONS = {
    "governance": "治理结构",
    "finance": "财务管理",
    "projects": "项目管理",
    "team": "团队建设",
    "resources": "资源拓展",
}
DEFAULT_WEIGHTS = {"governance": 25, "finance": 20, "projects": 25, "team": 15, "resources": 15}


def default_weights():
    return dict(DEFAULT_WEIGHTS)


def default_services():
    return [BaseService.SPACE, BaseService.TRAINING, BaseService.MENTORING]


class IncubationBase(models.Model):
    """A 孵化基地: the city base, a street workstation or a community studio."""

    name = models.CharField("名称", max_length=100, unique=True)
    level = models.PositiveSmallIntegerField("层级", choices=BaseLevel.choices)
    region = models.ForeignKey(Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="bases")
    parent = models.ForeignKey(
        "self", verbose_name="上级基地", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    address = models.CharField("地址", max_length=200)
    operator_org = models.ForeignKey(
        "orgs.Organisation",
        verbose_name="运营机构（社会组织）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="operated_bases",
    )
    operator_unit = models.CharField("运营单位（政府部门等）", max_length=120, blank=True)
    contact_name = models.CharField("联系人", max_length=50)
    contact_phone = models.CharField("联系电话", max_length=20)
    opening_hours = models.CharField("开放时间", max_length=100, default="周一至周五 9:00–17:30")
    desks = models.PositiveSmallIntegerField("实体入驻工位数", default=0)
    virtual_places = models.PositiveSmallIntegerField("虚拟入驻名额", default=0)
    # Counters kept by services with conditional UPDATEs, so two operators admitting at
    # once can never exceed the capacity (see services.incubation_admit).
    desks_used = models.PositiveSmallIntegerField("已占用工位", default=0)
    virtual_used = models.PositiveSmallIntegerField("已占用虚拟名额", default=0)
    services = models.JSONField("提供的服务", default=default_services)
    introduction = models.TextField("介绍", blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image", verbose_name="照片", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Rules from the seeds' practice, editable per base.
    screening_days = models.PositiveSmallIntegerField("初审时限（工作日）", default=5)
    period_months = models.PositiveSmallIntegerField("孵化期（月）", default=24)
    handback_days = models.PositiveSmallIntegerField("退驻交还场地时限（工作日）", default=15)
    graduation_min_score = models.DecimalField(
        "出壳能力评估最低分",
        max_digits=5,
        decimal_places=2,
        default=Decimal("60"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    assessment_weights = models.JSONField("能力评估权重", default=default_weights)
    is_active = models.BooleanField("开放入驻", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "孵化基地"
        verbose_name_plural = "孵化基地"
        ordering = ["level", "region__path", "name"]
        permissions = [("operate_base", "可以运营孵化基地（初审、入驻、服务、出壳）")]
        constraints = [
            models.CheckConstraint(condition=Q(desks_used__lte=models.F("desks")), name="desks_within_capacity"),
            models.CheckConstraint(
                condition=Q(virtual_used__lte=models.F("virtual_places")), name="virtual_within_capacity"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.parent_id:
            if self.parent.level >= self.level:
                errors["parent"] = "上级基地的层级必须高于本基地。"
            elif not self.parent.region.contains(self.region):
                errors["parent"] = "上级基地所在区域必须包含本基地所在区域。"
        weights = self.assessment_weights or {}
        if set(weights) != set(ASSESSMENT_DIMENSIONS) or sum(Decimal(str(v)) for v in weights.values()) != 100:
            errors["assessment_weights"] = "能力评估权重须包含全部五个维度，且合计为100。"
        unknown = set(self.services or []) - set(BaseService.values)
        if unknown:
            errors["services"] = f"未知的服务项目：{'、'.join(sorted(unknown))}。"
        # the database refuses these too (constraints below); say it in words first
        if self.desks is not None and self.desks < self.desks_used:
            errors["desks"] = f"实体入驻工位数不能少于已占用的工位数（{self.desks_used}个）。"
        if self.virtual_places is not None and self.virtual_places < self.virtual_used:
            errors["virtual_places"] = f"虚拟入驻名额不能少于已占用的名额（{self.virtual_used}个）。"
        if errors:
            raise ValidationError(errors)

    @property
    def desks_free(self) -> int:
        return self.desks - self.desks_used

    @property
    def virtual_free(self) -> int:
        return self.virtual_places - self.virtual_used

    def service_labels(self) -> list[str]:
        return [BaseService(s).label for s in self.services if s in BaseService.values]


class IncubationStatus(models.TextChoices):
    APPLIED = "applied", "已申请"
    SCREENED = "screened", "初审通过"
    REJECTED = "rejected", "初审未通过"
    ADMITTED = "admitted", "已入壳"
    IN_INCUBATION = "in_incubation", "孵化中"
    MID_REVIEW = "mid_review", "中期评估中"
    EXTENDED = "extended", "已续驻"
    GRADUATED = "graduated", "已出壳"
    WITHDRAWN = "withdrawn", "已退驻"
    PROMOTED = "promoted", "晋级出壳"  # left for the base one level up (三级联动)


S = IncubationStatus
RESIDENT_STATES = (S.ADMITTED, S.IN_INCUBATION, S.MID_REVIEW, S.EXTENDED)
OPEN_STATES = (S.APPLIED, S.SCREENED, *RESIDENT_STATES)


class Residence(models.TextChoices):
    DESK = "desk", "实体入驻（工位）"
    VIRTUAL = "virtual", "虚拟入驻"


OPERATE_PERMISSION = "incubator.operate_base"


def _operates_base(base, user) -> bool:
    """An operator of `base`: role 孵化基地运营 with the base in their region subtree."""
    from accounts.selectors import has_scoped_perm

    return has_scoped_perm(user, OPERATE_PERMISSION, base.region)


def _operates(inc, user) -> bool:
    return _operates_base(inc.base, user)


def _leads(inc, user) -> bool:
    from orgs.models import Membership
    from orgs.selectors import member_role

    return member_role(user, inc.organisation_id) == Membership.Role.LEADER


_SCREEN = {
    "group": "screen",
    "heading": "初审",
    "reason": "optional",
    "reason_label": "初审意见",
    "reason_help": "不通过时必填，申请组织会在通知和办理记录中看到。",
}
_MID = {"group": "mid", "heading": "中期评估"}


class Incubation(WorkflowModel):
    """One organisation's stay at one base, from 入驻申请 to 出壳 or 退驻."""

    Status = IncubationStatus

    base = models.ForeignKey(
        IncubationBase, verbose_name="孵化基地", on_delete=models.PROTECT, related_name="incubations"
    )
    organisation = models.ForeignKey(
        "orgs.Organisation", verbose_name="社会组织", on_delete=models.PROTECT, related_name="incubations"
    )
    status = FSMField(
        "状态", max_length=20, choices=IncubationStatus.choices, default=S.APPLIED, protected=True, db_index=True
    )
    status_reason = models.CharField("最近一次处理理由", max_length=500, blank=True)
    # the application: the organisation's profile is reused, these are asked in addition
    plan = models.TextField("拟开展的服务（想做什么）")
    member_count = models.PositiveSmallIntegerField("成员人数", default=1)
    needs = models.TextField("希望基地提供的支持", blank=True)
    requested_services = models.JSONField("申请的服务", default=list)
    wants_desk = models.BooleanField("申请实体工位", default=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_on = models.DateField("申请日期")
    screening_due = models.DateField("初审截止日期")
    screened_on = models.DateField("初审日期", null=True, blank=True)
    # admission (入壳)
    residence = models.CharField("入驻方式", max_length=10, choices=Residence.choices, blank=True)
    desk_label = models.CharField("工位/房间号", max_length=40, blank=True)
    agreement_no = models.CharField("入驻协议编号", max_length=40, blank=True)
    starts_on = models.DateField("入驻日期", null=True, blank=True)
    ends_on = models.DateField("孵化期满日期", null=True, blank=True)
    extension_count = models.PositiveSmallIntegerField("续驻次数", default=0)
    # graduation (出壳) checklist
    check_registered = models.BooleanField("已完成登记或备案", default=False)
    check_governance = models.BooleanField("治理结构健全", default=False)
    check_project = models.BooleanField("至少独立运作一个项目", default=False)
    graduated_on = models.DateField("出壳日期", null=True, blank=True)
    certificate_no = models.CharField("出壳证书编号", max_length=40, blank=True)
    # withdrawal (退驻)
    withdrawn_on = models.DateField("退驻日期", null=True, blank=True)
    handback_due = models.DateField("场地交还截止日期", null=True, blank=True)
    promoted_from = models.ForeignKey(
        "self", verbose_name="由下级基地推荐", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_during = models.BooleanField("孵化期间完成登记", default=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "入驻孵化"
        verbose_name_plural = "入驻孵化"
        ordering = ["-applied_on", "-pk"]
        indexes = [models.Index(fields=["base", "status"])]
        constraints = [
            # one open stay per organisation per base
            models.UniqueConstraint(
                fields=["base", "organisation"],
                condition=Q(status__in=[s.value for s in OPEN_STATES]),
                name="one_open_incubation_per_base",
            ),
        ]

    def __str__(self):
        return f"{self.organisation} @ {self.base}"

    @property
    def is_resident(self) -> bool:
        return self.status in RESIDENT_STATES

    def screening_overdue(self, today: datetime.date | None = None) -> bool:
        """Still waiting for 初审 after the due date (base.screening_days working days)."""
        return self.status == S.APPLIED and (today or timezone.localdate()) > self.screening_due

    def get_absolute_url(self) -> str:
        """The stay's page in the applicant portal (where the organisation is sent)."""
        return reverse("incubator:detail", args=[self.pk])

    def get_admin_url(self) -> str:
        return reverse("incubator_admin:incubation", args=[self.pk])

    # ---- transitions: thin; services check capacity and the checklist ----
    # `order` places each action on the stay's staff page; `{obj.organisation.name}` in a
    # success message is the organisation's name.
    @transition(
        field=status,
        source=S.APPLIED,
        target=S.SCREENED,
        permission=_operates,
        custom={
            **_SCREEN,
            "label": "初审通过",
            "order": 10,
            "success": "“{obj.organisation.name}”已通过初审，已通知申请组织。",
        },
    )
    def screen_accept(self):
        pass

    @transition(
        field=status,
        source=S.APPLIED,
        target=S.REJECTED,
        permission=_operates,
        custom={
            **_SCREEN,
            "label": "初审不通过",
            "order": 11,
            "danger": True,
            "reason_prompt": "初审不通过时请填写理由，申请组织将看到这段说明。",
            "success": "“{obj.organisation.name}”未通过初审，已通知申请组织。",
        },
    )
    def screen_reject(self):
        pass

    @transition(
        field=status,
        source=S.SCREENED,
        target=S.ADMITTED,
        permission=_operates,
        custom={
            "label": "入壳",
            "order": 20,
            "form": "incubator.forms.AdmitForm",
            "intro": "签订入驻协议，分配实体工位或虚拟入驻名额。",
            "success": "“{obj.organisation.name}”已入壳，入驻协议已生成。",
        },
    )
    def admit(self):
        pass

    @transition(
        field=status,
        source=S.ADMITTED,
        target=S.IN_INCUBATION,
        permission=_operates,
        custom={
            "label": "开始孵化",
            "order": 30,
            "intro": "入驻手续办完、开始提供孵化服务时点击。",
            "success": "“{obj.organisation.name}”已开始孵化。",
        },
    )
    def begin(self):
        pass

    @transition(
        field=status,
        source=[S.IN_INCUBATION, S.EXTENDED],
        target=S.MID_REVIEW,
        permission=_operates,
        custom={
            **_MID,
            "label": "进入中期评估",
            "slug": "mid-start",
            "order": 40,
            "success": "“{obj.organisation.name}”已进入中期评估。",
        },
    )
    def start_mid_review(self):
        pass

    @transition(
        field=status,
        source=S.MID_REVIEW,
        target=S.IN_INCUBATION,
        permission=_operates,
        custom={
            **_MID,
            "label": "中期评估通过",
            "slug": "mid-pass",
            "order": 41,
            "reason": "optional",
            "reason_label": "评估意见",
            "success": "“{obj.organisation.name}”中期评估通过，继续孵化。",
        },
    )
    def pass_mid_review(self):
        pass

    @transition(
        field=status,
        source=[S.IN_INCUBATION, S.MID_REVIEW],
        target=S.EXTENDED,
        permission=_operates,
        conditions=[lambda inc: inc.extension_count == 0],
        custom={
            "label": "续驻",
            "order": 80,
            "form": "incubator.forms.ExtendForm",
            "intro": "每个组织只能续驻一次。",
            "success": "“{obj.organisation.name}”已续驻。",
        },
    )
    def extend(self):
        pass

    @transition(
        field=status,
        source=[S.IN_INCUBATION, S.MID_REVIEW, S.EXTENDED],
        target=S.GRADUATED,
        permission=_operates,
        custom={
            "label": "出壳",
            "order": 70,
            "form": "incubator.forms.GraduateForm",
            "intro": "逐项核对出壳条件；最近一次能力评估须达到本基地的出壳分数线。",
            "note_template": "incubator/admin/_graduate_note.html",
            "success": "“{obj.organisation.name}”已出壳，出壳证书已生成。",
        },
    )
    def graduate(self):
        pass

    @transition(
        field=status,
        source=list(RESIDENT_STATES),
        target=S.WITHDRAWN,
        # the base, or the organisation's 负责人 from the portal
        permission=lambda inc, user: _operates(inc, user) or _leads(inc, user),
        custom={
            "label": "退驻",
            "order": 100,
            "reason": "required",
            "reason_label": "退驻原因",
            "reason_prompt": "请填写退驻原因。",
            "danger": True,
            "intro": "退驻后释放工位或名额；实体入驻的须在规定工作日内交还场地。",
            "success": "“{obj.organisation.name}”已退驻。",
        },
    )
    def withdraw(self):
        pass

    @transition(
        field=status,
        source=list(RESIDENT_STATES),
        target=S.PROMOTED,
        custom={"label": "晋级出壳"},
    )
    def promote_out(self):
        """Leaves for the base one level up (三级联动): chained by promotion_accept only."""


class ServiceKind(models.TextChoices):
    TRAINING = "training", "培训"
    MENTORING = "mentoring", "督导/导师辅导"
    CONSULTATION = "consultation", "咨询"
    EVENT = "event", "活动"
    RESOURCE_MATCH = "resource_match", "资源对接"
    REGISTRATION = "registration", "注册指导"


class ServiceLog(models.Model):
    incubation = models.ForeignKey(
        Incubation, verbose_name="入驻孵化", on_delete=models.CASCADE, related_name="service_logs"
    )
    kind = models.CharField("服务类型", max_length=20, choices=ServiceKind.choices)
    title = models.CharField("主题", max_length=120)
    date = models.DateField("日期")
    hours = models.DecimalField(
        "时长（小时）",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("24"))],
    )
    mentor = models.CharField("导师/讲师", max_length=50, blank=True)
    participants = models.PositiveSmallIntegerField("参与人数", default=1)
    notes = models.TextField("记录", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "服务记录"
        verbose_name_plural = "服务记录"
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"{self.date} {self.title}"


class AssessmentStage(models.TextChoices):
    ADMISSION = "admission", "入壳评估"
    MID = "mid", "中期评估"
    GRADUATION = "graduation", "出壳评估"


class CapacityAssessment(models.Model):
    """能力评估: five dimensions scored 0–100, weighted by the base's weights at the time."""

    incubation = models.ForeignKey(
        Incubation, verbose_name="入驻孵化", on_delete=models.CASCADE, related_name="assessments"
    )
    stage = models.CharField("评估阶段", max_length=12, choices=AssessmentStage.choices)
    assessed_on = models.DateField("评估日期")
    scores = models.JSONField("各维度得分")
    weights = models.JSONField("权重")
    total = models.DecimalField("加权总分", max_digits=5, decimal_places=2)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="评估人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField("评估意见", blank=True)

    class Meta:
        verbose_name = "能力评估"
        verbose_name_plural = "能力评估"
        ordering = ["assessed_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["incubation", "stage"], name="one_assessment_per_stage")]

    def __str__(self):
        return f"{self.get_stage_display()} {self.total}"


class PromotionState(models.TextChoices):
    PENDING = "pending", "待上级基地处理"
    ACCEPTED = "accepted", "已接收入驻"
    DECLINED = "declined", "未接收"


class Promotion(WorkflowModel):
    """三级联动: a base recommends a resident or graduate to the base one level up."""

    incubation = models.ForeignKey(
        Incubation, verbose_name="推荐的入驻记录", on_delete=models.CASCADE, related_name="promotions"
    )
    to_base = models.ForeignKey(
        IncubationBase, verbose_name="推荐至", on_delete=models.PROTECT, related_name="promotions_in"
    )
    reason = models.TextField("推荐理由")
    state = FSMField(
        "状态", max_length=10, choices=PromotionState.choices, default=PromotionState.PENDING, protected=True
    )
    recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="推荐人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("推荐时间", auto_now_add=True)
    result = models.ForeignKey(
        Incubation, verbose_name="上级基地入驻记录", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "推荐晋级"
        verbose_name_plural = "推荐晋级"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.incubation.organisation} → {self.to_base}"

    def get_admin_url(self) -> str:
        return reverse("incubator_admin:promotion", args=[self.pk])

    @transition(
        field=state,
        source=PromotionState.PENDING,
        target=PromotionState.ACCEPTED,
        permission=lambda promo, user: _operates_base(promo.to_base, user),
        custom={
            "label": "接收入驻",
            "form": "incubator.forms.PromotionAcceptForm",
            "intro": "沿用组织资料和在下级基地的申请内容，直接入壳（生成入驻协议）。",
            "success": "已接收“{obj.incubation.organisation.name}”入驻{obj.to_base.name}。",
        },
    )
    def accept(self):
        pass

    @transition(
        field=state,
        source=PromotionState.PENDING,
        target=PromotionState.DECLINED,
        permission=lambda promo, user: _operates_base(promo.to_base, user),
        custom={
            "label": "不接收",
            "reason": "required",
            "reason_label": "不接收的理由",
            "reason_help": "推荐基地会收到这段说明。",
            "reason_prompt": "请填写不接收的理由。",
            "danger": True,
            "success": "已不接收“{obj.incubation.organisation.name}”的推荐，已通知推荐人。",
        },
    )
    def decline(self):
        pass
