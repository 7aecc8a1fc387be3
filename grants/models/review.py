"""专家评审: the expert pool (专家库), review rounds, recorded panel draws and each
reviewer's assignment with its scores.

Fairness is recorded, not asserted: a `PanelDraw` keeps the seed, every candidate with
the load it had and every exclusion with its reason, so `grants.review.draw.replay`
gives the same panel again. An `Assignment` is one expert on one proposal in one round
(专家评审 or 路演答辩): the expert declares a conflict of interest before anything else,
scores each criterion of the round's rubric, saves drafts and submits; a call manager
may reopen a submitted one with a reason. Scores are kept as Decimal strings in JSON
(criterion key → "12.5"), one row per reviewer and proposal, so ranking loads a call's
scores in one query."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django_fsm import FSMField, transition
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel

from accounts.models import Region
from core.workflow import WorkflowModel

from .calls import MANAGE_PERMISSION

REVIEW_PERMISSION = "grants.review_proposal"


def _manages(obj, user) -> bool:
    from accounts.selectors import has_scoped_perm

    return has_scoped_perm(user, MANAGE_PERMISSION, obj.call.region)


def _is_expert(assignment, user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and assignment.expert.user_id == user.pk


class ConflictKind(models.TextChoices):
    MEMBER = "member", "申报组织的成员"
    BOARD = "board", "申报组织的理事、监事"
    CONSULTANT = "consultant", "申报组织的有偿顾问"
    RELATIVE = "relative", "近亲属在申报组织任职"
    EMPLOYER = "employer", "与申报组织同一工作单位"
    OTHER = "other", "其他利害关系"


# the kinds an expert declares in the pool for an organisation (the others arise by themselves)
AFFILIATION_KINDS = [
    (k.value, k.label)
    for k in (ConflictKind.MEMBER, ConflictKind.BOARD, ConflictKind.CONSULTANT, ConflictKind.RELATIVE)
]


class ExpertProfile(ClusterableModel):
    """One expert of the pool: a user holding the reviewer role, with what they know and
    what they are tied to."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="expert"
    )
    region = models.ForeignKey(
        Region,
        verbose_name="所在区域",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="专家常住或工作的区域；征集要求时，同一街道（社区）的专家回避本地项目。",
    )
    employer = models.CharField("工作单位", max_length=120)
    title = models.CharField("职称/职务", max_length=60, blank=True)
    expertise = models.ManyToManyField("orgs.ServiceArea", verbose_name="擅长领域", related_name="experts", blank=True)
    available = models.BooleanField("可参加评审", default=True)
    unavailable_note = models.CharField("暂停原因", max_length=200, blank=True)
    max_per_call = models.PositiveSmallIntegerField(
        "每次征集最多评审项目数", default=30, validators=[MinValueValidator(1)]
    )
    created_at = models.DateTimeField("入库时间", auto_now_add=True)

    class Meta:
        verbose_name = "评审专家"
        verbose_name_plural = "专家库"
        ordering = ["pk"]
        permissions = [
            ("review_proposal", "可以评审分配给自己的申报项目"),
            ("manage_experts", "可以管理专家库和抽取评审专家"),
        ]

    def __str__(self):
        return self.name

    def get_admin_url(self) -> str:
        return reverse("grants_experts:edit", args=[self.pk])

    @property
    def name(self) -> str:
        u = self.user
        return u.get_full_name() or u.username


class Affiliation(models.Model):
    """An expert's declared tie with an organisation: a draw never puts them on its proposals."""

    expert = ParentalKey(ExpertProfile, verbose_name="专家", on_delete=models.CASCADE, related_name="affiliations")
    organisation = models.ForeignKey(
        "orgs.Organisation", verbose_name="组织", on_delete=models.CASCADE, related_name="expert_affiliations"
    )
    kind = models.CharField("关系", max_length=12, choices=AFFILIATION_KINDS)
    note = models.CharField("说明", max_length=200, blank=True)
    declared_at = models.DateTimeField("申报时间", auto_now_add=True)

    class Meta:
        verbose_name = "关联关系"
        verbose_name_plural = "关联关系"
        constraints = [
            models.UniqueConstraint(fields=["expert", "organisation", "kind"], name="one_affiliation_per_kind")
        ]

    def __str__(self):
        return f"{self.expert} · {self.organisation} · {self.get_kind_display()}"


class Stage(models.TextChoices):
    REVIEW = "review", "专家评审"
    PITCH = "pitch", "路演答辩"


class RoundStatus(models.TextChoices):
    OPEN = "open", "评分中"
    CLOSED = "closed", "已结束"


class ReviewRound(WorkflowModel):
    """One stage of scoring of a call: the 专家评审 round, and the 路演答辩 round where the
    call has one. Reviewers see each other's scores only once it is closed."""

    Stage = Stage
    Status = RoundStatus

    call = models.ForeignKey("grants.Call", verbose_name="征集", on_delete=models.CASCADE, related_name="rounds")
    stage = models.CharField("环节", max_length=8, choices=Stage.choices, default=Stage.REVIEW)
    status = FSMField("状态", max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN, protected=True)
    deadline = models.DateField("评分截止")
    opened_at = models.DateTimeField("开始时间", auto_now_add=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="结束人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "评审轮次"
        verbose_name_plural = "评审轮次"
        constraints = [models.UniqueConstraint(fields=["call", "stage"], name="one_round_per_stage")]

    def __str__(self):
        return f"{self.call} · {self.get_stage_display()}"

    @property
    def is_open(self) -> bool:
        return self.status == RoundStatus.OPEN

    def rubric(self) -> list[dict]:
        return self.call.pitch_rubric if self.stage == Stage.PITCH else self.call.rubric

    @transition(
        field=status,
        source=RoundStatus.OPEN,
        target=RoundStatus.CLOSED,
        permission=_manages,
        custom={
            "label": "结束评分",
            "confirm": "结束后专家不能再提交或修改评分，系统将计算得分和排名。确定结束吗？",
            "success": "“{obj}”已结束评分。",
        },
    )
    def close(self):
        pass


class PanelDraw(models.Model):
    """A recorded random draw: enough to replay it and get the same experts."""

    round = models.ForeignKey(ReviewRound, verbose_name="评审轮次", on_delete=models.CASCADE, related_name="draws")
    proposal = models.ForeignKey(
        "grants.Proposal",
        verbose_name="申报项目",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="draws",
    )
    seed = models.CharField("随机种子", max_length=64)
    size = models.PositiveSmallIntegerField("抽取人数")
    # [{"expert": id, "load": n, "match": bool}] in expert-id order: who could be drawn, as they stood
    candidates = models.JSONField("候选专家", default=list)
    # [{"expert": id, "name": str, "reason": str}]: who could not, and why
    exclusions = models.JSONField("回避与排除", default=list)
    chosen = models.JSONField("抽中专家", default=list)
    reason = models.CharField("抽取原因", max_length=200, default="首次抽取")
    replaces = models.ForeignKey(
        "grants.Assignment",
        verbose_name="替补",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replacement_draws",
    )
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="抽取人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    drawn_at = models.DateTimeField("抽取时间", auto_now_add=True)

    class Meta:
        verbose_name = "专家抽取记录"
        verbose_name_plural = "专家抽取记录"
        ordering = ["drawn_at", "pk"]

    def __str__(self):
        return f"{self.round} · {self.proposal or '路演评委'} · {self.drawn_at:%Y-%m-%d %H:%M}"

    @property
    def call(self):
        return self.round.call


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "待声明利益冲突"
    RECUSED = "recused", "已回避"
    SCORING = "scoring", "评分中"
    SUBMITTED = "submitted", "已提交"


A = AssignmentStatus
# the assignments whose reviewer still has work to do
OPEN_STATES = (A.ASSIGNED, A.SCORING)


def _round_open(assignment) -> bool:
    return assignment.round.status == RoundStatus.OPEN


class Assignment(WorkflowModel):
    """One expert on one proposal in one round, from the draw to the submitted scores."""

    Status = AssignmentStatus

    round = models.ForeignKey(
        ReviewRound, verbose_name="评审轮次", on_delete=models.CASCADE, related_name="assignments"
    )
    proposal = models.ForeignKey(
        "grants.Proposal", verbose_name="申报项目", on_delete=models.CASCADE, related_name="assignments"
    )
    expert = models.ForeignKey(
        ExpertProfile, verbose_name="评审专家", on_delete=models.PROTECT, related_name="assignments"
    )
    draw = models.ForeignKey(
        PanelDraw, verbose_name="抽取记录", null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    status = FSMField(
        "状态", max_length=10, choices=AssignmentStatus.choices, default=A.ASSIGNED, protected=True, db_index=True
    )
    conflict_kind = models.CharField("利益冲突", max_length=12, choices=ConflictKind.choices, blank=True)
    conflict_note = models.CharField("冲突说明", max_length=300, blank=True)
    declared_at = models.DateTimeField("声明时间", null=True, blank=True)
    # criterion key → points as a Decimal string; criterion key → comment
    points = models.JSONField("各项得分", default=dict, blank=True)
    comments = models.JSONField("分项评语", default=dict, blank=True)
    comment = models.TextField("总体评语", blank=True)
    total = models.DecimalField("总分", max_digits=5, decimal_places=2, null=True, blank=True)
    saved_at = models.DateTimeField("最近保存", null=True, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    reopen_reason = models.CharField("退回重评原因", max_length=300, blank=True)
    reminded_at = models.DateTimeField("最近催办", null=True, blank=True)
    created_at = models.DateTimeField("分配时间", auto_now_add=True)

    class Meta:
        verbose_name = "评审任务"
        verbose_name_plural = "评审任务"
        ordering = ["proposal_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["round", "proposal", "expert"], name="one_assignment_per_expert")
        ]
        indexes = [models.Index(fields=["expert", "status"]), models.Index(fields=["round", "status"])]

    def __str__(self):
        return f"{self.proposal} · {self.expert}"

    def get_absolute_url(self) -> str:
        return reverse("grants_admin:review", args=[self.pk])

    get_admin_url = get_absolute_url

    @property
    def call(self):
        return self.round.call

    @property
    def has_draft(self) -> bool:
        return self.status == A.SCORING and bool(self.points or self.comment or self.comments)

    def points_decimal(self) -> dict[str, Decimal]:
        return {k: Decimal(v) for k, v in (self.points or {}).items() if v not in (None, "")}

    # ---- lifecycle ----

    @transition(
        field=status,
        source=A.ASSIGNED,
        target=A.SCORING,
        permission=_is_expert,
        conditions=[_round_open],
        custom={"label": "声明无利益冲突", "success": "已声明无利益冲突，可以开始评分。"},
    )
    def declare_none(self):
        pass

    @transition(
        field=status,
        source=A.ASSIGNED,
        target=A.RECUSED,
        permission=_is_expert,
        conditions=[_round_open],
        custom={
            "label": "声明利益冲突并回避",
            "reason": "optional",
            "danger": True,
            "success": "已声明回避，系统已自动抽取替补专家。",
        },
    )
    def declare_conflict(self):
        pass

    @transition(
        field=status,
        source=A.SCORING,
        target=A.SUBMITTED,
        permission=_is_expert,
        conditions=[_round_open],
        custom={"label": "提交评分", "success": "已提交对“{obj.proposal}”的评分。"},
    )
    def submit(self):
        pass

    @transition(
        field=status,
        source=A.SUBMITTED,
        target=A.SCORING,
        permission=lambda a, user: _manages(a.round, user),
        conditions=[_round_open],
        custom={
            "label": "退回重评",
            "reason": "required",
            "reason_label": "退回原因",
            "reason_prompt": "退回重评时请写明原因，专家会在通知中看到。",
            "success": "已退回“{obj.expert}”重新评分。",
        },
    )
    def reopen(self):
        pass

    @transition(
        field=status,
        source=[A.ASSIGNED, A.SCORING],
        target=A.RECUSED,
        permission=lambda a, user: _manages(a.round, user),
        conditions=[_round_open],
        custom={
            "label": "改派其他专家",
            "reason": "required",
            "reason_label": "改派原因",
            "danger": True,
            "reason_prompt": "改派时请写明原因（如专家无法参加），将记入抽取记录。",
            "success": "已改派，系统已抽取替补专家。",
        },
    )
    def replace(self):
        pass
