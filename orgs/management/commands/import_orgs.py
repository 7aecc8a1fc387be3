"""python manage.py import_orgs 名录.xlsx [--user USERNAME]

Imports organisations from an .xlsx (same rules as the admin screen, see orgs/imports.py),
prints a Chinese summary and every rejected row, and writes the rejected rows with their
reasons to 名录-rejected.xlsx next to the file. Exits 0 even when rows were rejected;
non-zero when the file is missing or not an .xlsx, or the user may not import.

With --user the import runs as that staff member: their region scope applies and they are
recorded as the verifier in the audit log. Without it the import runs as the system
(every region; the audit log records no user)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import UserError
from core.files import sniff
from orgs.imports import can_import, import_organisations


class Command(BaseCommand):
    help = "从 Excel（.xlsx）批量导入社会组织。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx 文件")
        parser.add_argument("--user", dest="username", help="以该工作人员身份导入（按其管辖区域校验，并记为审核人）")

    def handle(self, *args, file, username=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        with path.open("rb") as f:
            kind = sniff(f)
        if kind != "xlsx" or path.suffix.lower() != ".xlsx":
            raise CommandError(f"“{path.name}”不是 Excel .xlsx 文件（不支持 .xls、.csv 或仅修改扩展名的文件）。")

        user = None
        if username:
            from accounts.models import User

            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"用户“{username}”不存在。")
            if not can_import(user):
                raise CommandError(f"用户“{username}”没有批量导入社会组织的权限。")

        def progress(done, total):
            if total and done and (done % 2000 == 0 or done == total) and options.get("verbosity", 1) > 1:
                self.stdout.write(f"已处理 {done}/{total} 行……")

        try:
            with path.open("rb") as f:
                result = import_organisations(f, user=user, progress=progress)
        except UserError as e:
            raise CommandError(e.message)

        self.stdout.write(self.style.SUCCESS(result.summary_text()))
        if result.verified:
            self.stdout.write(f"其中 {result.verified} 个新组织已直接认证（批量导入（登记管理机关数据））。")
        if result.rejected:
            self.stdout.write(self.style.WARNING(f"以下 {len(result.rejected)} 行未导入："))
            for r in result.rejected:
                self.stdout.write(f"  第{r.row}行：{r.reason}")
            out = path.with_name(f"{path.stem}-rejected.xlsx")
            out.write_bytes(result.rejected_workbook())
            self.stdout.write(f"未导入的行及错误原因已写入：{out}")
