"""manage.py index_projects: put every public project (approved onward) into the search
index of 资助项目. Saves keep the index current by themselves (grants.search); run this
after rows were written in bulk (seed_volume, an import) or to repair the index."""

from django.core.management.base import BaseCommand

from grants.search import reindex_all


class Command(BaseCommand):
    help = "重建资助项目的检索索引（批量导入或生成数据后运行）。"

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=500, help="每批索引的项目数（默认 500）")

    def handle(self, *args, chunk, **options):
        say = self.stdout.write if options.get("verbosity", 1) > 1 else None
        done = reindex_all(chunk=max(1, chunk), say=say)
        if options.get("verbosity", 1):
            self.stdout.write(self.style.SUCCESS(f"已索引资助项目 {done} 个。"))
