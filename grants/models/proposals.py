"""申报书 (a proposal): what an organisation asks a call to fund, and its lifecycle from
draft to the eligibility check (资格审查). Later stages (review, approval, money) add
their transitions here and their own models beside it.

The organisation's facts (name, USCC, type, region, bank account, grade) are never typed
into a proposal: they are read from its profile while it is a draft and frozen into the
version written at each submission (`ProposalVersion`). Totals and shares are computed by
`grants.rules` from the budget lines and stored for lists and filters, never typed."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, transition
from wagtail.search import index

from accounts.models import Region
from core.files import private_storage
from core.workflow import WorkflowModel

CHECK_PERMISSION = "grants.check_eligibility"


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交（待资格审查）"
    RETURNED = "returned", "退回修改"
    ELIGIBLE = "eligible", "资格审查通过"
    INELIGIBLE = "ineligible", "资格审查未通过"
    WITHDRAWN = "withdrawn", "已撤回"
    UNDER_REVIEW = "under_review", "专家评审中"
    REVIEWED = "reviewed", "评审完成"
    PITCHED = "pitched", "已路演答辩"
    SHORTLISTED = "shortlisted", "拟立项"
    PUBLICISED = "publicised", "立项公示中"
    APPROVED = "approved", "批复立项"
    NOT_FUNDED = "not_funded", "未立项"
    AGREEMENT_SIGNED = "agreement_signed", "已签订协议"
    IN_PROGRESS = "in_progress", "实施中"
    SUSPENDED = "suspended", "暂停拨付（整改中）"
    MID_TERM_PASSED = "mid_term_passed", "中期评估通过"
    FINAL_EVALUATED = "final_evaluated", "末期评估完成"
    CLOSED = "closed", "已结项"
    TERMINATED = "terminated", "已终止"


P = ProposalStatus
# the states in which a proposal counts against the call's per-organisation limit
COUNTED_STATES = tuple(s for s in P if s not in (P.INELIGIBLE, P.WITHDRAWN))
# the states after the eligibility check, in which experts review and the call decides
REVIEW_STATES = (P.UNDER_REVIEW, P.REVIEWED, P.PITCHED, P.SHORTLISTED, P.PUBLICISED)
# the states of a funded project, from the signed agreement to its end
FUNDED_STATES = (
    P.AGREEMENT_SIGNED,
    P.IN_PROGRESS,
    P.SUSPENDED,
    P.MID_TERM_PASSED,
    P.FINAL_EVALUATED,
    P.CLOSED,
    P.TERMINATED,
)


def _checks(proposal, user) -> bool:
    from accounts.selectors import has_scoped_perm

    return has_scoped_perm(user, CHECK_PERMISSION, proposal.call.region)


def _edits(proposal, user) -> bool:
    """The organisation's 负责人 or 项目联系人."""
    from orgs.models import Membership
    from orgs.selectors import member_role

    return member_role(user, proposal.organisation_id) in (Membership.Role.LEADER, Membership.Role.CONTACT)


def _manages_call(proposal, user) -> bool:
    from accounts.selectors import has_scoped_perm

    from .calls import MANAGE_PERMISSION

    return has_scoped_perm(user, MANAGE_PERMISSION, proposal.call.region)


def _call_open(proposal) -> bool:
    return proposal.call.accepts_applications


def _before_deadline(proposal) -> bool:
    return proposal.correction_deadline is None or timezone.localdate() <= proposal.correction_deadline


_CHECK = {
    "group": "check",
    "heading": "资格审查",
    "reason": "optional",
    "reason_label": "审查意见",
    "reason_help": "退回修改和不通过时必填，申报单位会在通知和申报书上看到。",
}


class Proposal(index.Indexed, WorkflowModel):
    Status = ProposalStatus

    call = models.ForeignKey("grants.Call", verbose_name="征集", on_delete=models.PROTECT, related_name="proposals")
    organisation = models.ForeignKey(
        "orgs.Organisation", verbose_name="申报组织", on_delete=models.PROTECT, related_name="proposals"
    )
    number = models.CharField("申报编号", max_length=20, blank=True, db_index=True)
    status = FSMField(
        "状态", max_length=20, choices=ProposalStatus.choices, default=P.DRAFT, protected=True, db_index=True
    )
    status_reason = models.CharField("最近一次审查意见", max_length=500, blank=True)
    correction_deadline = models.DateField("补正截止日期", null=True, blank=True)

    # ---- 基本信息 ----
    title = models.CharField("项目名称", max_length=60, blank=True)
    category = models.ForeignKey(
        "orgs.ServiceArea", verbose_name="服务领域", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    places = models.ManyToManyField(Region, verbose_name="实施地点", blank=True, related_name="+")
    start_month = models.DateField("开始年月", null=True, blank=True)
    end_month = models.DateField("结束年月", null=True, blank=True)
    beneficiaries_direct = models.PositiveIntegerField(
        "直接受益人数", null=True, blank=True, validators=[MaxValueValidator(10_000_000)]
    )
    beneficiaries_indirect = models.PositiveIntegerField(
        "间接受益人数", null=True, blank=True, validators=[MaxValueValidator(10_000_000)]
    )
    summary = models.TextField("项目简介", max_length=300, blank=True, help_text="一两句话，公开展示时使用。")
    # ---- 需求与设计 ----
    need_analysis = models.TextField("需求分析", blank=True)
    cited_needs = models.ManyToManyField(
        "grants.Need", verbose_name="回应的社区需求", blank=True, related_name="proposals"
    )
    objectives = models.TextField("项目目标", blank=True)
    approach = models.TextField("实施方案概述", blank=True)
    risks = models.TextField("风险与应对", blank=True)

    # ---- computed from the budget lines (grants.rules), never typed ----
    budget_total = models.DecimalField("项目总预算（元）", max_digits=14, decimal_places=2, default=Decimal("0"))
    grant_amount = models.DecimalField("申请资助金额（元）", max_digits=14, decimal_places=2, default=Decimal("0"))
    self_funded = models.DecimalField("自筹金额（元）", max_digits=14, decimal_places=2, default=Decimal("0"))
    personnel_amount = models.DecimalField("人员费用（元）", max_digits=14, decimal_places=2, default=Decimal("0"))

    # ---- editing: an optimistic lock so a second tab cannot overwrite the first ----
    revision = models.PositiveIntegerField("修改版本", default=0)
    last_saved_at = models.DateTimeField("最近保存", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填写人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True, db_index=True)
    checked_at = models.DateTimeField("资格审查时间", null=True, blank=True)

    # ---- three-level linkage: copied from a lower call's proposal ----
    recommended_from = models.ForeignKey(
        "self", verbose_name="由下级征集推荐", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # ---- review and award (grants.services.review / award), written when a round closes ----
    score = models.DecimalField("最终得分", max_digits=5, decimal_places=2, null=True, blank=True)
    review_score = models.DecimalField("专家评审得分", max_digits=5, decimal_places=2, null=True, blank=True)
    pitch_score = models.DecimalField("路演答辩得分", max_digits=5, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField("排名", null=True, blank=True)
    spread_flagged = models.BooleanField("评分分歧较大", default=False)
    pitch_at = models.DateTimeField("路演时间", null=True, blank=True)
    pitch_place = models.CharField("路演地点", max_length=100, blank=True)
    adjusted_amount = models.DecimalField(
        "调整后资助金额（元）", max_digits=14, decimal_places=2, null=True, blank=True
    )
    adjust_reason = models.CharField("调整理由", max_length=300, blank=True)
    awarded_amount = models.DecimalField("拟资助金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    decided_at = models.DateTimeField("批复时间", null=True, blank=True)

    # ---- funding and outcome (grants.services.funding) ----
    final_grade = models.CharField("末期评估等级", max_length=10, blank=True)
    returned_amount = models.DecimalField("结余退回（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    eligible_spending = models.DecimalField(
        "认定的合规支出（元）", max_digits=14, decimal_places=2, null=True, blank=True
    )
    clawback_amount = models.DecimalField("应追回金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    clawback_repaid = models.DecimalField("已追回金额（元）", max_digits=14, decimal_places=2, default=Decimal("0"))
    ended_at = models.DateTimeField("结项/终止时间", null=True, blank=True)

    class Meta:
        verbose_name = "申报项目"
        verbose_name_plural = "申报项目"
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            # the public list filters by year (the calls), status and service category at once
            models.Index(fields=["call", "status", "category"]),
            models.Index(fields=["organisation", "call"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(grant_amount__lte=models.F("budget_total")), name="grant_within_budget"),
        ]

    # 资助项目的全文检索 (grants.search): only public projects are indexed, as character
    # n-grams, by grants.search's own signal handlers (Wagtail's would run on every save)
    search_fields = [index.SearchField("search_text")]
    search_auto_update = False

    @classmethod
    def get_indexed_objects(cls):
        from ..search import indexed_projects

        return indexed_projects()

    def search_text(self) -> str:
        from ..search import project_text

        return project_text(self)

    def __str__(self):
        return self.title or f"未命名申报（{self.organisation}）"

    def get_absolute_url(self) -> str:
        return reverse("grants:proposal", args=[self.pk])

    def get_admin_url(self) -> str:
        return reverse("grants_admin:proposal", args=[self.pk])

    @property
    def editable(self) -> bool:
        return self.status in (P.DRAFT, P.RETURNED)

    @property
    def grant_share(self) -> Decimal | None:
        from ..rules import share

        return share(self.grant_amount, self.budget_total)

    @property
    def personnel_share(self) -> Decimal | None:
        from ..rules import share

        return share(self.personnel_amount, self.budget_total)

    # ---- lifecycle ----

    @transition(
        field=status,
        source=P.DRAFT,
        target=P.SUBMITTED,
        permission=_edits,
        conditions=[_call_open],
        custom={"label": "提交申报", "success": "“{obj}”已提交，等待资格审查。"},
    )
    def submit(self):
        pass

    @transition(
        field=status,
        source=P.RETURNED,
        target=P.SUBMITTED,
        permission=_edits,
        conditions=[_before_deadline],
        custom={"label": "修改后重新提交", "success": "“{obj}”已重新提交，等待资格审查。"},
    )
    def resubmit(self):
        pass

    @transition(
        field=status,
        source=[P.DRAFT, P.SUBMITTED, P.RETURNED],
        target=P.WITHDRAWN,
        permission=_edits,
        custom={
            "label": "撤回申报",
            "reason": "optional",
            "danger": True,
            "confirm": "撤回后这份申报书不再参加本次征集。确定撤回吗？",
            "success": "已撤回“{obj}”。",
        },
    )
    def withdraw(self):
        pass

    @transition(
        field=status,
        source=P.SUBMITTED,
        target=P.ELIGIBLE,
        permission=_checks,
        custom={
            **_CHECK,
            "label": "资格审查通过",
            "slug": "eligible",
            "order": 10,
            "success": "“{obj}”资格审查通过，已通知申报单位。",
        },
    )
    def mark_eligible(self):
        pass

    @transition(
        field=status,
        source=P.SUBMITTED,
        target=P.RETURNED,
        permission=_checks,
        custom={
            "label": "退回修改",
            "slug": "return",
            "order": 20,
            "reason": "required",
            "reason_label": "需要修改的内容",
            "reason_prompt": "退回修改时请写明需要修改的内容，申报单位将看到这段说明。",
            "form": "grants.forms.eligibility.ReturnForm",
            "intro": "申报单位在截止日期前修改后重新提交；逾期未提交的，自动判定为资格审查未通过。",
            "success": "已退回“{obj}”，已通知申报单位修改。",
        },
    )
    def return_for_correction(self):
        pass

    @transition(
        field=status,
        source=P.SUBMITTED,
        target=P.INELIGIBLE,
        permission=_checks,
        custom={
            **_CHECK,
            "label": "资格审查不通过",
            "slug": "ineligible",
            "order": 30,
            "danger": True,
            "reason_prompt": "资格审查不通过时请填写理由，申报单位将看到这段说明。",
            "success": "“{obj}”资格审查未通过，已通知申报单位。",
        },
    )
    def mark_ineligible(self):
        pass

    @transition(
        field=status,
        source=P.RETURNED,
        target=P.INELIGIBLE,
        custom={"label": "逾期未补正"},
    )
    def expire(self):
        """The correction deadline passed without resubmission: run by grants.tasks only."""

    # ---- review, 公示 and approval (grants.services.review / award); run in bulk by
    # those services for a whole call, each row written to the audit log ----

    @transition(
        field=status,
        source=P.ELIGIBLE,
        target=P.UNDER_REVIEW,
        permission=_manages_call,
        custom={"label": "进入专家评审"},
    )
    def begin_review(self):
        pass

    @transition(
        field=status,
        source=P.UNDER_REVIEW,
        target=P.REVIEWED,
        permission=_manages_call,
        custom={"label": "专家评审完成"},
    )
    def finish_review(self):
        pass

    @transition(
        field=status, source=P.REVIEWED, target=P.PITCHED, permission=_manages_call, custom={"label": "路演答辩完成"}
    )
    def finish_pitch(self):
        pass

    @transition(
        field=status,
        source=[P.REVIEWED, P.PITCHED],
        target=P.SHORTLISTED,
        permission=_manages_call,
        custom={"label": "列入拟立项名单"},
    )
    def shortlist(self):
        pass

    @transition(
        field=status, source=P.SHORTLISTED, target=P.PUBLICISED, permission=_manages_call, custom={"label": "立项公示"}
    )
    def publicise(self):
        pass

    @transition(
        field=status, source=P.PUBLICISED, target=P.APPROVED, permission=_manages_call, custom={"label": "批复立项"}
    )
    def approve(self):
        pass

    @transition(
        field=status,
        source=[P.UNDER_REVIEW, P.REVIEWED, P.PITCHED, P.SHORTLISTED, P.PUBLICISED],
        target=P.NOT_FUNDED,
        permission=_manages_call,
        custom={"label": "不予立项"},
    )
    def decline(self):
        pass

    # ---- funding and outcome (grants.services.funding) ----

    @transition(
        field=status,
        source=P.APPROVED,
        target=P.AGREEMENT_SIGNED,
        permission=_manages_call,
        custom={"label": "签订协议"},
    )
    def sign_agreement(self):
        pass

    @transition(
        field=status,
        source=P.AGREEMENT_SIGNED,
        target=P.IN_PROGRESS,
        permission=_manages_call,
        custom={"label": "开始实施"},
    )
    def begin(self):
        pass

    @transition(
        field=status,
        source=[P.IN_PROGRESS, P.SUSPENDED],
        target=P.MID_TERM_PASSED,
        permission=_manages_call,
        custom={"label": "中期评估通过"},
    )
    def pass_mid_term(self):
        pass

    @transition(
        field=status,
        source=P.IN_PROGRESS,
        target=P.SUSPENDED,
        permission=_manages_call,
        custom={"label": "暂停拨付并整改"},
    )
    def suspend(self):
        pass

    @transition(
        field=status,
        source=P.MID_TERM_PASSED,
        target=P.FINAL_EVALUATED,
        permission=_manages_call,
        custom={"label": "末期评估完成"},
    )
    def finish_final(self):
        pass

    @transition(
        field=status, source=P.FINAL_EVALUATED, target=P.CLOSED, permission=_manages_call, custom={"label": "结项"}
    )
    def close(self):
        pass

    @transition(
        field=status,
        source=[P.AGREEMENT_SIGNED, P.IN_PROGRESS, P.SUSPENDED, P.MID_TERM_PASSED, P.FINAL_EVALUATED],
        target=P.TERMINATED,
        permission=_manages_call,
        custom={"label": "终止项目", "reason": "required", "danger": True},
    )
    def terminate(self):
        pass


class BudgetCategory(models.TextChoices):
    PERSONNEL = "personnel", "人员费用"
    ACTIVITY = "activity", "活动费用"
    PUBLICITY = "publicity", "宣传费用"
    ADMIN = "admin", "管理费用"
    TAX = "tax", "税费"
    OTHER = "other", "其他"


class FundingSource(models.TextChoices):
    GRANT = "grant", "申请资助"
    SELF = "self", "自筹"


class LineNature(models.TextChoices):
    NORMAL = "normal", "一般支出"
    FIXED_ASSET = "fixed_asset", "固定资产购置"
    CASH = "cash", "现金或等价物发放"


class BudgetLine(models.Model):
    proposal = models.ForeignKey(
        Proposal, verbose_name="申报项目", on_delete=models.CASCADE, related_name="budget_lines"
    )
    position = models.PositiveSmallIntegerField("序号", default=0)
    category = models.CharField("费用类别", max_length=12, choices=BudgetCategory.choices)
    item = models.CharField("支出项目", max_length=60)
    unit = models.CharField("单位", max_length=10, default="项")
    quantity = models.DecimalField(
        "数量", max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_price = models.DecimalField(
        "单价（元）", max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    amount = models.DecimalField("金额（元）", max_digits=14, decimal_places=2, editable=False)
    source = models.CharField("资金来源", max_length=6, choices=FundingSource.choices, default=FundingSource.GRANT)
    nature = models.CharField("支出性质", max_length=12, choices=LineNature.choices, default=LineNature.NORMAL)
    note = models.CharField("测算说明", max_length=120, blank=True)

    class Meta:
        verbose_name = "预算明细"
        verbose_name_plural = "预算明细"
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.get_category_display()} · {self.item}"

    def save(self, *args, **kwargs):
        from ..rules import line_amount

        self.amount = line_amount(self.quantity, self.unit_price)
        super().save(*args, **kwargs)


class Activity(models.Model):
    """实施方案: one activity and the month it happens."""

    proposal = models.ForeignKey(Proposal, verbose_name="申报项目", on_delete=models.CASCADE, related_name="activities")
    position = models.PositiveSmallIntegerField("序号", default=0)
    name = models.CharField("活动名称", max_length=60)
    month = models.DateField("实施年月")
    content = models.CharField("活动内容", max_length=300)
    sessions = models.PositiveSmallIntegerField("场次", default=1, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = "活动安排"
        verbose_name_plural = "活动安排"
        ordering = ["position", "month", "pk"]

    def __str__(self):
        return self.name


class TeamMember(models.Model):
    """A member of the project team: picked from the organisation's members where they
    have an account (name taken from it), otherwise named (a social worker, a volunteer)."""

    proposal = models.ForeignKey(Proposal, verbose_name="申报项目", on_delete=models.CASCADE, related_name="team")
    position = models.PositiveSmallIntegerField("序号", default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="组织成员",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField("姓名", max_length=30)
    role = models.CharField("项目角色", max_length=30)
    qualifications = models.CharField("资质与经验", max_length=200, blank=True)

    class Meta:
        verbose_name = "项目团队成员"
        verbose_name_plural = "项目团队成员"
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class KPI(models.Model):
    """绩效指标: what the project promises, measured in Grants 3's progress reports."""

    proposal = models.ForeignKey(Proposal, verbose_name="申报项目", on_delete=models.CASCADE, related_name="kpis")
    position = models.PositiveSmallIntegerField("序号", default=0)
    indicator = models.CharField("指标", max_length=60)
    target = models.DecimalField(
        "目标值", max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    unit = models.CharField("单位", max_length=10)
    method = models.CharField("衡量方式", max_length=120)

    class Meta:
        verbose_name = "绩效指标"
        verbose_name_plural = "绩效指标"
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.indicator} {self.target.normalize():f}{self.unit}"


class AttachmentKind(models.TextChoices):
    PLAN = "plan", "项目计划书（补充材料）"
    BUDGET = "budget", "预算说明"
    EVIDENCE = "evidence", "需求调研材料"
    OTHER = "other", "其他"


def attachment_path(instance, filename):
    # the stored name says nothing of the applicant (blind review serves files by id)
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"proposals/{instance.proposal_id}/{uuid.uuid4().hex}.{ext}"


class ProposalAttachment(models.Model):
    proposal = models.ForeignKey(
        Proposal, verbose_name="申报项目", on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField("材料类型", max_length=10, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    file = models.FileField("文件", upload_to=attachment_path, storage=private_storage, max_length=300)
    original_name = models.CharField("原文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）", default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "申报附件"
        verbose_name_plural = "申报附件"
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name


class ProposalVersion(models.Model):
    """What was submitted, frozen: every field, line and the organisation's facts at that
    moment. Staff compare two versions field by field after a correction."""

    proposal = models.ForeignKey(Proposal, verbose_name="申报项目", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField("第几次提交")
    data = models.JSONField("内容")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)

    class Meta:
        verbose_name = "申报书版本"
        verbose_name_plural = "申报书版本"
        ordering = ["proposal", "number"]
        constraints = [models.UniqueConstraint(fields=["proposal", "number"], name="one_version_number")]

    def __str__(self):
        return f"{self.proposal} 第{self.number}版"


class RecommendationState(models.TextChoices):
    PENDING = "pending", "待申报单位确认"
    ACCEPTED = "accepted", "已转入上级征集"
    DECLINED = "declined", "申报单位不参加"


class Recommendation(WorkflowModel):
    """三级联动: a lower call recommends one of its proposals to its next-round call. The
    organisation confirms, and the proposal is copied into the upper call as a draft with
    the lower call's score beside it; nothing is retyped."""

    proposal = models.ForeignKey(
        Proposal, verbose_name="推荐的项目", on_delete=models.CASCADE, related_name="recommendations"
    )
    to_call = models.ForeignKey(
        "grants.Call", verbose_name="推荐至", on_delete=models.CASCADE, related_name="recommendations_in"
    )
    reason = models.TextField("推荐理由", max_length=500)
    state = FSMField(
        "状态",
        max_length=10,
        choices=RecommendationState.choices,
        default=RecommendationState.PENDING,
        protected=True,
    )
    recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="推荐人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("推荐时间", auto_now_add=True)
    result = models.ForeignKey(
        Proposal, verbose_name="上级征集中的申报书", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "项目推荐"
        verbose_name_plural = "项目推荐"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["proposal", "to_call"], name="one_recommendation_per_call")]

    def __str__(self):
        return f"{self.proposal} → {self.to_call}"

    def get_absolute_url(self) -> str:
        return self.proposal.get_absolute_url()

    def get_admin_url(self) -> str:
        return self.proposal.get_admin_url()

    @transition(
        field=state,
        source=RecommendationState.PENDING,
        target=RecommendationState.ACCEPTED,
        permission=lambda rec, user: _edits(rec.proposal, user),
        custom={"label": "参加上级征集", "success": "已转入“{obj.to_call}”，请核对后提交。"},
    )
    def accept(self):
        pass

    @transition(
        field=state,
        source=RecommendationState.PENDING,
        target=RecommendationState.DECLINED,
        permission=lambda rec, user: _edits(rec.proposal, user),
        custom={"label": "不参加", "danger": True, "success": "已不参加“{obj.to_call}”。"},
    )
    def decline(self):
        pass
