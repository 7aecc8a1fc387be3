"""立项公示 and 立项结果: what a call publishes, frozen at the moment it is published, and
the objections (异议) the public files during the window.

A `Publicity` keeps its own rows (project, organisation, category, place, amount, score:
nothing private), so what was published stays what it was whatever happens to the
proposals later; the CMS makes its public page (cms listens to its creation, as for
calls). An `Objection` keeps the objector's contact private and records how staff
handled it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from core.files import private_storage
from core.workflow import WorkflowModel

from .calls import MANAGE_PERMISSION


def _manages(obj, user) -> bool:
    from accounts.selectors import has_scoped_perm

    return has_scoped_perm(user, MANAGE_PERMISSION, obj.publicity.call.region)


class PublicityKind(models.TextChoices):
    SHORTLIST = "shortlist", "立项公示"
    RESULT = "result", "立项结果"
    EVALUATION = "evaluation", "评估结果公示"  # Grants 3: a call's final evaluation results, one week


class Publicity(models.Model):
    Kind = PublicityKind

    call = models.ForeignKey("grants.Call", verbose_name="征集", on_delete=models.CASCADE, related_name="publicities")
    kind = models.CharField("类别", max_length=10, choices=PublicityKind.choices)
    title = models.CharField("标题", max_length=160)
    intro = models.TextField("说明", blank=True)
    opens_on = models.DateField("公示开始")
    closes_on = models.DateField("公示截止", null=True, blank=True)
    # [{"proposal": id, "number", "title", "organisation", "category", "places", "amount", "score", "rank"}]
    rows = models.JSONField("名单", default=list)
    published_at = models.DateTimeField("发布时间", default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "公示"
        verbose_name_plural = "公示"
        ordering = ["-published_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["call", "kind"], name="one_publicity_per_kind")]

    def __str__(self):
        return self.title

    def get_absolute_url(self) -> str:
        page = getattr(self, "page", None)
        if page is not None and page.live:
            return page.url or "/notices/"
        return "/notices/"

    def accepts_objections(self, today=None) -> bool:
        today = today or timezone.localdate()
        return (
            self.kind == PublicityKind.SHORTLIST
            and self.closes_on is not None
            and self.opens_on <= today <= self.closes_on
        )

    def window_closed(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.closes_on is not None and today > self.closes_on


class ObjectionStatus(models.TextChoices):
    RECEIVED = "received", "待处理"
    UPHELD = "upheld", "异议成立"
    DISMISSED = "dismissed", "异议不成立"


def evidence_path(instance, filename):
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"objections/{instance.publicity_id}/{uuid.uuid4().hex}.{ext}"


class Objection(WorkflowModel):
    """异议: filed by anyone during a 公示 window; the contact is for staff only."""

    Status = ObjectionStatus

    publicity = models.ForeignKey(Publicity, verbose_name="公示", on_delete=models.CASCADE, related_name="objections")
    proposal = models.ForeignKey(
        "grants.Proposal",
        verbose_name="对应项目",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="objections",
    )
    name = models.CharField("姓名", max_length=30)
    contact = models.CharField("联系方式", max_length=60, help_text="手机或邮箱，仅工作人员可见，用于反馈处理结果。")
    reason = models.TextField("异议内容", max_length=2000)
    evidence = models.FileField(
        "证明材料", upload_to=evidence_path, storage=private_storage, max_length=300, blank=True
    )
    evidence_name = models.CharField("材料原文件名", max_length=200, blank=True)
    client_hash = models.CharField("来源标识", max_length=64, blank=True, db_index=True)
    status = FSMField(
        "状态", max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.RECEIVED, protected=True
    )
    handling = models.TextField("处理情况", blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.publicity} · 异议 {self.pk}"

    def get_admin_url(self) -> str:
        from django.urls import reverse

        return reverse("grants_admin:objection", args=[self.pk])

    @property
    def handled(self) -> bool:
        return self.status != ObjectionStatus.RECEIVED

    _HANDLE = {
        "group": "handle",
        "heading": "处理异议",
        "reason": "required",
        "reason_label": "处理情况",
        "reason_help": "写明核查经过和结论；公示页面只显示收到和处理的件数。",
        "reason_prompt": "请填写处理情况。",
    }

    @transition(
        field=status,
        source=ObjectionStatus.RECEIVED,
        target=ObjectionStatus.UPHELD,
        permission=_manages,
        custom={
            **_HANDLE,
            "label": "异议成立",
            "danger": True,
            "success": "已记录：异议成立。批复时对应项目将不予立项。",
        },
    )
    def uphold(self):
        pass

    @transition(
        field=status,
        source=ObjectionStatus.RECEIVED,
        target=ObjectionStatus.DISMISSED,
        permission=_manages,
        custom={**_HANDLE, "label": "异议不成立", "success": "已记录：异议不成立。"},
    )
    def dismiss(self):
        pass
