"""Benchmark: import 10,000 organisations from Excel, then import the same file again.

    .venv/bin/python bench/import_orgs.py            # throwaway SQLite file in a temp dir
    DATABASE_URL=postgres://… .venv/bin/python bench/import_orgs.py   # an existing, migrated,
                                                                        # disposable database
    .venv/bin/python bench/import_orgs.py --rows 2000 --keep

Uses config.settings.test (immediate tasks, MD5 hashing). Prints the time to build the
file, the first import, the re-import (which must change nothing) and the counts.
"""

import argparse
import datetime
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "site")]


def setup(var_dir: Path):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["VAR_DIR"] = str(var_dir)  # test settings put SQLite and private files here
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def build_regions():
    from accounts.models import Region

    if Region.objects.filter(code="420700").exists():
        return list(Region.objects.filter(level=Region.Level.COMMUNITY).order_by("code")) or list(
            Region.objects.filter(level=Region.Level.STREET)
        )
    city = Region.add_root(code="420700", name="鄂州市", level=Region.Level.CITY)
    communities = []
    for d in range(1, 4):
        dcode = f"4207{d:02d}"
        district = Region.objects.get(pk=city.pk).add_child(code=dcode, name=f"测试{d}区", level=Region.Level.DISTRICT)
        for s in range(1, 6):
            scode = f"{dcode}{s:03d}"
            street = Region.objects.get(pk=district.pk).add_child(
                code=scode, name=f"测试{d}区{s}街道", level=Region.Level.STREET
            )
            for c in range(1, 5):
                communities.append(
                    Region.objects.get(pk=street.pk).add_child(
                        code=f"{scode}{c:03d}", name=f"测试{d}区{s}街道{c}社区", level=Region.Level.COMMUNITY
                    )
                )
    return communities


def make_uscc(seq: int, type_code: str, division: str) -> str:
    from orgs.validators import orgcode_check_char, uscc_check_char

    body = f"MC{seq % 10**6:06d}"
    first17 = f"5{type_code}{division}{body}{orgcode_check_char(body)}"
    return first17 + uscc_check_char(first17)


def build_file(rows: int, regions) -> bytes:
    from openpyxl import Workbook

    from orgs.imports import COLUMNS
    from orgs.models import OrgType, ServiceArea

    rng = random.Random(2026)
    areas = list(ServiceArea.objects.values_list("name", flat=True))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("社会组织")
    ws.append([c.header for c in COLUMNS])
    kinds = [("社会团体", "1"), ("民办非企业单位（社会服务机构）", "2"), ("基金会", "3")]
    for i in range(1, rows + 1):
        region = regions[i % len(regions)]
        bucket = i % 10
        uscc = filing = sponsor = ""
        if bucket < 7:
            label, code = kinds[i % 3]
            uscc = make_uscc(i, code, region.code[:6])
        elif bucket < 9:
            label, filing, sponsor = OrgType.COMMUNITY_FILED.label, f"鄂备{i:07d}", region.name + "居委会"
        else:
            label = OrgType.PREPARING.label
        name = f"鄂州市{region.name}第{i}号公益服务中心"
        values = {
            "name": name,
            "org_type": label,
            "uscc": uscc,
            "filing_number": filing,
            "sponsor_name": sponsor,
            "registration_authority": "鄂州市民政局" if uscc else "",
            "supervisory_unit": "",
            "legal_representative": f"负责人{i}",
            "founded_on": datetime.date(2010 + i % 14, 1 + i % 12, 1 + i % 28),
            "registered_capital": 30000 + (i % 50) * 1000 if uscc else None,
            "address": f"湖北省鄂州市{region.name}{i}号",
            "region": region.code,
            "service_areas": "、".join(rng.sample(areas, 2)),
            "contact_name": f"联系人{i}",
            "contact_phone": f"139{i:08d}",
            "email": f"org{i}@example.org",
            "bank_name": "湖北银行鄂州分行" if uscc else "",
            "bank_account_name": name if uscc else "",
            "bank_account": f"6221{i:012d}" if uscc else "",
            "introduction": "为社区居民提供志愿服务和互助活动。",
        }
        ws.append([values[c.key] for c in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row_bomb(content: bytes, *, dense: bool) -> bytes:
    """`content` with its sheet declaring 5,000,000 rows: `dense`, as 5 million empty <row/>
    elements (about 30 KB zipped); otherwise a dimension of A1:XFD5000000 and one cell in
    the last row, which openpyxl fills up to with empty rows."""
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.infolist():
            data = src.read(item.filename).decode("utf-8", "surrogateescape")
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD5000000"/>', data)
                head, tail = data.split("</sheetData>")
                if dense:
                    with dst.open(item.filename, "w") as f:
                        f.write(head.encode())
                        block = b"<row/>" * 100_000
                        for _ in range(50):  # 5,000,000 empty rows
                            f.write(block)
                        f.write(("</sheetData>" + tail).encode())
                    continue
                data = (
                    head
                    + '<row r="5000000"><c r="A5000000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
                    + tail
                )
            dst.writestr(item, data.encode("utf-8", "surrogateescape"))
    return out.getvalue()


def bench_row_bombs(user, regions) -> bool:
    """Defect 11: files declaring 5 million rows must be refused fast and small."""
    import resource

    from accounts.models import User
    from core.excel import ImportFileError
    from orgs.imports import import_organisations

    small = build_file(1, regions)
    ok = True
    for dense in (True, False):
        bomb = row_bomb(small, dense=dense)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        try:
            import_organisations(io.BytesIO(bomb), user=User.objects.get(pk=user.pk))
            outcome = "未被拒绝！"
            ok = False
        except ImportFileError as e:
            outcome = f"已拒绝：{e.message}"
        seconds = time.perf_counter() - t
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        shape = "500万个空行元素" if dense else "声明500万行、末行有值"
        print(
            f"{len(bomb) / 1024:.0f} KB 的文件（{shape}）：{seconds:.1f} 秒，峰值内存增加 {grown:.0f} MB —— {outcome}"
        )
        ok = ok and seconds <= 10
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    t0 = time.perf_counter()
    setup(var_dir)
    print(
        f"数据库：{os.environ.get('DATABASE_URL') or var_dir / 'test.sqlite3'}（迁移用时 {time.perf_counter() - t0:.1f} 秒）"
    )

    from django.db import connection

    from accounts.models import User
    from accounts.roles import Role, grant_role
    from orgs.imports import import_organisations
    from orgs.models import Organisation

    regions = build_regions()
    if Organisation.objects.exists():
        print(
            f"注意：数据库里已有 {Organisation.objects.count()} 个组织，首次导入的计数会受影响；请使用空的一次性数据库。"
        )
    city = regions[0].get_root()
    user, _ = User.objects.get_or_create(username="bench_importer", defaults={"name": "基准测试", "region": city})
    grant_role(user, Role.CALL_MANAGER)

    t = time.perf_counter()
    content = build_file(args.rows, regions)
    print(f"生成 {args.rows} 行 Excel：{time.perf_counter() - t:.1f} 秒，{len(content) / 1024 / 1024:.1f} MB")

    timings = []
    for attempt in (1, 2):
        user = User.objects.get(pk=user.pk)  # fresh permission cache
        t = time.perf_counter()
        result = import_organisations(io.BytesIO(content), user=user)
        seconds = time.perf_counter() - t
        timings.append(seconds)
        label = "首次导入" if attempt == 1 else "重复导入"
        print(f"{label}：{seconds:.1f} 秒 —— {result.summary_text()}")
        if result.rejected:
            for r in result.rejected[:5]:
                print(f"  第{r.row}行：{r.reason}")
    print(f"数据库中的组织数：{Organisation.objects.count()}（{connection.vendor}）")

    bomb_ok = bench_row_bombs(user, regions)

    from orgs.exports import export_workbook

    t = time.perf_counter()
    exported, rows = export_workbook(User.objects.get(pk=user.pk), {})
    print(f"导出全部（{rows} 行，{len(exported) / 1024 / 1024:.1f} MB）：{time.perf_counter() - t:.1f} 秒")
    ok = timings[0] <= 60 and timings[1] <= 60 and bomb_ok
    print("结论：" + ("符合 ≤ 60 秒的要求" if ok else "超过 60 秒的要求！"))
    if args.keep:
        print(f"临时目录保留在 {var_dir}")
    else:
        import shutil

        connection.close()
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
