"""python manage.py export_ranking --call ID --output FILE.xlsx: the ranking workbook of a
call, the same file as 导出 Excel on its ranking screen (grants.exports_ranking)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grants.exports_ranking import ranking_workbook
from grants.models import Call


class Command(BaseCommand):
    help = "导出一次征集的评审排名（Excel）"

    def add_arguments(self, parser):
        parser.add_argument("--call", type=int, required=True, help="征集编号（ID）")
        parser.add_argument("--output", required=True, help="输出文件，如 ranking.xlsx")

    def handle(self, *args, call, output, **options):
        found = Call.objects.filter(pk=call).first()
        if found is None:
            raise CommandError(f"没有编号为 {call} 的征集。")
        path = Path(output)
        if path.suffix.lower() != ".xlsx":
            raise CommandError("输出文件须以 .xlsx 结尾。")
        if not path.parent.exists():
            raise CommandError(f"目录不存在：{path.parent}")
        content = ranking_workbook(found)
        path.write_bytes(content)
        self.stdout.write(f"已导出“{found.title}”的评审排名：{path}（{len(content)} 字节）")
