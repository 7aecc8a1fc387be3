"""python manage.py render_pdf KIND --output-dir DIR [--id ID] [--call ID]: the system's
documents as PDF files for printing, in batch, one line per file written.

KIND is one of grants.documents.KINDS: agreement (项目协议书), proposal (项目申报书),
evaluation (项目评估报告, the submitted evaluations), residence_agreement (孵化基地入驻协议),
certificate (出壳证书), and any kind another module registers. Without --id or --call,
every object that has the document; --call narrows to one call (not for the incubator's
documents), --id to one object (an agreement's, a proposal's, an evaluation's or a stay's
ID). An unknown kind, ID or call, or an empty selection, is an error that says so (exit
status 1) and writes nothing."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.files import safe_filename
from grants.documents import KINDS


def kinds_text() -> str:
    return "、".join(f"{name}（{kind.label}）" for name, kind in KINDS.items())


class Command(BaseCommand):
    help = "批量生成文档 PDF 以便打印：项目协议书、申报书、入驻协议、出壳证书等"

    def add_arguments(self, parser):
        parser.add_argument(
            "kind", help="文档类型：agreement、proposal、evaluation、residence_agreement、certificate 等"
        )
        parser.add_argument("--output-dir", required=True, help="输出目录（不存在时创建）")
        parser.add_argument("--id", type=int, dest="object_id", help="只生成这一个对象（ID）的文档")
        parser.add_argument("--call", type=int, dest="call_id", help="只生成这次征集（ID）的文档")

    def handle(self, *args, kind, output_dir, object_id=None, call_id=None, **options):
        document = KINDS.get(kind)
        if document is None:
            raise CommandError(f"未知的文档类型“{kind}”。可用的类型：{kinds_text()}。")
        selection, where = self._select(document, object_id, call_id)
        objects = list(selection)
        if not objects:
            raise CommandError(f"没有可生成的{document.label}{where}。")
        out = Path(output_dir)
        if out.exists() and not out.is_dir():
            raise CommandError(f"输出目录“{out}”是一个文件，请换一个目录。")
        out.mkdir(parents=True, exist_ok=True)
        used = set()
        for obj in objects:
            name = safe_filename(document.filename(obj), default=f"{kind}-{obj.pk}.pdf")
            if name in used:  # two documents of the same name: tell them apart by the ID
                stem, _, ext = name.rpartition(".")
                name = f"{stem}-{obj.pk}.{ext}"
            used.add(name)
            content = document.render(obj)
            path = out / name
            path.write_bytes(content)
            self.stdout.write(f"{path}（{len(content)} 字节）")
        sys.stderr.write(f"共生成{len(objects)}份{document.label}，保存在 {out}\n")

    def _select(self, document, object_id, call_id):
        qs, where = document.objects(), ""
        if call_id is not None:
            from grants.models import Call

            if document.in_call is None:
                raise CommandError(f"{document.label}不属于某次征集，不能用 --call 选择；请用 --id 或不加选择。")
            call = Call.objects.filter(pk=call_id).first()
            if call is None:
                raise CommandError(f"没有编号为 {call_id} 的征集。")
            qs, where = document.in_call(qs, call_id), f"（征集“{call.title}”）"
        if object_id is not None:
            found = qs.filter(pk=object_id)
            if not found.exists():
                model = qs.model._meta.verbose_name
                raise CommandError(
                    f"没有编号为 {object_id} 的{document.label}{where}：该{model}不存在，或还没有这份文件。"
                )
            qs = found
        return qs, where
