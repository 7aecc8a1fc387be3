from django.conf import settings
from django.db import models

from .files import private_storage


class Notification(models.Model):
    """One message in a user's in-site inbox; e-mailed too when the user has an address."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="收件人", on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=500, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


def job_file_path(instance, filename):
    """Opaque names on disk; the name the user sees is kept in `result_name`/`params`."""
    import uuid
    from pathlib import PurePath

    from django.utils import timezone

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"jobs/{timezone.now():%Y%m}/{uuid.uuid4().hex}{suffix}"


class BackgroundJob(models.Model):
    """One piece of long work (an import, an export, a batch of PDFs) run by a task worker,
    with progress its creator can watch and a result file only they can download.

    The status is a plain field, not an FSM: it is infrastructure, changed only by
    core.jobs (queued → running → succeeded | failed)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "进行中"
        SUCCEEDED = "succeeded", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("任务类型", max_length=40, db_index=True)
    title = models.CharField("任务名称", max_length=200, blank=True)
    runner = models.CharField("执行函数", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="background_jobs",
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveIntegerField("已处理", default=0)
    total = models.PositiveIntegerField("总数", default=0)
    message = models.CharField("说明", max_length=500, blank=True)
    params = models.JSONField("参数", default=dict, blank=True)
    input_file = models.FileField(
        "输入文件", storage=private_storage, upload_to=job_file_path, max_length=300, blank=True
    )
    result_file = models.FileField(
        "结果文件", storage=private_storage, upload_to=job_file_path, max_length=300, blank=True
    )
    result_name = models.CharField("结果文件名", max_length=200, blank=True)
    result_data = models.JSONField("结果数据", default=dict, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    # Written at the start and with every progress write: a running job whose heartbeat
    # is old has lost its worker (core.jobs.fail_stale_jobs).
    heartbeat_at = models.DateTimeField("最近进度时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self):
        return self.title or f"{self.kind} #{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import NoReverseMatch, reverse

        try:
            return reverse("jobs:detail", args=[self.pk])
        except NoReverseMatch:  # admin URLs not registered (e.g. a bare management command)
            return f"/admin/jobs/{self.pk}/"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.progress * 100 / self.total))


class ContentStamp(models.Model):
    """How many times the public site's content has changed (core.public_cache): one row,
    counted up when a change commits, so that every process sees that what it computed
    from the public rows is out of date."""

    counter = models.BigIntegerField("变更次数", default=0)
    changed_at = models.DateTimeField("最近变更", null=True, blank=True)

    class Meta:
        verbose_name = "公开内容版本"
        verbose_name_plural = "公开内容版本"

    def __str__(self):
        return f"{self.counter}"
