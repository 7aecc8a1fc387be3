"""After approval: the project agreement (项目协议书), the tranches of money (拨付), the
organisation's progress reports and the mid-term and final evaluations (评估).

Each is a lifecycle of its own, written on its model; the project's own status (on the
proposal) follows them through the services of grants.services.funding: signing puts
the project in progress, a failed mid-term suspends it, a second fail terminates it, the
final evaluation and the last tranche close it."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django_fsm import FSMField, transition

from core.files import private_storage
from core.workflow import WorkflowModel

from .calls import MANAGE_PERMISSION

FINANCE_PERMISSION = "grants.release_tranche"
EVALUATE_PERMISSION = "grants.evaluate_project"


def _scoped(perm):
    def check(obj, user) -> bool:
        from accounts.selectors import has_scoped_perm

        return has_scoped_perm(user, perm, obj.proposal.call.region)

    return check


def _org_leader(obj, user) -> bool:
    from orgs.models import Membership
    from orgs.selectors import member_role

    return member_role(user, obj.proposal.organisation_id) == Membership.Role.LEADER


def _org_editor(obj, user) -> bool:
    from orgs.models import Membership
    from orgs.selectors import member_role

    return member_role(user, obj.proposal.organisation_id) in (Membership.Role.LEADER, Membership.Role.CONTACT)


# ---- 项目协议书 ------------------------------------------------------------------------------------


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "待签订"
    ORG_SIGNED = "org_signed", "申报单位已确认"
    SIGNED = "signed", "已签订"


AG = AgreementStatus


def agreement_scan_path(instance, filename):
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "pdf"
    return f"agreements/{instance.proposal_id}/{uuid.uuid4().hex}.{ext}"


class Agreement(WorkflowModel):
    """The agreement of one approved project: its terms frozen from the call's template
    when it is drawn up, signed by both sides (each confirms, or a signed scan is uploaded)."""

    Status = AgreementStatus

    proposal = models.OneToOneField(
        "grants.Proposal", verbose_name="项目", on_delete=models.PROTECT, related_name="agreement"
    )
    number = models.CharField("协议编号", max_length=30, unique=True)
    amount = models.DecimalField("资助金额（元）", max_digits=14, decimal_places=2)
    starts_on = models.DateField("实施开始")
    ends_on = models.DateField("实施结束")
    clauses = models.TextField("协议条款", help_text="由征集的协议模板生成，签订前可修改。")
    status = FSMField("状态", max_length=12, choices=AgreementStatus.choices, default=AG.DRAFT, protected=True)
    org_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申报单位确认人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    org_signed_at = models.DateTimeField("申报单位确认时间", null=True, blank=True)
    funder_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="资助方确认人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    funder_signed_at = models.DateTimeField("资助方确认时间", null=True, blank=True)
    signed_on = models.DateField("签订日期", null=True, blank=True)
    signed_scan = models.FileField(
        "签字盖章扫描件", upload_to=agreement_scan_path, storage=private_storage, max_length=300, blank=True
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "项目协议"
        verbose_name_plural = "项目协议"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.number} {self.proposal.title}"

    def get_admin_url(self) -> str:
        return reverse("grants_admin:proposal", args=[self.proposal_id]) + "#agreement"

    @transition(
        field=status,
        source=AG.DRAFT,
        target=AG.ORG_SIGNED,
        permission=_org_leader,
        custom={"label": "确认协议", "success": "已确认协议，等待资助方签订。"},
    )
    def confirm_by_org(self):
        pass

    @transition(
        field=status,
        source=AG.ORG_SIGNED,
        target=AG.SIGNED,
        permission=_scoped(MANAGE_PERMISSION),
        custom={"label": "资助方签订", "success": "协议已签订，项目进入实施。"},
    )
    def confirm_by_funder(self):
        pass

    @transition(
        field=status,
        source=[AG.DRAFT, AG.ORG_SIGNED],
        target=AG.SIGNED,
        permission=_scoped(MANAGE_PERMISSION),
        custom={
            "label": "上传签字盖章件",
            "form": "grants.forms.agreements.SignedScanForm",
            "success": "已上传签字盖章的协议，项目进入实施。",
        },
    )
    def record_scan(self):
        pass


# ---- 拨付 -----------------------------------------------------------------------------------------


class TrancheStatus(models.TextChoices):
    PLANNED = "planned", "计划"
    DUE = "due", "待拨付"
    RELEASED = "released", "已拨付"
    WITHHELD = "withheld", "暂缓拨付"


T = TrancheStatus


class Tranche(WorkflowModel):
    """One tranche of a project's award. Amounts of a project's tranches sum exactly to
    the award; a tranche is released once, and only while its gate holds."""

    Status = TrancheStatus

    proposal = models.ForeignKey(
        "grants.Proposal", verbose_name="项目", on_delete=models.PROTECT, related_name="tranches"
    )
    position = models.PositiveSmallIntegerField("期次")
    name = models.CharField("名称", max_length=20)
    percent = models.DecimalField("比例（%）", max_digits=5, decimal_places=2)
    gate = models.CharField("拨付条件", max_length=10)
    amount = models.DecimalField(
        "金额（元）", max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    due_on = models.DateField("计划拨付日期", null=True, blank=True)
    status = FSMField(
        "状态", max_length=10, choices=TrancheStatus.choices, default=T.PLANNED, protected=True, db_index=True
    )
    paid_on = models.DateField("拨付日期", null=True, blank=True)
    voucher_no = models.CharField("凭证号", max_length=40, blank=True)
    bank_account = models.CharField("收款账号", max_length=60, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="经办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    released_at = models.DateTimeField("办理时间", null=True, blank=True)
    withhold_reason = models.CharField("暂缓原因", max_length=300, blank=True)

    class Meta:
        verbose_name = "拨付"
        verbose_name_plural = "拨付"
        ordering = ["proposal_id", "position"]
        permissions = [("release_tranche", "可以办理项目资金拨付")]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "position"], name="one_tranche_per_position"),
            models.CheckConstraint(
                condition=Q(status="released", paid_on__isnull=False) | ~Q(status="released"), name="released_has_date"
            ),
        ]

    def __str__(self):
        return f"{self.proposal} · {self.name}"

    def get_admin_url(self) -> str:
        return reverse("grants_admin:proposal", args=[self.proposal_id]) + "#tranches"

    @transition(field=status, source=[T.PLANNED, T.WITHHELD], target=T.DUE, custom={"label": "到期"})
    def fall_due(self):
        pass

    @transition(
        field=status,
        source=[T.PLANNED, T.DUE, T.WITHHELD],
        target=T.RELEASED,
        permission=_scoped(FINANCE_PERMISSION),
        custom={"label": "拨付", "form": "grants.forms.funding.ReleaseForm", "success": "已拨付“{obj}”。"},
    )
    def release(self):
        pass

    @transition(
        field=status,
        source=[T.PLANNED, T.DUE],
        target=T.WITHHELD,
        permission=_scoped(FINANCE_PERMISSION),
        custom={"label": "暂缓拨付", "reason": "required", "danger": True, "success": "已暂缓拨付“{obj}”。"},
    )
    def withhold(self):
        pass


# ---- 进度报告 --------------------------------------------------------------------------------------


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    REVIEWED = "reviewed", "已审阅"


class ProgressReport(WorkflowModel):
    """What the organisation did in one period: activities, people reached, spending per
    budget line and KPI progress; staff comment. Parts marked public appear on the project's
    public page."""

    Status = ReportStatus

    proposal = models.ForeignKey(
        "grants.Proposal", verbose_name="项目", on_delete=models.PROTECT, related_name="reports"
    )
    period = models.CharField("报告期", max_length=30, help_text="如“2027年3月”或“第一阶段”。")
    period_start = models.DateField("报告期开始")
    period_end = models.DateField("报告期结束")
    activities_held = models.PositiveIntegerField("开展活动（场次）", default=0)
    participants = models.PositiveIntegerField("参与人次", default=0)
    beneficiaries = models.PositiveIntegerField("服务对象（人）", default=0)
    narrative = models.TextField("工作情况", blank=True)
    # budget line id → amount spent in the period (Decimal string); KPI id → value reached (cumulative)
    spending = models.JSONField("各预算科目支出", default=dict, blank=True)
    kpi_progress = models.JSONField("绩效指标完成", default=dict, blank=True)
    public_text = models.TextField(
        "公开展示的内容", blank=True, help_text="将显示在项目的公开页面上，请勿写入服务对象的姓名。"
    )
    status = FSMField("状态", max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT, protected=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    staff_comment = models.TextField("审阅意见", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "进度报告"
        verbose_name_plural = "进度报告"
        ordering = ["proposal_id", "period_start"]

    def __str__(self):
        return f"{self.proposal} · {self.period}"

    def get_admin_url(self) -> str:
        return reverse("grants_admin:proposal", args=[self.proposal_id]) + "#reports"

    @transition(
        field=status,
        source=ReportStatus.DRAFT,
        target=ReportStatus.SUBMITTED,
        permission=_org_editor,
        custom={"label": "提交报告", "success": "进度报告已提交。"},
    )
    def submit(self):
        pass

    @transition(
        field=status,
        source=ReportStatus.SUBMITTED,
        target=ReportStatus.REVIEWED,
        permission=_scoped(MANAGE_PERMISSION),
        custom={"label": "审阅", "reason": "optional", "reason_label": "审阅意见", "success": "已审阅进度报告。"},
    )
    def review(self):
        pass


def report_photo_path(instance, filename):
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"reports/{instance.report.proposal_id}/{uuid.uuid4().hex}.{ext}"


class ReportPhoto(models.Model):
    report = models.ForeignKey(ProgressReport, verbose_name="进度报告", on_delete=models.CASCADE, related_name="photos")
    image = models.FileField("照片", upload_to=report_photo_path, storage=private_storage, max_length=300)
    caption = models.CharField("说明", max_length=100, blank=True)
    public = models.BooleanField("可以公开", default=False, help_text="仅当照片中的人已同意公开（或无法辨认）时勾选。")

    class Meta:
        verbose_name = "活动照片"
        verbose_name_plural = "活动照片"

    def __str__(self):
        return self.caption or f"照片{self.pk}"


# ---- 中期、末期评估 ---------------------------------------------------------------------------------


class EvaluationKind(models.TextChoices):
    MID_TERM = "mid_term", "中期评估"
    FINAL = "final", "末期评估"


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", "评估中"
    SUBMITTED = "submitted", "已完成"


class Evaluation(WorkflowModel):
    """One evaluation of a project against the call's evaluation rubric: points per
    criterion, bonus and deduction items, the total, pass or fail and (final) the grade."""

    Kind = EvaluationKind
    Status = EvaluationStatus

    proposal = models.ForeignKey(
        "grants.Proposal", verbose_name="项目", on_delete=models.PROTECT, related_name="evaluations"
    )
    kind = models.CharField("类别", max_length=10, choices=EvaluationKind.choices)
    attempt = models.PositiveSmallIntegerField("第几次", default=1)
    points = models.JSONField("各项得分", default=dict, blank=True)
    bonus = models.DecimalField("加分", max_digits=5, decimal_places=2, default=Decimal("0"))
    deduction = models.DecimalField("扣分", max_digits=5, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField("总分", max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField("通过", null=True, blank=True)
    grade = models.CharField("等级", max_length=10, blank=True)
    comment = models.TextField("评估意见", blank=True)
    evidence = models.TextField("依据（引用的进度报告与材料）", blank=True)
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评估人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = FSMField(
        "状态", max_length=10, choices=EvaluationStatus.choices, default=EvaluationStatus.DRAFT, protected=True
    )
    submitted_at = models.DateTimeField("完成时间", null=True, blank=True)
    rectify_until = models.DateField("整改期限", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "项目评估"
        verbose_name_plural = "项目评估"
        ordering = ["proposal_id", "kind", "attempt"]
        permissions = [("evaluate_project", "可以开展项目中期和末期评估")]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "kind", "attempt"], name="one_evaluation_per_attempt")
        ]

    def __str__(self):
        return f"{self.proposal} · {self.get_kind_display()}（第{self.attempt}次）"

    def get_admin_url(self) -> str:
        return reverse("grants_admin:proposal", args=[self.proposal_id]) + "#evaluations"

    @transition(
        field=status,
        source=EvaluationStatus.DRAFT,
        target=EvaluationStatus.SUBMITTED,
        permission=_scoped(EVALUATE_PERMISSION),
        custom={"label": "完成评估", "success": "评估已完成。"},
    )
    def submit(self):
        pass
