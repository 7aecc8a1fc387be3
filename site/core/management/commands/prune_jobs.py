"""manage.py prune_jobs [--days N]: fail background jobs whose worker died, then delete
jobs older than JOBS_KEEP_DAYS (default 30) with their input and result files.

Run daily by deploy/gongyi-prune-jobs.timer."""

from django.core.management.base import BaseCommand, CommandError

from core.jobs import fail_stale_jobs, prune_jobs


class Command(BaseCommand):
    help = "把已中断的后台任务标记为失败，并删除超过保留期的后台任务及其文件。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="保留天数（默认取 JOBS_KEEP_DAYS，30 天）")

    def handle(self, *args, days=None, **options):
        if days is not None and days < 1:
            raise CommandError("保留天数至少为 1 天。")
        stale = fail_stale_jobs()
        jobs, files = prune_jobs(days)
        self.stdout.write(
            self.style.SUCCESS(f"已将 {stale} 个中断的任务标记为失败；删除了 {jobs} 个过期任务、{files} 个文件。")
        )
