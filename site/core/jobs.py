"""Background jobs with progress the user can watch.

    job = job_start(kind="orgs_import", user=request.user, params={...}, runner=import_job,
                    input_file=upload, title="导入社会组织：名录.xlsx")
    return redirect(job.get_absolute_url())   # /admin/jobs/<pk>/

A runner is a module-level function decorated with `@job_runner`; it receives the
BackgroundJob, calls `job_progress(job, done, total)` as it goes and returns a
`JobOutcome` (message, optional result file, optional summary data). It may raise
`JobError("中文说明")` to fail with that message; any other exception fails the job with a
generic Chinese message (the traceback goes to the log, never to the user).

The row is created in the caller's transaction; the django-tasks task is enqueued after
commit, so a worker never sees a job that was rolled back. With the immediate backend
(development, tests) the job runs at commit, inside the request. In production a
`db_worker` runs it; progress writes are autocommitted so the job page sees them live.

A worker that dies leaves its job "running": every progress write also stamps
`heartbeat_at`, and a running job whose heartbeat is older than JOBS_STALE_MINUTES is
failed with a Chinese message (`fail_stale_jobs`, run by `manage.py prune_jobs` and when
the job's page is looked at). `prune_jobs` also deletes jobs older than JOBS_KEEP_DAYS
with their files (deploy/gongyi-prune-jobs.timer runs it daily).

Views: /admin/jobs/ (the user's own jobs), /admin/jobs/<pk>/ (status, progress bar,
download), /admin/jobs/<pk>/status/ (JSON polled by that page), /admin/jobs/<pk>/download/.
Only the job's creator or a superuser may see a job; anyone else gets 404.
(The URLs are registered in the Wagtail admin by orgs/exchange_hooks.py, see `urlpatterns`.)
"""

import contextlib
import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import include, path, reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django_tasks import task

from .errors import UserError
from .files import serve_private
from .models import BackgroundJob

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 200  # rows between progress writes
PROGRESS_MIN_SECONDS = 1.0  # …or at most one write a second
STALE_FAILURE = (
    "任务已中断：超过 {minutes} 分钟没有进展（后台处理程序可能已重启），已标记为失败。"
    "请重新发起该任务（重新导入同一文件不会产生重复数据）；如仍失败，请联系系统管理员（任务编号 #{pk}）。"
)
GENERIC_FAILURE = "任务执行出错，已记录错误详情。请稍后重试；如仍失败，请联系系统管理员（任务编号 #{pk}）。"

_RUNNERS: dict[str, Callable] = {}


class JobError(UserError):
    """Fail the job with this (Chinese) message, shown to the user as is."""


@dataclass
class JobOutcome:
    message: str
    content: bytes | None = None  # the result file, if any
    filename: str = ""  # the name the user downloads it as
    data: dict = field(default_factory=dict)  # JSON-serialisable summary (counts …)


def job_runner(func: Callable) -> Callable:
    """Register `func` as a runner; jobs refer to it by its dotted path."""
    _RUNNERS[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def _runner_path(runner) -> str:
    name = runner if isinstance(runner, str) else f"{runner.__module__}.{runner.__qualname__}"
    if name not in _RUNNERS:
        _resolve(name)
    return name


def _resolve(name: str) -> Callable:
    if name not in _RUNNERS:
        with contextlib.suppress(ImportError):
            import_string(name)  # importing the module registers its runners
    if name not in _RUNNERS:
        raise LookupError(f"{name} is not a registered job runner (decorate it with @job_runner)")
    return _RUNNERS[name]


# ---- starting and running ------------------------------------------------------------


def job_start(*, kind: str, user, params: dict, runner, title: str = "", input_file=None) -> BackgroundJob:
    """Create the job row and queue it to run after the current transaction commits.

    `runner`: a function decorated with @job_runner (or its dotted path). `params` must be
    JSON-serialisable. `input_file`: an uploaded file to keep for the runner (private
    storage; removed when the job finishes)."""
    job = BackgroundJob(
        kind=kind,
        title=title[:200],
        runner=_runner_path(runner),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        params=params or {},
        message="已加入队列，等待处理……",
    )
    if input_file is not None:
        job.input_file.save(PurePath(getattr(input_file, "name", "") or "input").name, input_file, save=False)
    job.save()
    transaction.on_commit(lambda: run_background_job.enqueue(job.pk))
    return job


@task()
def run_background_job(job_id: int) -> str:
    """The django-tasks entry point: run one job once."""
    return job_execute(job_id)


def job_execute(job_id: int) -> str:
    """Claim a queued job, run its runner, record the outcome. A job that is not queued
    (already run, or being run by another worker after a retry) is left alone."""
    claimed = BackgroundJob.objects.filter(pk=job_id, status=BackgroundJob.Status.QUEUED).update(
        status=BackgroundJob.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        message="正在处理……",
    )
    if not claimed:
        return "skipped"
    job = BackgroundJob.objects.select_related("created_by").get(pk=job_id)
    try:
        runner = _resolve(job.runner)
        with translation.override(settings.LANGUAGE_CODE):
            outcome = runner(job)
    except UserError as e:  # any user-facing refusal (JobError, ImportFileError, ExportError …)
        _finish(job, BackgroundJob.Status.FAILED, e.message)
    except Exception:
        logger.exception("background job %s (%s) failed", job.pk, job.runner)
        _finish(job, BackgroundJob.Status.FAILED, GENERIC_FAILURE.format(pk=job.pk))
    else:
        if outcome.content is not None:
            job.result_name = (outcome.filename or f"结果-{job.pk}")[:200]
            job.result_file.save(job.result_name, ContentFile(outcome.content), save=False)
        job.result_data = outcome.data or {}
        _finish(job, BackgroundJob.Status.SUCCEEDED, outcome.message)
    return job.status


def _finish(job: BackgroundJob, status: str, message: str) -> None:
    from .services import notify

    job.status = status
    job.message = (message or "")[:500]
    job.finished_at = timezone.now()
    if status == BackgroundJob.Status.SUCCEEDED and job.total:
        job.progress = job.total
    if job.input_file:
        try:
            job.input_file.delete(save=False)  # uploads may hold bank accounts: keep no copy
        except OSError:
            logger.warning("could not delete input file of job %s", job.pk)
    job.save(
        update_fields=[
            "status",
            "message",
            "finished_at",
            "progress",
            "result_file",
            "result_name",
            "result_data",
            "input_file",
        ]
    )
    if job.created_by_id:
        verb = "已完成" if status == BackgroundJob.Status.SUCCEEDED else "失败"
        notify(
            recipients=[job.created_by],
            title=f"后台任务{verb}：{job.title or job.kind}",
            body=job.message,
            url=job.get_absolute_url(),
            email=False,
        )


def job_progress(job: BackgroundJob, done: int, total: int | None = None, *, message: str | None = None) -> None:
    """Record progress. Writes to the database at most every PROGRESS_EVERY rows or once a
    second (and always at the end), each write autocommitted so the job page sees it."""
    if total is not None:
        job.total = total
    job.progress = done
    if message is not None:
        job.message = message[:500]
    last_done, last_time = getattr(job, "_progress_mark", (None, 0.0))
    now = time.monotonic()
    if (
        last_done is None
        or done >= job.total
        or done - last_done >= PROGRESS_EVERY
        or now - last_time >= PROGRESS_MIN_SECONDS
        or message is not None
    ):
        BackgroundJob.objects.filter(pk=job.pk).update(
            progress=job.progress, total=job.total, message=job.message, heartbeat_at=timezone.now()
        )
        job._progress_mark = (done, now)


# ---- housekeeping -------------------------------------------------------------------------


def stale_minutes() -> int:
    return int(getattr(settings, "JOBS_STALE_MINUTES", 30))


def _stale(now=None):
    cutoff = (now or timezone.now()) - datetime.timedelta(minutes=stale_minutes())
    running = BackgroundJob.objects.filter(status=BackgroundJob.Status.RUNNING)
    return running.filter(heartbeat_at__lt=cutoff) | running.filter(heartbeat_at__isnull=True, started_at__lt=cutoff)


def _fail_stale(job: BackgroundJob) -> bool:
    """Fail one stale job, unless its worker wrote progress meanwhile (conditional UPDATE)."""
    claimed = BackgroundJob.objects.filter(
        pk=job.pk, status=BackgroundJob.Status.RUNNING, heartbeat_at=job.heartbeat_at
    ).update(status=BackgroundJob.Status.FAILED)
    if claimed:
        logger.warning("background job %s (%s) stale since %s: failed", job.pk, job.runner, job.heartbeat_at)
        _finish(job, BackgroundJob.Status.FAILED, STALE_FAILURE.format(minutes=stale_minutes(), pk=job.pk))
    return bool(claimed)


def fail_stale_jobs(now=None) -> int:
    """Fail every running job with no progress write for JOBS_STALE_MINUTES. Returns how many."""
    return sum(_fail_stale(job) for job in _stale(now).select_related("created_by"))


def fail_if_stale(job: BackgroundJob) -> BackgroundJob:
    if job.status == BackgroundJob.Status.RUNNING and _stale().filter(pk=job.pk).exists() and _fail_stale(job):
        job.refresh_from_db()
    return job


def _delete_file(field) -> int:
    if not field:
        return 0
    try:
        field.storage.delete(field.name)
    except OSError:
        logger.warning("could not delete job file %s", field.name)
        return 0
    return 1


def prune_jobs(days: int | None = None, now=None) -> tuple[int, int]:
    """Delete finished jobs created more than `days` (JOBS_KEEP_DAYS) ago with their input
    and result files, and job files no row refers to any more. Stale running jobs are
    failed first. Returns (jobs deleted, files deleted)."""
    now = now or timezone.now()
    days = int(getattr(settings, "JOBS_KEEP_DAYS", 30) if days is None else days)
    cutoff = now - datetime.timedelta(days=days)
    fail_stale_jobs(now)
    old = BackgroundJob.objects.filter(
        created_at__lt=cutoff, status__in=[BackgroundJob.Status.SUCCEEDED, BackgroundJob.Status.FAILED]
    )
    files = jobs = 0
    for job in old.only("pk", "input_file", "result_file").iterator():
        files += _delete_file(job.input_file) + _delete_file(job.result_file)
        jobs += BackgroundJob.objects.filter(pk=job.pk).delete()[0]
    return jobs, files + _prune_orphans(cutoff)


def _prune_orphans(cutoff) -> int:
    """Files under jobs/ that no job refers to (a row deleted by hand, a result written
    by a worker that then died), older than the cutoff."""
    storage = BackgroundJob._meta.get_field("result_file").storage
    known = set()
    for names in BackgroundJob.objects.values_list("input_file", "result_file").iterator():
        known.update(n for n in names if n)
    deleted = 0
    try:
        months, _ = storage.listdir("jobs")
    except (FileNotFoundError, NotImplementedError):
        return 0
    for month in months:
        for name in storage.listdir(f"jobs/{month}")[1]:
            path = f"jobs/{month}/{name}"
            if path in known:
                continue
            try:
                if storage.get_modified_time(path) < cutoff:
                    storage.delete(path)
                    deleted += 1
            except (OSError, NotImplementedError):
                logger.warning("could not prune job file %s", path)
    return deleted


# ---- reads ------------------------------------------------------------------------------


def jobs_for(user):
    if not getattr(user, "is_authenticated", False):
        return BackgroundJob.objects.none()
    qs = BackgroundJob.objects.select_related("created_by")
    return qs if user.is_superuser else qs.filter(created_by=user)


def job_for_user_or_404(user, pk: int) -> BackgroundJob:
    job = jobs_for(user).filter(pk=pk).first()
    if job is None:
        raise Http404("任务不存在")
    return job


def status_payload(job: BackgroundJob) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "status_display": job.get_status_display(),
        "progress": job.progress,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
        "finished": job.is_finished,
        "download_url": reverse("jobs:download", args=[job.pk]) if job.result_file else "",
    }


# ---- views (inside the Wagtail admin) -------------------------------------------------------


@login_required
def job_list_view(request):
    jobs = jobs_for(request.user).filter(created_by=request.user)[:50]
    return render(request, "core/jobs/list.html", {"jobs": jobs, "page_title": "我的后台任务"})


@login_required
def job_detail_view(request, pk: int):
    job = fail_if_stale(job_for_user_or_404(request.user, pk))
    return render(
        request,
        "core/jobs/detail.html",
        {"job": job, "payload": status_payload(job), "page_title": job.title or "后台任务"},
    )


@login_required
def job_status_view(request, pk: int):
    job = fail_if_stale(job_for_user_or_404(request.user, pk))
    response = JsonResponse(status_payload(job), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def job_download_view(request, pk: int):
    job = job_for_user_or_404(request.user, pk)
    if not job.result_file:
        raise Http404("该任务没有可下载的文件")
    return serve_private(job.result_file, download_name=job.result_name or f"结果-{job.pk}", as_attachment=True)


job_urlpatterns = [
    path("", job_list_view, name="list"),
    path("<int:pk>/", job_detail_view, name="detail"),
    path("<int:pk>/status/", job_status_view, name="status"),
    path("<int:pk>/download/", job_download_view, name="download"),
]

# For a `register_admin_urls` hook: gives /admin/jobs/… with names "jobs:detail" etc.
urlpatterns = [path("jobs/", include((job_urlpatterns, "jobs"), namespace="jobs"))]
