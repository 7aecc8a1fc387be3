"""Time of the 项目协议书 PDF (grants.pdf_agreement): one agreement, and a batch of 100 through
`render_pdf agreement`.

    .venv/bin/python bench/agreement_pdf.py                   # SQLite, a throwaway database
    .venv/bin/python bench/agreement_pdf.py --batch 300 --repeat 15
    .venv/bin/python bench/agreement_pdf.py --keep            # keep the temporary directory (the PDFs)

Builds its own database (config.settings.test with VAR_DIR in a temporary directory), with one
decided street call and N approved projects written by bulk_create (each of its own
organisation with a USCC and a bank account, three KPIs), then draws up each agreement
through grants.services.agreements.agreement_draw_up (the call's default template), and
times:

- one agreement's PDF (query, context, template, WeasyPrint): the first in the process
  (WeasyPrint imported, fonts loaded) and the median of `repeat` more;
- `python manage.py render_pdf agreement --call ID --output-dir DIR`: all N written to disk.

Targets: one agreement ≤ 1 s (the median); the batch is reported (seconds, per file).
Exits 1 when the target is missed."""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "site")]
LIMIT = 1.0  # seconds, the median of one agreement


def setup(var_dir: Path):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["VAR_DIR"] = str(var_dir)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def build(n: int):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Region, User
    from accounts.roles import Role, grant_role
    from grants.models import KPI, Call, CallLevel, CallStatus, Proposal, ProposalStatus
    from grants.services.agreements import agreement_draw_up
    from orgs.models import Organisation, OrgType, ServiceArea

    city = Region.add_root(code="420700", name="鄂州市", level=Region.Level.CITY)
    district = Region.objects.get(pk=city.pk).add_child(code="420704", name="鄂城区", level=Region.Level.DISTRICT)
    street = Region.objects.get(pk=district.pk).add_child(code="420704001", name="凤凰街道", level=Region.Level.STREET)
    manager = User.objects.create(username="bench_manager", name="基准测试主管", region=street)
    grant_role(manager, Role.CALL_MANAGER)
    today = timezone.localdate()
    d = timedelta
    call = Call.objects.create(
        title=f"凤凰街道{today.year}年公益创投项目征集",
        year=today.year,
        level=CallLevel.STREET,
        region=street,
        organiser="凤凰街道民政办",
        status=CallStatus.DECIDED,
        pool_total=Decimal("10000000"),
        apply_from=today - d(days=120),
        apply_until=today - d(days=90),
        eligibility_until=today - d(days=80),
        review_from=today - d(days=79),
        review_until=today - d(days=60),
        publicity_from=today - d(days=59),
        publicity_until=today - d(days=52),
        implement_from=today + d(days=10),
        implement_until=today + d(days=375),
    )
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"鄂州市凤凰街道长者关爱服务中心{i}号",
                org_type=OrgType.SERVICE_ORG,
                uscc=f"52420704MJ{i:07d}X",
                legal_representative="张三",
                address="湖北省鄂州市鄂城区凤凰街道1号",
                region=street,
                contact_name="张三",
                contact_phone="13800000000",
                bank_name="中国工商银行鄂州凤凰支行",
                bank_account_name=f"鄂州市凤凰街道长者关爱服务中心{i}号",
                bank_account=f"18170201092{i:08d}",
                status=Organisation.Status.VERIFIED,
            )
            for i in range(n)
        ]
    )
    area = ServiceArea.objects.first()
    proposals = Proposal.objects.bulk_create(
        [
            Proposal(
                call=call,
                organisation=org,
                number=f"GY{today.year}-{call.pk:03d}-{i + 1:05d}",
                status=ProposalStatus.APPROVED,
                title=f"社区长者助餐陪伴计划{i}号",
                category=area,
                start_month=call.implement_from.replace(day=1),
                end_month=call.implement_until.replace(day=1),
                budget_total=Decimal("100000"),
                grant_amount=Decimal("60000"),
                awarded_amount=Decimal("60000.00") - (i % 7) * Decimal("1000.50"),
            )
            for i, org in enumerate(orgs)
        ]
    )
    Proposal.places.through.objects.bulk_create([Proposal.places.through(proposal=p, region=street) for p in proposals])
    KPI.objects.bulk_create(
        [
            KPI(proposal=p, position=j, indicator=name, target=Decimal(target), unit=unit, method=method)
            for p in proposals
            for j, (name, target, unit, method) in enumerate(
                [
                    ("服务老人", "120", "人", "签到表"),
                    ("助餐服务", "2400", "人次", "服务台账"),
                    ("满意度", "90", "%", "问卷"),
                ]
            )
        ]
    )
    for p in Proposal.objects.filter(call=call).select_related("call__region", "organisation"):
        agreement_draw_up(proposal=p, by=manager)
    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_agreement_"))
    setup(tmp)
    from django.core.management import call_command

    from core.pdf import cjk_font_available
    from grants.models import Agreement
    from grants.pdf_agreement import agreement_for_pdf, agreement_pdf

    if not cjk_font_available():
        print("Noto Sans CJK SC 未安装：PDF 中文会显示为方框", file=sys.stderr)
        return 1
    t = time.perf_counter()
    call = build(args.batch)
    print(f"built {args.batch} agreements in {time.perf_counter() - t:.1f} s")
    pk = Agreement.objects.order_by("pk").values_list("pk", flat=True).first()

    t = time.perf_counter()
    size = len(agreement_pdf(agreement_for_pdf(pk)))
    first = time.perf_counter() - t
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        agreement_pdf(agreement_for_pdf(pk))
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    print(
        f"one agreement PDF ({size // 1024} KB): first {first:.2f} s, median of {args.repeat} {median:.2f} s, "
        f"max {max(times):.2f} s (limit {LIMIT:.1f} s)"
    )

    out = tmp / "pdf"
    t = time.perf_counter()
    lines = io.StringIO()
    call_command(
        "render_pdf", "agreement", "--call", str(call.pk), "--output-dir", str(out), stdout=lines, stderr=io.StringIO()
    )
    batch = time.perf_counter() - t
    written = len(lines.getvalue().splitlines())
    total = sum(f.stat().st_size for f in out.iterdir())
    print(
        f"render_pdf agreement --call: {written} files, {total // 1024} KB, {batch:.1f} s "
        f"({batch / max(written, 1):.2f} s per file)"
    )
    if args.keep:
        print(f"kept {tmp}")
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    missed = median > LIMIT or written != args.batch
    print("MISSED" if missed else "ok")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
