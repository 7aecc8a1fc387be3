"""manage.py grants_daily [--date YYYY-MM-DD] [--enqueue]: calls follow their timelines
(需求征集 → 申报 → 截止 → 评审, never past 评审) and overdue corrections become ineligible.

Run daily, shortly after midnight, by cron or a systemd timer (like deploy/gongyi-prune-jobs.timer)."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from grants.tasks import grants_daily, run_daily


class Command(BaseCommand):
    help = "按时间表推进项目征集的状态，并把逾期未补正的申报书标记为资格审查未通过。"

    def add_arguments(self, parser):
        parser.add_argument("--date", default=None, help="按哪一天处理（YYYY-MM-DD，默认今天）")
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务队列执行，而不是在本进程中执行")

    def handle(self, *args, date=None, enqueue=False, **options):
        if date:
            try:
                datetime.date.fromisoformat(date)
            except ValueError:
                raise CommandError(f"日期格式不正确：{date}（应为 YYYY-MM-DD）。") from None
        if enqueue:
            result = grants_daily.enqueue(date)
            self.stdout.write(self.style.SUCCESS(f"已加入后台任务队列（任务编号 {result.id}）。"))
            return
        done = run_daily(datetime.date.fromisoformat(date) if date else None)
        moved = done["calls_moved"]
        self.stdout.write(
            self.style.SUCCESS(
                f"{done['date']}：推进了 {len(moved)} 次项目征集状态；"
                f"{done['corrections_expired']} 份逾期未补正的申报书标记为资格审查未通过。"
            )
        )
