"""python manage.py export_grants --format 360giving --output FILE: every awarded grant as open
data in the 360Giving Data Standard, the same content as /opendata/grants.json and
/opendata/grants.csv (grants.opendata). JSON or CSV by the file's suffix (.json / .csv).
The package is checked against the standard's JSON Schema before the file is written; a file
that would break it is not written."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grants import opendata

FORMATS = ("360giving",)


class Command(BaseCommand):
    help = "按 360Giving 数据标准导出全部已立项项目（JSON 或 CSV，按输出文件的扩展名）"

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", choices=FORMATS, default="360giving", help="数据标准：360giving")
        parser.add_argument("--output", required=True, help="输出文件：grants.json 或 grants.csv")

    def handle(self, *args, fmt, output, **options):
        path = Path(output)
        suffix = path.suffix.lower()
        if suffix not in opendata.FORMATS:
            shown = f"“{suffix}”" if suffix else "（没有扩展名）"
            raise CommandError(
                f"不支持的文件类型{shown}：--output 的文件名须以 .json 或 .csv 结尾，如 grants.json、grants.csv。"
            )
        if not path.parent.exists():
            raise CommandError(f"目录不存在：{path.parent}")
        package = opendata.grants_package()
        if package["grants"]:
            try:
                opendata.validate_package(package)
            except ValueError as e:
                raise CommandError(f"导出的数据未通过 360Giving 标准校验，未写入文件。{e}") from e
        content = opendata.FORMATS[suffix](package)
        path.write_bytes(content)
        n = len(package["grants"])
        note = "" if n else "（目前没有已立项的项目）"
        self.stdout.write(f"已按 360Giving 数据标准导出 {n} 个立项项目{note}：{path}（{len(content)} 字节）")
