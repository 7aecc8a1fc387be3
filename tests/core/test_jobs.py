import datetime
import io
import os

import pytest
from django.utils import timezone

from accounts.roles import Role
from core.jobs import JobError, JobOutcome, fail_stale_jobs, job_execute, job_progress, job_runner, job_start
from core.models import BackgroundJob, Notification
from tests.factories import UserFactory, staff

pytestmark = pytest.mark.django_db

SEEN_PROGRESS = []


@job_runner
def counting_runner(job):
    total = job.params["n"]
    for i in range(1, total + 1):
        job_progress(job, i, total)
        if i == total // 2:
            SEEN_PROGRESS.append(BackgroundJob.objects.get(pk=job.pk).progress)
    return JobOutcome(
        message=f"处理了 {total} 条。", content="编号\n1\n".encode(), filename="结果.csv", data={"n": total}
    )


@job_runner
def crashing_runner(job):
    raise RuntimeError("secret internal detail /srv/app/x.py line 3")


@job_runner
def refusing_runner(job):
    raise JobError("文件里没有数据。")


def _start(user, runner, **params):
    return job_start(kind="test", user=user, params=params, runner=runner, title="测试任务")


def _client(client, user):
    client.force_login(user)
    return client


def test_job_runs_after_commit_and_stores_its_result(regions, django_capture_on_commit_callbacks):
    user = staff(Role.CALL_MANAGER, regions["echeng"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = _start(user, counting_runner, n=1000)
        assert BackgroundJob.objects.get(pk=job.pk).status == BackgroundJob.Status.QUEUED
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert (job.progress, job.total, job.percent) == (1000, 1000, 100)
    assert job.message == "处理了 1000 条。"
    assert job.result_name == "结果.csv" and job.result_file
    assert job.result_data == {"n": 1000}
    assert job.started_at and job.finished_at
    assert SEEN_PROGRESS[-1] > 0  # progress was written while the runner was still going
    assert Notification.objects.filter(recipient=user, title__contains="已完成").exists()


def test_a_job_that_was_rolled_back_never_runs(regions, django_capture_on_commit_callbacks):
    from django.db import transaction

    user = staff(Role.CALL_MANAGER, regions["echeng"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                _start(user, counting_runner, n=1)
                raise ValueError
        except ValueError:
            pass
    assert callbacks == []
    assert not BackgroundJob.objects.exists()


def test_crash_gives_a_chinese_message_without_traceback(regions, django_capture_on_commit_callbacks):
    user = staff(Role.CALL_MANAGER, regions["echeng"])
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(user, crashing_runner)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED
    assert "任务执行出错" in job.message and f"#{job.pk}" in job.message
    assert "secret" not in job.message and "Traceback" not in job.message


def test_job_error_message_is_shown_as_is(regions, django_capture_on_commit_callbacks):
    user = staff(Role.CALL_MANAGER, regions["echeng"])
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(user, refusing_runner)
    job.refresh_from_db()
    assert (job.status, job.message) == (BackgroundJob.Status.FAILED, "文件里没有数据。")


def test_a_job_runs_only_once(regions, django_capture_on_commit_callbacks):
    user = staff(Role.CALL_MANAGER, regions["echeng"])
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(user, counting_runner, n=3)
    assert job_execute(job.pk) == "skipped"


def test_unregistered_runner_is_refused(regions):
    user = staff(Role.CALL_MANAGER, regions["echeng"])
    with pytest.raises(LookupError):
        job_start(kind="test", user=user, params={}, runner="os.system")


def test_job_page_status_and_download_for_the_creator_only(client, regions, django_capture_on_commit_callbacks):
    owner = staff(Role.CALL_MANAGER, regions["echeng"])
    other = staff(Role.CALL_MANAGER, regions["echeng"])
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(owner, counting_runner, n=10)

    c = _client(client, owner)
    page = c.get(f"/admin/jobs/{job.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "已完成" in html and f"/admin/jobs/{job.pk}/download/" in html and "<progress" in html
    status = c.get(f"/admin/jobs/{job.pk}/status/").json()
    assert status["status"] == "succeeded" and status["percent"] == 100 and status["finished"] is True
    download = c.get(f"/admin/jobs/{job.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == "编号\n1\n".encode()
    assert "attachment" in download["Content-Disposition"]
    assert c.get("/admin/jobs/").status_code == 200

    c.logout()
    c = _client(client, other)
    for url in (f"/admin/jobs/{job.pk}/", f"/admin/jobs/{job.pk}/status/", f"/admin/jobs/{job.pk}/download/"):
        assert c.get(url).status_code == 404

    c.logout()
    admin = UserFactory(is_superuser=True, is_staff=True)
    c = _client(client, admin)
    assert c.get(f"/admin/jobs/{job.pk}/").status_code == 200


def test_running_job_page_polls_its_status(client, regions):
    owner = staff(Role.CALL_MANAGER, regions["echeng"])
    job = BackgroundJob.objects.create(
        kind="test", runner="x", created_by=owner, status=BackgroundJob.Status.RUNNING, progress=30, total=120
    )
    c = _client(client, owner)
    html = c.get(f"/admin/jobs/{job.pk}/").content.decode()
    assert "进行中" in html and "已处理 30 / 120（25%）" in html
    assert f"/admin/jobs/{job.pk}/status/" in html and "fetch(" in html
    assert c.get(f"/admin/jobs/{job.pk}/status/").json()["percent"] == 25


def test_progress_writes_are_throttled(regions):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = staff(Role.CALL_MANAGER, regions["echeng"])
    job = BackgroundJob.objects.create(kind="test", runner="x", created_by=owner)
    with CaptureQueriesContext(connection) as ctx:
        for i in range(1, 1001):
            job_progress(job, i, 1000)
    assert len(ctx.captured_queries) <= 1000 // 200 + 3
    job.refresh_from_db()
    assert (job.progress, job.total) == (1000, 1000)


# ---- a worker that died, old jobs, user-facing errors --------------------------------------------


@job_runner
def import_refusing_runner(job):
    from core.excel import ImportFileError

    raise ImportFileError("表头缺少必填列：类型。")


def test_any_user_error_fails_the_job_with_its_message(regions, django_capture_on_commit_callbacks):
    user = staff(Role.CALL_MANAGER, regions["echeng"])
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(user, import_refusing_runner)
    job.refresh_from_db()
    assert (job.status, job.message) == (BackgroundJob.Status.FAILED, "表头缺少必填列：类型。")


def test_progress_writes_a_heartbeat(regions):
    owner = staff(Role.CALL_MANAGER, regions["echeng"])
    job = BackgroundJob.objects.create(kind="test", runner="x", created_by=owner, status=BackgroundJob.Status.RUNNING)
    job_progress(job, 1, 10)
    job.refresh_from_db()
    assert job.heartbeat_at is not None


def _running(owner, *, minutes_ago: int, **kwargs):
    from django.core.files.base import ContentFile

    then = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    job = BackgroundJob(
        kind="test", runner="x", created_by=owner, status=BackgroundJob.Status.RUNNING, started_at=then, **kwargs
    )
    job.input_file.save("名录.xlsx", ContentFile(b"PK"), save=False)
    job.save()
    BackgroundJob.objects.filter(pk=job.pk).update(heartbeat_at=then)
    return job


def test_a_job_whose_worker_died_is_failed_with_a_chinese_message(client, regions):
    owner = staff(Role.CALL_MANAGER, regions["echeng"])
    dead = _running(owner, minutes_ago=45)
    alive = _running(owner, minutes_ago=2)
    storage, upload = dead.input_file.storage, dead.input_file.name

    assert fail_stale_jobs() == 1
    dead.refresh_from_db()
    assert dead.status == BackgroundJob.Status.FAILED and dead.finished_at
    assert "任务已中断" in dead.message and "30 分钟" in dead.message and f"#{dead.pk}" in dead.message
    assert not dead.input_file and not storage.exists(upload)  # the upload is not kept
    assert Notification.objects.filter(recipient=owner, title__contains="失败").exists()
    alive.refresh_from_db()
    assert alive.status == BackgroundJob.Status.RUNNING
    assert fail_stale_jobs() == 0

    # the job's own page notices too, without waiting for the daily command
    other = _running(owner, minutes_ago=31)
    client.force_login(owner)
    status = client.get(f"/admin/jobs/{other.pk}/status/").json()
    assert status["status"] == "failed" and "任务已中断" in status["message"]


def test_prune_jobs_deletes_old_jobs_and_their_files(regions, settings, tmp_path):
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    owner = staff(Role.CALL_MANAGER, regions["echeng"])

    def finished(days_ago: int) -> BackgroundJob:
        job = BackgroundJob(kind="test", runner="x", created_by=owner, status=BackgroundJob.Status.SUCCEEDED)
        job.result_file.save("结果.xlsx", ContentFile(b"result"), save=False)
        job.save()
        BackgroundJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(days=days_ago))
        return job

    old, recent = finished(31), finished(29)
    storage = old.result_file.storage
    old_file, recent_file = old.result_file.name, recent.result_file.name
    # a result no row refers to any more (its job deleted by hand), and an old stuck job
    orphan = storage.save("jobs/200001/orphan.xlsx", ContentFile(b"x"))
    stamp = (timezone.now() - datetime.timedelta(days=40)).timestamp()
    os.utime(storage.path(orphan), (stamp, stamp))
    stuck = _running(owner, minutes_ago=60 * 24 * 40)
    BackgroundJob.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))

    out = io.StringIO()
    call_command("prune_jobs", stdout=out)
    assert "1 个中断的任务" in out.getvalue() and "删除了 2 个过期任务" in out.getvalue()
    assert set(BackgroundJob.objects.values_list("pk", flat=True)) == {recent.pk}
    assert not storage.exists(old_file) and not storage.exists(orphan)
    assert storage.exists(recent_file)

    settings.JOBS_KEEP_DAYS = 10
    call_command("prune_jobs", stdout=io.StringIO())
    assert not BackgroundJob.objects.exists() and not storage.exists(recent_file)
