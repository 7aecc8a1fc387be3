"""python manage.py seed_volume --proposals N [--seed S]

Realistic volume for benchmarks in the configured database, empty or holding the demo
(grants/volume/). Tops up: the volume calls end up holding N proposals in all, so a second
run with the same N adds nothing and a larger N adds the difference. Prints each phase's
time."""

from django.core.management.base import BaseCommand, CommandError

from grants.volume import seed_volume


class Command(BaseCommand):
    help = "生成性能测试用的批量数据：各级征集（近五年）、各状态的申报项目及其预算、活动、团队和办理记录。可重复运行，补足到指定数量。"

    def add_arguments(self, parser):
        parser.add_argument("--proposals", type=int, default=5000, help="批量征集中申报项目的总数（默认 5000）")
        parser.add_argument("--seed", type=int, default=420700, help="随机数种子（同一种子、同一数据库得到相同的数据）")

    def handle(self, *args, proposals, seed, **options):
        if proposals < 1:
            raise CommandError("--proposals 须为正整数。")
        result = seed_volume(proposals, seed=seed, say=self.stdout.write)
        seconds, added = result["seconds"], result["added"]
        if result["total"] == result["have"]:
            self.stdout.write(
                self.style.SUCCESS(f"批量征集已有 {result['have']} 个申报项目，无需补充（{seconds['total']:.1f} 秒）。")
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"新增申报项目 {added.get('proposals', 0)} 个（批量征集共 {result['total']} 个），"
                f"用时 {seconds['total']:.1f} 秒。"
            )
        )
