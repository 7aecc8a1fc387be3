"""需求征集 (the seeds' 民呼我应): community needs residents, committees and grid workers
submit before a call opens. Staff moderate them; accepted ones are published and cited by
proposals; the public need page later shows the projects that answered them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django_fsm import FSMField, transition

from accounts.models import Region
from accounts.validators import validate_mobile
from core.workflow import WorkflowModel

MODERATE_PERMISSION = "grants.moderate_need"


class NeedStatus(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    ACCEPTED = "accepted", "已采纳"
    MERGED = "merged", "已合并"
    REJECTED = "rejected", "未采纳"


class SubmitterKind(models.TextChoices):
    RESIDENT = "resident", "居民"
    COMMITTEE = "committee", "社区（村）居委会"
    GRID = "grid", "网格员"
    ORGANISATION = "organisation", "社会组织"
    OTHER = "other", "其他"


def _moderates(need, user) -> bool:
    from accounts.selectors import has_scoped_perm

    return has_scoped_perm(user, MODERATE_PERMISSION, need.region)


class Need(WorkflowModel):
    """One community need. The submitter's phone is kept for staff only, never published."""

    Status = NeedStatus

    title = models.CharField("需求标题", max_length=80)
    description = models.TextField("需求内容（需要什么）", max_length=1000)
    affected = models.CharField("受影响的人群", max_length=120, help_text="例如：独居老人、放学后无人照看的儿童。")
    people_count = models.PositiveIntegerField(
        "涉及人数（约）", validators=[MinValueValidator(1), MaxValueValidator(1_000_000)]
    )
    region = models.ForeignKey(Region, verbose_name="所在社区（村）", on_delete=models.PROTECT, related_name="needs")
    place = models.CharField("具体地点", max_length=120, blank=True, help_text="小区、楼栋或场所，可不填。")
    submitter_kind = models.CharField("提出人身份", max_length=20, choices=SubmitterKind.choices)
    submitter_name = models.CharField("提出人（可只写姓氏）", max_length=30)
    phone = models.CharField("联系电话（不公开）", max_length=11, validators=[validate_mobile])
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_ip = models.GenericIPAddressField("提交地址", null=True, blank=True)

    # set by staff
    call = models.ForeignKey(
        "grants.Call",
        verbose_name="回应的征集",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    category = models.ForeignKey(
        "orgs.ServiceArea",
        verbose_name="服务领域",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    status = FSMField(
        "状态", max_length=12, choices=NeedStatus.choices, default=NeedStatus.SUBMITTED, protected=True, db_index=True
    )
    status_reason = models.CharField("处理说明", max_length=500, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name="合并到", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    supporters = models.PositiveIntegerField("同类需求数", default=1, help_text="合并进来的重复需求也计入。")
    moderated_at = models.DateTimeField("处理时间", null=True, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "社区需求"
        verbose_name_plural = "社区需求"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "region"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("grants_public:need", args=[self.pk])

    def get_admin_url(self) -> str:
        return reverse("grants_admin:need", args=[self.pk])

    def clean(self):
        if self.region_id and self.region.level != Region.Level.COMMUNITY:
            raise ValidationError({"region": "请选择需求所在的社区（村），不能只选到街道或区。"})

    @property
    def public_submitter(self) -> str:
        """What the public pages say of who raised it: a committee's or an organisation's
        name as typed, a person's surname only (张*), never the phone."""
        if self.submitter_kind in (SubmitterKind.COMMITTEE, SubmitterKind.ORGANISATION):
            return f"{self.get_submitter_kind_display()} {self.submitter_name}"
        name = (self.submitter_name or "").strip()
        return f"{self.get_submitter_kind_display()} {name[:1]}*" if name else self.get_submitter_kind_display()

    @transition(
        field=status,
        source=NeedStatus.SUBMITTED,
        target=NeedStatus.ACCEPTED,
        permission=_moderates,
        custom={
            "label": "采纳并公开",
            "order": 10,
            "form": "grants.forms.needs.AcceptNeedForm",
            "intro": "采纳后，需求会在征集页面和需求列表公开（不含提出人的电话）。",
            "success": "已采纳“{obj}”，已在网站公开。",
        },
    )
    def accept(self):
        pass

    @transition(
        field=status,
        source=NeedStatus.SUBMITTED,
        target=NeedStatus.MERGED,
        permission=_moderates,
        custom={
            "label": "合并到已有需求",
            "slug": "merge",
            "order": 20,
            "form": "grants.forms.needs.MergeNeedForm",
            "intro": "与已采纳的需求重复时合并，被合并的需求计入该需求的同类需求数。",
            "success": "已把“{obj}”合并到已有需求。",
        },
    )
    def merge(self):
        pass

    @transition(
        field=status,
        source=NeedStatus.SUBMITTED,
        target=NeedStatus.REJECTED,
        permission=_moderates,
        custom={
            "label": "不采纳",
            "order": 30,
            "reason": "required",
            "reason_label": "不采纳的理由",
            "reason_prompt": "请填写不采纳的理由。",
            "danger": True,
            "success": "已不采纳“{obj}”。",
        },
    )
    def reject(self):
        pass
