"""Excel exports of the funded projects (grants.exports_funding, /admin/grants/exports/): 立项项目,
拨付, 评估 and 进度报告 as background jobs through core.excel's safe writer: what each sheet
holds for a small case (money as numbers in 元, dates as dates), a title starting with "="
staying text, the user's region scope (a 华容区 manager gets no 鄂城区 project and cannot name
its call), who may export (auditors yes, reviewers and applicants no), and a flat query count.

The awarded projects come from one `approved_call` for the module (the real services; ~20 s),
rolled back after it. Their tranches, evaluation and report are written as rows (the funding
services are built beside this module; the exports read the models only). The query-count
test alone bulk-creates awarded proposals and their rows, in the states they need."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.roles import Role
from core.excel import DATE, DATETIME, YUAN
from core.jobs import job_execute
from core.models import BackgroundJob
from grants.exports_funding import ExportError, export_workbook, funding_export_start, headers
from grants.models import Evaluation, ProgressReport, Proposal, ProposalStatus, Tranche
from tests.factories import applicant, region_tree, staff
from tests.grants.factories import approved_call

P = ProposalStatus
pytestmark = pytest.mark.django_db
PAGE = reverse("grants_admin:funding_exports")
EVIL = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture(scope="module")
def funded(django_db_setup, django_db_blocker):
    """凤凰街道's decided call: two approved projects, the first with three tranches (one released),
    a mid-term evaluation and a progress report; the second titled like a formula."""
    with django_db_blocker.unblock(), transaction.atomic():
        call, items, manager = approved_call(2, 3, totals=(85, 80))
        first, second = items
        Proposal.objects.filter(pk=second.pk).update(title=EVIL)
        today = timezone.localdate()
        tranches = [
            Tranche.objects.create(
                proposal=first,
                position=1,
                name="首期",
                percent=Decimal("50"),
                gate="signed",
                amount=Decimal("30000.00"),
                due_on=today - timedelta(days=10),
                status=Tranche.Status.RELEASED,
                paid_on=today - timedelta(days=3),
                voucher_no="PZ-2026-0001",
                bank_account="6222020200112233445",
                released_by=manager,
                released_at=timezone.now(),
            ),
            Tranche.objects.create(
                proposal=first,
                position=2,
                name="中期",
                percent=Decimal("30"),
                gate="mid_term",
                amount=Decimal("18000.00"),
            ),
            Tranche.objects.create(
                proposal=first,
                position=3,
                name="尾款",
                percent=Decimal("20"),
                gate="final",
                amount=Decimal("12000.00"),
                status=Tranche.Status.WITHHELD,
                withhold_reason="末期评估尚未完成",
            ),
        ]
        evaluation = Evaluation.objects.create(
            proposal=first,
            kind=Evaluation.Kind.MID_TERM,
            attempt=1,
            points={"delivery": "25", "inputs": "16", "finance": "17", "outcomes": "24.5"},
            total=Decimal("82.50"),
            passed=True,
            evaluator=manager,
            status=Evaluation.Status.SUBMITTED,
            submitted_at=timezone.now(),
        )
        report = ProgressReport.objects.create(
            proposal=first,
            period="第一阶段",
            period_start=date(today.year, 1, 1),
            period_end=date(today.year, 3, 31),
            activities_held=5,
            participants=120,
            beneficiaries=60,
            spending={"1": "1200.50", "2": "800"},
            status=ProgressReport.Status.SUBMITTED,
            submitted_at=timezone.now(),
        )
        yield {
            "call": call,
            "first": Proposal.objects.get(pk=first.pk),
            "second": Proposal.objects.get(pk=second.pk),
            "manager": manager,
            "tranches": tranches,
            "evaluation": evaluation,
            "report": report,
        }
        transaction.set_rollback(True)


def rows_of(content: bytes) -> tuple[list, list[dict], object]:
    ws = load_workbook(io.BytesIO(content)).active
    values = list(ws.iter_rows(values_only=True))
    head = list(values[0])
    return head, [dict(zip(head, r, strict=True)) for r in values[1:]], ws


def run(client, user, data, capture) -> tuple[BackgroundJob, bytes]:
    """POST the export page as `user`, run the job at commit, download its file."""
    client.force_login(user)
    with capture(execute=True):
        response = client.post(PAGE, data)
    assert response.status_code == 302, response.content.decode()[:800]
    job = BackgroundJob.objects.filter(created_by=user).latest("pk")
    assert response["Location"] == f"/admin/jobs/{job.pk}/"
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    download = client.get(f"/admin/jobs/{job.pk}/download/")
    assert download.status_code == 200
    return job, b"".join(download.streaming_content)


def formats(ws, head) -> dict:
    return {h: c.number_format for h, c in zip(head, ws[2], strict=True)}


def test_the_page_offers_the_four_kinds_and_the_users_calls(client, funded):
    client.force_login(funded["manager"])
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("立项项目", "拨付", "评估", "进度报告"):
        assert f"<strong>{label}</strong>" in html
    assert funded["call"].title in html and "全部征集" in html
    menu = client.get(reverse("wagtailadmin_home")).content.decode()
    assert PAGE in menu  # 导出 in the 公益创投 menu


def test_awards_sheet(client, funded, django_capture_on_commit_callbacks):
    job, content = run(
        client, funded["manager"], {"kind": "awards", "call": funded["call"].pk}, django_capture_on_commit_callbacks
    )
    assert job.result_name.startswith("立项项目-") and job.result_name.endswith(".xlsx")
    assert job.message == "导出完成，共 2 个立项项目。" and funded["call"].title in job.title
    head, rows, ws = rows_of(content)
    assert head == headers("awards")
    assert head[:4] == ["申报编号", "项目名称", "申报组织", "统一社会信用代码"]
    p, call = funded["first"], funded["call"]
    (r,) = [r for r in rows if r["申报编号"] == p.number]
    assert (r["项目名称"], r["申报组织"], r["统一社会信用代码"]) == (p.title, p.organisation.name, p.organisation.uscc)
    assert (r["征集"], r["层级"], r["征集区域"]) == (call.title, "街道（镇）级", "凤凰街道")
    assert r["实施地点"] == "凤凰街道" and r["服务领域"] == p.category.name
    assert r["资助金额"] == 60000 and p.awarded_amount == Decimal("60000.00")
    assert r["批复日期"].date() == timezone.localdate(p.decided_at) and r["状态"] == "批复立项"
    row_formats = formats(ws, head)
    assert row_formats["资助金额"] == YUAN and row_formats["批复日期"] == DATE


def test_tranches_evaluations_and_reports_sheets(client, funded, django_capture_on_commit_callbacks):
    manager, p = funded["manager"], funded["first"]
    _, content = run(client, manager, {"kind": "tranches"}, django_capture_on_commit_callbacks)
    head, rows, ws = rows_of(content)
    assert head == headers("tranches")
    assert [(r["期次"], r["名称"], r["金额"], r["状态"]) for r in rows] == [
        ("第1期", "首期", 30000, "已拨付"),
        ("第2期", "中期", 18000, "计划"),
        ("第3期", "尾款", 12000, "暂缓拨付"),
    ]
    released = rows[0]
    assert released["申报编号"] == p.number and released["比例"] == 0.5 and released["拨付条件"] == "协议签订后"
    assert released["拨付日期"].date() == funded["tranches"][0].paid_on and released["凭证号"] == "PZ-2026-0001"
    assert released["计划拨付日期"].date() == funded["tranches"][0].due_on
    assert rows[1]["拨付日期"] is None and rows[2]["暂缓原因"] == "末期评估尚未完成"
    assert "6222020200112233445" not in str(rows)  # the bank account stays on the tranche's page
    assert formats(ws, head)["金额"] == YUAN and formats(ws, head)["拨付日期"] == DATE

    _, content = run(client, manager, {"kind": "evaluations"}, django_capture_on_commit_callbacks)
    head, (r,), ws = rows_of(content)
    assert head == headers("evaluations")
    assert (r["项目名称"], r["类别"], r["第几次"], r["总分"], r["是否通过"]) == (p.title, "中期评估", 1, 82.5, "通过")
    assert r["评估人"] == manager.name and r["评估日期"].date() == timezone.localdate() and r["状态"] == "已完成"
    assert formats(ws, head)["评估日期"] == DATE

    _, content = run(client, manager, {"kind": "reports"}, django_capture_on_commit_callbacks)
    head, (r,), ws = rows_of(content)
    assert head == headers("reports")
    assert (r["报告期"], r["开展活动（场次）"], r["参与人次"], r["服务对象（人）"]) == ("第一阶段", 5, 120, 60)
    assert r["支出合计"] == 2000.5 and r["报告期开始"].date() == funded["report"].period_start
    assert formats(ws, head)["支出合计"] == YUAN and formats(ws, head)["提交时间"] == DATETIME


def test_a_title_that_looks_like_a_formula_stays_text(funded):
    content, _ = export_workbook(funded["manager"], "awards")
    head, rows, ws = rows_of(content)
    cells = [row[head.index("项目名称")] for row in ws.iter_rows(min_row=2)]
    (evil,) = [c for c in cells if c.value == EVIL]
    assert evil.data_type == "s" and evil.quotePrefix  # text, never a live formula


def test_a_huarong_manager_exports_nothing_of_echeng(client, funded, django_capture_on_commit_callbacks):
    huarong = staff(Role.CALL_MANAGER, region_tree()["huarong"], name="华容区民政专干")
    for kind in ("awards", "tranches", "evaluations", "reports"):
        job, content = run(client, huarong, {"kind": kind}, django_capture_on_commit_callbacks)
        _, rows, _ = rows_of(content)
        assert rows == [], kind
    assert funded["first"].title not in content.decode("latin-1")

    # naming the other district's call: refused on the page, nothing queued
    before = BackgroundJob.objects.count()
    response = client.post(PAGE, {"kind": "awards", "call": funded["call"].pk})
    assert response.status_code == 200 and "不在您负责的区域内" in response.content.decode()
    assert BackgroundJob.objects.count() == before
    with pytest.raises(ExportError, match="不在您负责的区域内"):
        funding_export_start(user=huarong, kind="awards", call_id=funded["call"].pk)
    with pytest.raises(ExportError, match="请选择要导出的数据"):
        funding_export_start(user=huarong, kind="salaries")


def test_who_may_export(client, funded, django_capture_on_commit_callbacks):
    echeng = region_tree()["echeng"]
    for role in (Role.AUDITOR, Role.FINANCE):
        user = staff(role, echeng)
        _, content = run(client, user, {"kind": "awards"}, django_capture_on_commit_callbacks)
        assert len(rows_of(content)[1]) == 2, role
    for user in (staff(Role.REVIEWER, echeng), applicant()):
        client.force_login(user)
        assert client.get(PAGE).status_code in (302, 403)
        assert client.post(PAGE, {"kind": "awards"}).status_code in (302, 403)
        assert not BackgroundJob.objects.filter(created_by=user).exists()
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the login page


def _bulk(funded, n: int) -> None:
    """`n` more awarded projects of the module's call, each with a tranche, an evaluation and a report,
    bulk-created (only this test does so: it needs many rows, not their history)."""
    call, first = funded["call"], funded["first"]
    start = Proposal.objects.count()
    made = Proposal.objects.bulk_create(
        [
            Proposal(
                call=call,
                organisation_id=first.organisation_id,
                category_id=first.category_id,
                number=f"BULK-{start + i:05d}",
                title=f"批量项目{start + i}",
                status=P.IN_PROGRESS,
                submitted_at=timezone.now(),
                decided_at=timezone.now(),
                awarded_amount=Decimal("50000.00"),
            )
            for i in range(n)
        ]
    )
    place = first.places.get()
    Proposal.places.through.objects.bulk_create([Proposal.places.through(proposal=p, region=place) for p in made])
    Tranche.objects.bulk_create(
        [Tranche(proposal=p, position=1, name="首期", percent=50, gate="signed", amount=Decimal("25000")) for p in made]
    )
    Evaluation.objects.bulk_create([Evaluation(proposal=p, kind="mid_term", evaluator=funded["manager"]) for p in made])
    ProgressReport.objects.bulk_create(
        [
            ProgressReport(proposal=p, period="一月", period_start=date(2026, 1, 1), period_end=date(2026, 1, 31))
            for p in made
        ]
    )


def _job_queries(user, kind, capture) -> tuple[int, int]:
    with capture(execute=False):
        job = funding_export_start(user=user, kind=kind)
    with CaptureQueriesContext(connection) as ctx:
        job_execute(job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    return len(ctx.captured_queries), job.result_data["rows"]


def test_the_export_jobs_query_count_is_flat(funded, django_capture_on_commit_callbacks):
    manager = funded["manager"]
    counts = {}
    for extra in (0, 25):
        _bulk(funded, extra)
        for kind in ("awards", "tranches", "evaluations", "reports"):
            counts.setdefault(kind, []).append(_job_queries(manager, kind, django_capture_on_commit_callbacks))
    for kind, ((few, n_few), (many, n_many)) in counts.items():
        assert n_many == n_few + 25, kind
        assert few == many, (kind, few, many)
        assert many <= 12, (kind, many)
