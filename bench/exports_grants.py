"""Time of the funded-project exports at volume: the Excel exports of /admin/grants/exports/
(grants.exports_funding: 立项项目, 拨付, 评估, 进度报告) and the 360Giving open data
(grants.opendata: the JSON and CSV files, the schema check of export_grants).

    .venv/bin/python bench/exports_grants.py                  # SQLite, a throwaway database
    .venv/bin/python bench/exports_grants.py --projects 2000  # fewer projects
    .venv/bin/python bench/exports_grants.py --keep           # keep the temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gongyi_bench_exports .venv/bin/python bench/exports_grants.py

Builds its own database (config.settings.test with VAR_DIR in a temporary directory, unless
DATABASE_URL is set), with 1 市 3 区 15 街道, 15 decided calls and N awarded projects written by
bulk_create (each of its own organisation with a USCC, one place, three tranches, a mid-term
evaluation and two progress reports), then times each export as a city-level call manager
sees it (the whole city), the workbook built in memory exactly as the background job does.

Target: the 立项项目 export of 10,000 projects ≤ 10 s. Exits 1 when it is missed."""

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "site")]
LIMIT = 10.0  # seconds, the 立项项目 export of 10,000 projects


def setup(var_dir: Path):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["VAR_DIR"] = str(var_dir)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def build(n: int):
    from django.utils import timezone

    from accounts.models import Region, User
    from accounts.roles import Role, grant_role
    from grants.models import Call, CallLevel, CallStatus, Evaluation, ProgressReport, Proposal, ProposalStatus, Tranche
    from orgs.models import Organisation, OrgType, ServiceArea

    city = Region.add_root(code="420700", name="鄂州市", level=Region.Level.CITY)
    streets = []
    for d in range(1, 4):
        district = Region.objects.get(pk=city.pk).add_child(
            code=f"4207{d:02d}", name=f"测试{d}区", level=Region.Level.DISTRICT
        )
        for s in range(1, 6):
            streets.append(
                Region.objects.get(pk=district.pk).add_child(
                    code=f"4207{d:02d}{s:03d}", name=f"测试{d}区{s}街道", level=Region.Level.STREET
                )
            )
    manager = User.objects.create(username="bench_exporter", name="基准测试", region=city)
    grant_role(manager, Role.CALL_MANAGER)
    area = ServiceArea.objects.first()
    today = timezone.localdate()
    d = timedelta
    calls = Call.objects.bulk_create(
        [
            Call(
                title=f"{street.name}{today.year}年公益创投项目征集",
                year=today.year,
                level=CallLevel.STREET,
                region=street,
                organiser=f"{street.name}民政办",
                status=CallStatus.IMPLEMENTING,
                pool_total=Decimal("5000000"),
                apply_from=today - d(days=120),
                apply_until=today - d(days=90),
                eligibility_until=today - d(days=80),
                review_from=today - d(days=79),
                review_until=today - d(days=60),
                publicity_from=today - d(days=59),
                publicity_until=today - d(days=52),
                implement_from=today - d(days=40),
                implement_until=today + d(days=320),
            )
            for street in streets
        ]
    )
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"鄂州市测试社会工作服务中心{i}号",
                org_type=OrgType.SERVICE_ORG,
                uscc=f"52420700MJ{i:07d}X",
                legal_representative="张三",
                address="湖北省鄂州市",
                region=streets[i % len(streets)],
                contact_name="张三",
                contact_phone="13800000000",
                status=Organisation.Status.VERIFIED,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    now = timezone.now()
    statuses = [
        ProposalStatus.APPROVED,
        ProposalStatus.IN_PROGRESS,
        ProposalStatus.MID_TERM_PASSED,
        ProposalStatus.CLOSED,
    ]
    proposals = Proposal.objects.bulk_create(
        [
            Proposal(
                call=calls[i % len(calls)],
                organisation=org,
                number=f"GY{today.year}-{calls[i % len(calls)].pk:03d}-{i + 1:05d}",
                status=statuses[i % len(statuses)],
                title=f"社区长者助餐陪伴计划{i}号",
                summary="为社区独居老人提供助餐、探访和陪伴。",
                category=area,
                start_month=calls[i % len(calls)].implement_from.replace(day=1),
                end_month=calls[i % len(calls)].implement_until.replace(day=1),
                budget_total=Decimal("100000"),
                grant_amount=Decimal("60000"),
                awarded_amount=Decimal("60000.00") - (i % 7) * 1000,
                submitted_at=now,
                decided_at=now - timedelta(days=50),
            )
            for i, org in enumerate(orgs)
        ],
        batch_size=2000,
    )
    through = Proposal.places.through
    through.objects.bulk_create(
        [through(proposal=p, region=calls[i % len(calls)].region) for i, p in enumerate(proposals)], batch_size=5000
    )
    plan = [("首期", 50, "signed"), ("中期", 30, "mid_term"), ("尾款", 20, "final")]
    Tranche.objects.bulk_create(
        [
            Tranche(
                proposal=p,
                position=k + 1,
                name=name,
                percent=percent,
                gate=gate,
                amount=(p.awarded_amount * percent / 100).quantize(Decimal("0.01")),
                due_on=today - timedelta(days=20) if k == 0 else None,
                status=Tranche.Status.RELEASED if k == 0 else Tranche.Status.PLANNED,
                paid_on=today - timedelta(days=15) if k == 0 else None,
                voucher_no=f"PZ-{p.pk:06d}" if k == 0 else "",
            )
            for p in proposals
            for k, (name, percent, gate) in enumerate(plan)
        ],
        batch_size=5000,
    )
    Evaluation.objects.bulk_create(
        [
            Evaluation(
                proposal=p,
                kind=Evaluation.Kind.MID_TERM,
                total=Decimal("82.50"),
                passed=True,
                evaluator=manager,
                status=Evaluation.Status.SUBMITTED,
                submitted_at=now,
            )
            for p in proposals
        ],
        batch_size=5000,
    )
    ProgressReport.objects.bulk_create(
        [
            ProgressReport(
                proposal=p,
                period=f"{m}月",
                period_start=date(today.year, m, 1),
                period_end=date(today.year, m, 28),
                activities_held=4,
                participants=80,
                beneficiaries=40,
                spending={"1": "1200.50", "2": "800"},
                status=ProgressReport.Status.SUBMITTED,
                submitted_at=now,
            )
            for p in proposals
            for m in (1, 2)
        ],
        batch_size=5000,
    )
    return User.objects.get(pk=manager.pk)


def timed(label, fn):
    t = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t
    return seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    t0 = time.perf_counter()
    setup(var_dir)
    from django.db import connection

    print(
        f"数据库：{os.environ.get('DATABASE_URL') or var_dir / 'test.sqlite3'}（迁移 {time.perf_counter() - t0:.1f} 秒）"
    )
    t = time.perf_counter()
    user = build(args.projects)
    print(f"建数据（bulk_create）：{args.projects} 个立项项目，{time.perf_counter() - t:.1f} 秒（{connection.vendor}）")

    from grants import opendata
    from grants.exports_funding import KINDS, export_workbook

    results = {}
    for key, spec in KINDS.items():
        seconds, (content, rows) = timed(key, lambda key=key: export_workbook(user, key))
        results[key] = seconds
        print(f"Excel 导出{spec.label}：{rows} 行，{len(content) / 1024 / 1024:.1f} MB，{seconds:.1f} 秒")

    seconds, package = timed("package", opendata.grants_package)
    print(f"360Giving 数据包：{len(package['grants'])} 条，{seconds:.1f} 秒")
    seconds, content = timed("json", lambda: opendata.package_json(package))
    print(f"  grants.json：{len(content) / 1024 / 1024:.1f} MB，{seconds:.1f} 秒")
    seconds, content = timed("csv", lambda: opendata.package_csv(package))
    print(f"  grants.csv：{len(content) / 1024 / 1024:.1f} MB，{seconds:.1f} 秒")
    seconds, problems = timed("validate", lambda: opendata.package_errors(package))
    print(
        f"  按 360Giving Schema 校验：{seconds:.1f} 秒，{len(problems)} 个问题"
        + (f"：{problems[:3]}" if problems else "")
    )

    limit = LIMIT * args.projects / 10_000
    ok = results["awards"] <= limit and not problems
    print(f"结论：立项项目导出 {results['awards']:.1f} 秒，要求 ≤ {limit:.1f} 秒 —— " + ("达标" if ok else "未达标！"))
    if args.keep:
        print(f"临时目录保留在 {var_dir}")
    else:
        import shutil

        connection.close()
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
