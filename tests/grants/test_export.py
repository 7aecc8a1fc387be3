"""The Excel export of the staff proposal list (grants.exports, grants/staff/exports.py):
one POST with the list's filters starts a background job, whose file holds exactly the
rows the list shows, in the user's region scope, with Decimal money and real dates."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import Role
from core.excel import DATE, DATETIME, MONEY
from core.models import BackgroundJob
from grants.exports import COLUMNS, HEADERS, export_queryset, export_workbook, valid_filter
from grants.models import ProposalStatus
from tests.factories import applicant, staff
from tests.grants.factories import eligible_org, make_call, proposal_at

P = ProposalStatus
pytestmark = pytest.mark.django_db
LIST = reverse("grants_admin:proposals")
EXPORT = reverse("grants_admin:proposals_export")


@pytest.fixture
def manager(regions):
    return staff(Role.CALL_MANAGER, regions["echeng"], name="鄂城区民政专干")


@pytest.fixture
def spread(regions):
    """Two proposals to 凤凰街道's call (one returned), one to 古楼街道's, one in 华容镇."""
    fenghuang, gulou, huarong = (make_call(regions[k]) for k in ("fenghuang", "gulou", "huarong_town"))
    rows = {
        "meals": proposal_at(fenghuang, P.SUBMITTED, title="老宝贝·社区长者助餐陪伴计划"),
        "summer": proposal_at(fenghuang, P.RETURNED, title="小候鸟·暑期托管"),
        "parents": proposal_at(gulou, P.SUBMITTED, title="海马爸比亲子课堂"),
        "far": proposal_at(huarong, P.SUBMITTED, title="华容镇保密项目"),
    }
    rows["meals"].places.add(regions["fenghuang_c"])  # a second place: 凤凰街道、凤凰社区
    return {**rows, "fenghuang": fenghuang, "gulou": gulou, "huarong": huarong}


def sheet_of(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def rows_of(content: bytes) -> tuple[list[str], list[dict]]:
    values = list(sheet_of(content).iter_rows(values_only=True))
    headers = list(values[0])
    return headers, [dict(zip(headers, r, strict=True)) for r in values[1:]]


def run_export(client, user, query, capture):
    """POST to the export URL with the list's query string, as the list's button does."""
    client.force_login(user)
    with capture(execute=True):
        response = client.post(EXPORT + query)
    assert response.status_code == 302, response.content.decode()[:500]
    job = BackgroundJob.objects.filter(created_by=user).latest("pk")
    assert response["Location"] == f"/admin/jobs/{job.pk}/"
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    download = client.get(f"/admin/jobs/{job.pk}/download/")
    assert download.status_code == 200
    return job, b"".join(download.streaming_content)


def listed(client, query) -> set[str]:
    response = client.get(LIST + query)
    assert response.status_code == 200
    return {p.title for p in response.context["page_obj"].object_list}


def test_header_row_and_one_rows_values(client, regions, manager, spread, django_capture_on_commit_callbacks):
    job, content = run_export(client, manager, "?q=老宝贝", django_capture_on_commit_callbacks)
    headers, (r,) = rows_of(content)
    assert headers == HEADERS
    assert headers[:5] == ["申报编号", "项目名称", "申报组织", "统一社会信用代码", "组织类型"]
    assert job.result_name.startswith("申报项目-") and job.result_name.endswith(".xlsx")
    assert "导出完成，共 1 个申报项目" in job.message and "搜索：老宝贝" in job.title

    p = spread["meals"]
    assert r["申报编号"] == p.number and r["项目名称"] == "老宝贝·社区长者助餐陪伴计划"
    assert r["申报组织"] == p.organisation.name and r["统一社会信用代码"] == p.organisation.uscc
    assert r["组织类型"] == p.organisation.get_org_type_display()
    assert r["征集"] == spread["fenghuang"].title and r["层级"] == "街道（镇）级" and r["年度"] == p.call.year
    assert r["服务领域"] == p.category.name
    assert r["实施地点"] == "凤凰街道、凤凰社区"
    assert r["开始年月"].date() == p.start_month and r["结束年月"].date() == p.end_month
    assert (r["直接受益人数"], r["间接受益人数"]) == (120, 400)
    assert (r["项目总预算"], r["申请资助"], r["自筹"], r["人员费用"]) == (100000, 60000, 40000, 20000)
    assert (r["资助占比"], r["人员费用占比"]) == (0.6, 0.2)
    assert r["状态"] == "已提交（待资格审查）"
    assert r["提交时间"].strftime("%Y-%m-%d %H:%M") == p.submitted_at.astimezone().strftime("%Y-%m-%d %H:%M")
    assert r["审查意见"] is None and r["补正截止"] is None

    ws = sheet_of(content)
    formats = {h: c.number_format for h, c in zip(headers, ws[2], strict=True)}
    assert formats["申请资助"] == formats["项目总预算"] == MONEY
    assert formats["提交时间"] == DATETIME and formats["补正截止"] == DATE and formats["开始年月"] == "yyyy-mm"
    assert formats["资助占比"] == "0.00%"
    assert all(ws[2][headers.index(h)].data_type == "s" for h in ("申报编号", "项目名称", "实施地点"))


def test_money_is_decimal_and_a_returned_proposal_shows_its_check(regions, manager, spread):
    content, rows = export_workbook(manager, {"status": P.RETURNED})
    assert rows == 1
    _, (r,) = rows_of(content)
    p = spread["summer"]
    assert r["状态"] == "退回修改" and r["审查意见"] == p.status_reason == "预算说明不够具体。"
    assert r["补正截止"].date() == p.correction_deadline
    loaded = export_queryset(valid_filter(manager, {"status": P.RETURNED})).get()
    money = {h: get(loaded) for h, get, _, _ in COLUMNS if h in ("项目总预算", "申请资助", "自筹", "人员费用")}
    assert money == {
        "项目总预算": Decimal("100000.00"),
        "申请资助": Decimal("60000.00"),
        "自筹": Decimal("40000.00"),
        "人员费用": Decimal("20000.00"),
    }
    assert all(type(v) is Decimal for v in money.values())


def test_the_export_holds_what_the_list_shows_and_no_other_region(
    client, regions, manager, spread, django_capture_on_commit_callbacks
):
    queries = {
        "": {"老宝贝·社区长者助餐陪伴计划", "小候鸟·暑期托管", "海马爸比亲子课堂"},
        f"?status={P.RETURNED}": {"小候鸟·暑期托管"},
        f"?call={spread['fenghuang'].pk}": {"老宝贝·社区长者助餐陪伴计划", "小候鸟·暑期托管"},
        "?q=海马": {"海马爸比亲子课堂"},
        f"?call={spread['fenghuang'].pk}&status={P.SUBMITTED}&ordering=title&p=1": {"老宝贝·社区长者助餐陪伴计划"},
    }
    for query, expected in queries.items():
        _, content = run_export(client, manager, query, django_capture_on_commit_callbacks)
        titles = {r["项目名称"] for r in rows_of(content)[1]}
        assert titles == expected == listed(client, query), query
        assert "华容镇保密项目" not in titles

    # the other district's staff export only their own; a street's staff only their street
    _, content = run_export(
        client, staff(Role.CALL_MANAGER, regions["huarong"]), "", django_capture_on_commit_callbacks
    )
    assert {r["项目名称"] for r in rows_of(content)[1]} == {"华容镇保密项目"}
    street = staff(Role.CALL_MANAGER, regions["gulou"])
    _, content = run_export(client, street, "", django_capture_on_commit_callbacks)
    assert {r["项目名称"] for r in rows_of(content)[1]} == {"海马爸比亲子课堂"}


def test_the_list_has_the_button_posting_its_filters(client, manager, spread):
    client.force_login(manager)
    html = client.get(LIST, {"status": P.SUBMITTED, "ordering": "title"}).content.decode()
    assert f'data-w-action-url-value="{EXPORT}?status=submitted"' in html and "导出 Excel" in html
    assert not BackgroundJob.objects.exists()


def test_a_get_never_starts_an_export(client, manager, spread):
    client.force_login(manager)
    assert client.get(EXPORT + "?status=submitted").status_code == 405
    assert not BackgroundJob.objects.exists()


def test_anonymous_applicants_and_staff_without_the_permission_are_refused(client, regions, spread):
    response = client.post(EXPORT)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    org, leader = eligible_org(regions["fenghuang"])
    for user in (applicant(), leader, staff(Role.REVIEWER, regions["echeng"])):
        client.force_login(user)
        response = client.post(EXPORT)
        assert response.status_code == 302 and response["Location"].split("?")[0] in ("/admin/", "/admin/login/")
    assert not BackgroundJob.objects.exists()


def test_an_invalid_filter_starts_nothing_and_says_why(client, manager, spread):
    client.force_login(manager)
    response = client.post(f"{EXPORT}?call={spread['huarong'].pk}", follow=True)
    html = response.content.decode()
    assert "筛选条件无效：征集：" in html and "华容镇保密项目" not in html
    response = client.post(EXPORT + "?amount_min=90000&amount_max=1000", follow=True)
    assert "筛选条件无效：申请金额至（元）：申请金额的上限不能低于下限。" in response.content.decode()
    assert not BackgroundJob.objects.exists()


def _export_queries(user) -> int:
    with CaptureQueriesContext(connection) as ctx:
        export_workbook(user, {})
    return len(ctx.captured_queries)


def test_the_export_costs_the_same_queries_for_3_and_30_proposals(regions, manager):
    call = make_call(regions["fenghuang"], max_applications_per_org=30)
    org, leader = eligible_org(regions["fenghuang"])
    checker = staff(Role.CALL_MANAGER, regions["fenghuang"])

    def more(n):
        for i in range(n):
            p = proposal_at(call, P.SUBMITTED, org=org, leader=leader, checker=checker, title=f"批量项目{i}")
            p.places.add(regions["fenghuang_c"])

    more(3)
    with_three = _export_queries(manager)
    more(27)
    assert export_workbook(manager, {})[1] == 30
    assert _export_queries(manager) == with_three
