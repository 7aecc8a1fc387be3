"""项目协议书: drawn up for an approved project from the call's template (placeholders filled),
confirmed by the organisation's 负责人 then the call manager (or a signed scan uploaded),
after which the project is in progress and its tranches planned; the PDF (text, CJK font);
the pages that show it; and `render_pdf`.

One call decided through the real services (grants.factories.approved_call: one project
approved, one not funded) serves the whole module; each test runs in its own transaction,
rolled back after it."""

import datetime
import io
import re
import shutil
import subprocess
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.workflow import WorkflowError
from grants.models import Agreement, AgreementStatus, Call, Proposal, ProposalStatus, Tranche
from grants.services import agreements as services
from grants.services.calls import call_update
from orgs.models import Membership, Organisation
from tests.factories import PDF_BYTES, PNG_BYTES, applicant, region_tree, staff
from tests.grants.factories import approved_call
from tests.html_forms import read_form

AG, P = AgreementStatus, ProposalStatus
pytestmark = pytest.mark.django_db
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils 未安装")
BANK = {
    "bank_name": "中国工商银行鄂州凤凰支行",
    "bank_account_name": "鄂州市长者关爱服务中心",
    "bank_account": "1817020109200123456",
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One call decided through the real services: its approved project (its organisation's
    bank account on its profile, a 项目联系人 beside the 负责人), the not-funded one, the
    call's manager, staff of another region and finance of this one."""
    with django_db_blocker.unblock(), transaction.atomic():
        regions = region_tree()
        call, (approved, declined), manager = approved_call(2, 3, totals=(85, 50))
        Organisation.objects.filter(pk=approved.organisation_id).update(name="鄂州市长者关爱服务中心", **BANK)
        leader = approved.organisation.memberships.get(role=Membership.Role.LEADER).user
        contact = applicant(name="项目联系人")
        Membership.objects.create(organisation=approved.organisation, user=contact, role=Membership.Role.CONTACT)
        yield SimpleNamespace(
            call_id=call.pk,
            approved_id=approved.pk,
            declined_id=declined.pk,
            manager=manager,
            leader=leader,
            contact=contact,
            elsewhere=staff(Role.CALL_MANAGER, regions["huarong"], name="华容区业务主管"),
            finance=staff(Role.FINANCE, call.region, name="凤凰街道财务"),
        )
        transaction.set_rollback(True)


def _proposal(pk) -> Proposal:
    return Proposal.objects.select_related("call__region", "organisation").get(pk=pk)


@pytest.fixture
def project(world):
    return _proposal(world.approved_id)


@pytest.fixture
def agreement(world, project):
    return services.agreement_draw_up(proposal=project, by=world.manager)


def _tranches_module_exists() -> bool:
    import importlib.util

    return importlib.util.find_spec("grants.services.tranches") is not None


# ---- drawing up ---------------------------------------------------------------------------------


def test_drawing_up_fills_the_calls_template_with_the_project(world, project):
    call = project.call
    agreement = services.agreement_draw_up(proposal=project, by=world.manager)

    agreement.refresh_from_db()
    assert agreement.status == AG.DRAFT
    assert agreement.number == f"XY{call.year}-{call.pk}-001"
    assert agreement.amount == project.awarded_amount == Decimal("60000.00")
    assert agreement.starts_on == project.start_month.replace(day=1)
    assert agreement.ends_on.month == project.end_month.month and (agreement.ends_on + datetime.timedelta(1)).day == 1
    clauses = agreement.clauses
    for expected in [
        f"乙方按照经批准的申报书实施“{project.title}”项目",
        "实施地点为鄂州市鄂城区凤凰街道",
        f"实施期限自{agreement.starts_on.year}年{agreement.starts_on.month}月1日至",
        "甲方资助乙方人民币60,000.00元（大写：陆万元整）",
        "（一）首期：协议签订后拨付50%，计人民币30,000.00元；",
        "（三）尾款：末期评估通过后拨付20%，计人民币12,000.00元。",
        "1. 服务老人：120人（衡量方式：签到表）。",
    ]:
        assert expected in clauses, expected
    assert "{" not in clauses and "}" not in clauses
    assert StateLog.objects.filter(object_id=agreement.pk, transition="create").exists()
    notice = world.leader.notifications.get(title__startswith="项目协议已生成")
    assert agreement.number in notice.body and notice.url.endswith("#agreement")


def test_numbers_follow_each_other_within_a_call(world, project):
    first = services.agreement_draw_up(proposal=project, by=world.manager)
    assert first.number.endswith("-001")
    assert services._next_number(project.call).endswith("-002")


@pytest.mark.parametrize("who", ["elsewhere", "finance", "leader", "contact"])
def test_only_a_call_manager_of_the_region_draws_it_up(world, project, who):
    with pytest.raises(PermissionDenied, match="业务主管"):
        services.agreement_draw_up(proposal=project, by=getattr(world, who))
    assert not Agreement.objects.filter(proposal=project).exists()


def test_only_an_approved_project_without_an_agreement_gets_one(world, project):
    with pytest.raises(WorkflowError, match="只有已批复立项的项目可以生成协议.*未立项"):
        services.agreement_draw_up(proposal=_proposal(world.declined_id), by=world.manager)
    services.agreement_draw_up(proposal=project, by=world.manager)
    with pytest.raises(WorkflowError, match="已生成项目协议"):
        services.agreement_draw_up(proposal=_proposal(project.pk), by=world.manager)
    assert Agreement.objects.count() == 1


def test_a_custom_template_uses_every_placeholder(world, project):
    from grants.models.calls import AGREEMENT_PLACEHOLDERS

    template = "\n".join(f"{name}=〔{{{name}}}〕" for name in AGREEMENT_PLACEHOLDERS)
    Call.objects.filter(pk=project.call_id).update(agreement_template=template)
    agreement = services.agreement_draw_up(proposal=_proposal(project.pk), by=world.manager)
    values = dict(re.findall(r"^(\w+)=〔(.*?)〕$", agreement.clauses, flags=re.M | re.S))
    assert set(values) == set(AGREEMENT_PLACEHOLDERS)
    assert values["协议编号"] == agreement.number and values["项目编号"] == project.number
    assert values["资助金额大写"] == "陆万元整" and values["资助金额"] == "60,000.00"
    assert values["甲方"] == project.call.organiser and values["乙方"] == "鄂州市长者关爱服务中心"
    assert values["银行账号"] == BANK["bank_account"] and values["开户银行"] == BANK["bank_name"]
    assert values["统一社会信用代码"] == project.organisation.uscc
    assert values["服务领域"] == project.category.name
    assert values["拨付计划"].count("\n") == 2 and values["征集名称"] == project.call.title


# ---- the call's template: unknown placeholders refused when the call is saved -------------------


def test_an_unknown_placeholder_is_refused_when_the_call_is_saved(world, project):
    call = Call.objects.get(pk=project.call_id)
    before = call.agreement_template
    with pytest.raises(ValidationError) as caught:
        call_update(
            call=call, by=world.manager, data={"agreement_template": "乙方{乙方}的负责人{项目负责人}，{资助金额"}
        )
    messages = caught.value.message_dict["agreement_template"]
    assert "协议条款模板中有未知的占位符：{项目负责人}" in messages[0]
    assert "不成对的花括号" in messages[1]
    assert Call.objects.get(pk=call.pk).agreement_template == before


def test_the_call_form_lists_the_placeholders_and_shows_the_error(client, regions):
    from tests.grants.factories import make_call

    call = make_call(regions["fenghuang"], status="draft")
    manager = staff(Role.CALL_MANAGER, regions["fenghuang"])
    client.force_login(manager)
    url = reverse("grants_calls:edit", args=[call.pk])
    page = client.get(url).content.decode()
    assert "{资助金额大写}：资助金额的人民币大写" in page and "{拨付计划}" in page
    form = read_form(page, action=url)
    data = form.post_data()
    data["agreement_template"] = "第一条 乙方{乙方}由{项目负责任人}负责。"

    response = client.post(url, data)

    assert response.status_code == 200
    assert "协议条款模板中有未知的占位符：{项目负责任人}" in response.content.decode()
    assert Call.objects.get(pk=call.pk).agreement_template == call.agreement_template


def test_grade_bands_must_descend_to_zero_and_include_the_pass_score(world, project):
    call = Call.objects.get(pk=project.call_id)
    with pytest.raises(ValidationError) as caught:
        call.grade_bands = [{"grade": "优秀", "min": 90}, {"grade": "良好", "min": 95}, {"grade": "合格", "min": 60}]
        call.full_clean()
    messages = caught.value.message_dict["grade_bands"]
    assert "等级须按分数从高到低排列：“良好”的起点分数须低于“优秀”。" in messages
    assert "最后一个等级“合格”的起点分数须为0，使每个得分都有等级。" in messages
    call.grade_bands = [{"grade": "合格", "min": 70}, {"grade": "不合格", "min": 0}]
    with pytest.raises(ValidationError, match="评估合格分数（60）须是某个等级的起点分数"):
        call.full_clean()


# ---- before signing: the clauses ----------------------------------------------------------------


def test_the_clauses_may_change_until_the_organisation_confirms(world, agreement):
    services.agreement_update_clauses(agreement=agreement, by=world.manager, clauses="第一条 新条款\r\n内容。")
    assert Agreement.objects.get(pk=agreement.pk).clauses == "第一条 新条款\n内容。"
    with pytest.raises(PermissionDenied):
        services.agreement_update_clauses(agreement=agreement, by=world.elsewhere, clauses="越权")
    with pytest.raises(ValidationError, match="不能为空"):
        services.agreement_update_clauses(agreement=agreement, by=world.manager, clauses="  ")
    services.agreement_confirm_by_org(agreement=agreement, by=world.leader)
    with pytest.raises(WorkflowError, match="条款不能再修改"):
        services.agreement_update_clauses(agreement=agreement, by=world.manager, clauses="第二版")
    assert Agreement.objects.get(pk=agreement.pk).clauses == "第一条 新条款\n内容。"


# ---- signing online: the organisation first, then the funder ------------------------------------


def test_the_funder_may_not_sign_before_the_organisation(world, agreement):
    with pytest.raises(WorkflowError, match="申报单位负责人尚未确认协议，资助方不能先签订"):
        services.agreement_confirm_by_funder(agreement=agreement, by=world.manager)
    agreement.refresh_from_db()
    assert agreement.status == AG.DRAFT and agreement.funder_signed_at is None and agreement.signed_on is None
    assert _proposal(world.approved_id).status == P.APPROVED


@pytest.mark.parametrize("who", ["contact", "manager", "finance"])
def test_only_the_organisations_leader_confirms_for_it(world, agreement, who):
    with pytest.raises(PermissionDenied, match="负责人"):
        services.agreement_confirm_by_org(agreement=agreement, by=getattr(world, who))
    assert Agreement.objects.get(pk=agreement.pk).status == AG.DRAFT


def test_confirmed_by_both_the_project_is_in_progress_with_its_tranches(world, agreement):
    services.agreement_confirm_by_org(agreement=agreement, by=world.leader)
    agreement.refresh_from_db()
    assert agreement.status == AG.ORG_SIGNED and agreement.org_signed_by == world.leader
    assert world.manager.notifications.filter(title__startswith="申报单位已确认项目协议").exists()
    with pytest.raises(PermissionDenied):
        services.agreement_confirm_by_funder(agreement=agreement, by=world.elsewhere)
    with pytest.raises(PermissionDenied):
        services.agreement_confirm_by_funder(agreement=agreement, by=world.finance)

    services.agreement_confirm_by_funder(agreement=agreement, by=world.manager)

    agreement.refresh_from_db()
    assert agreement.status == AG.SIGNED and agreement.signed_on == timezone.localdate()
    assert agreement.funder_signed_by == world.manager
    project = _proposal(world.approved_id)
    assert project.status == P.IN_PROGRESS
    steps = list(
        StateLog.objects.filter(content_type__model="proposal", object_id=project.pk)
        .order_by("pk")
        .values_list("transition", "state")
    )
    assert steps[-2:] == [("sign_agreement", P.AGREEMENT_SIGNED), ("begin", P.IN_PROGRESS)]
    assert world.leader.notifications.filter(title__startswith="项目协议已签订").exists()
    if _tranches_module_exists():
        tranches = list(Tranche.objects.filter(proposal=project).order_by("position"))
        assert [t.amount for t in tranches] == [Decimal("30000.00"), Decimal("18000.00"), Decimal("12000.00")]
        assert tranches[0].due_on is not None
    with pytest.raises(WorkflowError):
        services.agreement_confirm_by_funder(agreement=agreement, by=world.manager)


# ---- signing on paper: the scan -----------------------------------------------------------------


def _files_under(name: str) -> list:
    from core.files import private_storage

    storage = private_storage()
    try:
        _, files = storage.listdir(name)
    except FileNotFoundError:
        return []
    return files


@pytest.mark.parametrize(
    "upload, message",
    [
        (SimpleUploadedFile("协议.pdf", b"not a pdf at all"), "实际内容不是允许的类型"),
        (SimpleUploadedFile("协议.docx", b"PK\x03\x04fake word"), "实际内容不是允许的类型"),
        (SimpleUploadedFile("协议.png", PDF_BYTES), "扩展名与实际内容（PDF）不符"),
    ],
)
def test_a_scan_of_the_wrong_type_is_refused_and_nothing_changes(world, agreement, upload, message):
    folder = f"agreements/{agreement.proposal_id}"
    before = _files_under(folder)
    with pytest.raises(ValidationError) as caught:
        services.agreement_record_scan(
            agreement=agreement, by=world.manager, scan=upload, signed_on=timezone.localdate()
        )
    assert message in " ".join(caught.value.message_dict["scan"])
    agreement.refresh_from_db()
    assert agreement.status == AG.DRAFT and not agreement.signed_scan and agreement.signed_on is None
    assert _proposal(world.approved_id).status == P.APPROVED
    assert _files_under(folder) == before


def test_a_signing_date_in_the_future_is_refused(world, agreement):
    with pytest.raises(ValidationError) as caught:
        services.agreement_record_scan(
            agreement=agreement,
            by=world.manager,
            scan=SimpleUploadedFile("协议.png", PNG_BYTES),
            signed_on=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert caught.value.message_dict["signed_on"] == ["签订日期不能晚于今天。"]
    assert Agreement.objects.get(pk=agreement.pk).status == AG.DRAFT


def test_a_signed_scan_signs_it_and_the_project_begins(client, world, agreement):
    with pytest.raises(PermissionDenied):
        services.agreement_record_scan(
            agreement=agreement, by=world.finance, scan=SimpleUploadedFile("协议.png", PNG_BYTES), signed_on=None
        )
    today = timezone.localdate()
    services.agreement_record_scan(
        agreement=agreement, by=world.manager, scan=SimpleUploadedFile("协议.png", PNG_BYTES), signed_on=today
    )
    agreement.refresh_from_db()
    assert (
        agreement.status == AG.SIGNED and agreement.signed_on == today and agreement.signed_scan.name.endswith(".png")
    )
    assert _proposal(world.approved_id).status == P.IN_PROGRESS

    # the scan: staff of the region and the organisation's members download it, nobody else
    client.force_login(world.manager)
    response = client.get(reverse("grants_admin:agreement_scan", args=[agreement.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG_BYTES
    client.force_login(world.elsewhere)
    assert client.get(reverse("grants_admin:agreement_scan", args=[agreement.pk])).status_code == 404
    client.force_login(world.contact)
    assert client.get(reverse("grants:agreement_scan", args=[world.approved_id])).status_code == 200
    client.force_login(applicant())
    assert client.get(reverse("grants:agreement_scan", args=[world.approved_id])).status_code == 404


# ---- the PDF ------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


@needs_poppler
def test_the_pdf_shows_the_parties_the_amount_and_embeds_a_cjk_font(world, agreement, tmp_path):
    from pypdf import PdfReader

    from grants.pdf_agreement import agreement_pdf

    services.agreement_confirm_by_org(agreement=agreement, by=world.leader)
    data = agreement_pdf(Agreement.objects.get(pk=agreement.pk))

    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded
    text = " ".join(pdf_text(data).split())
    for expected in [
        "项目协议书",
        f"协议编号：{agreement.number}",
        "鄂州市长者关爱服务中心",
        agreement.proposal.organisation.uscc,
        BANK["bank_name"],
        BANK["bank_account"],
        "人民币 60,000.00 元",
        "陆万元整",
        "第一条 项目内容",
        "附件 资金拨付计划与绩效指标",
        "（一）资金拨付计划",
        "¥30,000.00",
        "（二）绩效指标",
        "服务老人",
        "甲方（盖章）",
        "乙方（盖章）",
        str(world.leader.name),
    ]:
        assert expected in text, expected
    (tmp_path / "agreement.pdf").write_bytes(data)


def test_staff_and_members_open_the_pdf_others_do_not(client, world, agreement):
    staff_url = reverse("grants_admin:agreement_pdf", args=[agreement.pk])
    portal_url = reverse("grants:agreement_pdf", args=[world.approved_id])
    client.force_login(world.manager)
    response = client.get(staff_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    client.force_login(world.elsewhere)
    assert client.get(staff_url).status_code == 404
    client.force_login(world.contact)
    assert client.get(portal_url).status_code == 200
    client.force_login(applicant())
    assert client.get(portal_url).status_code == 404
    client.logout()
    assert client.get(portal_url).status_code == 302


# ---- the pages ----------------------------------------------------------------------------------


def test_the_staff_page_draws_it_up_and_shows_it(client, world):
    url = reverse("grants_admin:proposal", args=[world.approved_id])
    client.force_login(world.manager)
    page = client.get(url).content.decode()
    assert "尚未生成项目协议" in page and "生成项目协议" in page

    response = client.post(reverse("grants_admin:proposal_action", args=[world.approved_id, "draw-up-agreement"]))

    assert response.status_code == 302
    agreement = Agreement.objects.get(proposal_id=world.approved_id)
    page = client.get(url).content.decode()
    for expected in [agreement.number, "¥60,000.00", "大写：陆万元整", "待签订", "修改协议条款", "上传签字盖章件"]:
        assert expected in page, expected
    assert reverse("grants_admin:agreement_pdf", args=[agreement.pk]) in page
    scan_form = f'action="{reverse("grants_admin:agreement_action", args=[agreement.pk, "record-scan"])}"'
    assert f'{scan_form} novalidate enctype="multipart/form-data"' in page  # the upload reaches the server
    assert "资助方签订</button>" not in page  # not before the organisation confirmed

    # finance of the region reads it, and may do nothing with it
    client.force_login(world.finance)
    page = client.get(url).content.decode()
    assert agreement.number in page and "上传签字盖章件" not in page and "修改协议条款</button>" not in page
    response = client.post(reverse("grants_admin:agreement_action", args=[agreement.pk, "update-clauses"]))
    assert response.status_code == 403
    client.force_login(world.elsewhere)
    response = client.post(reverse("grants_admin:agreement_action", args=[agreement.pk, "update-clauses"]))
    assert response.status_code == 404


def test_the_staff_page_uploads_the_scan_and_refuses_a_wrong_file(client, world, agreement):
    client.force_login(world.manager)
    url = reverse("grants_admin:agreement_action", args=[agreement.pk, "record-scan"])

    response = client.post(
        url, {"record-scan-scan": SimpleUploadedFile("协议.pdf", b"hello"), "record-scan-signed_on": "2020-01-01"}
    )
    assert response.status_code == 400
    assert "实际内容不是允许的类型" in response.content.decode()
    assert Agreement.objects.get(pk=agreement.pk).status == AG.DRAFT

    today = timezone.localdate().isoformat()
    response = client.post(
        url, {"record-scan-scan": SimpleUploadedFile("协议.pdf", PDF_BYTES), "record-scan-signed_on": today}
    )
    assert response.status_code == 302 and response["Location"].endswith("#agreement")
    assert Agreement.objects.get(pk=agreement.pk).status == AG.SIGNED
    assert _proposal(world.approved_id).status == P.IN_PROGRESS
    assert "下载扫描件" in client.get(reverse("grants_admin:proposal", args=[world.approved_id])).content.decode()


def test_the_staff_page_with_an_agreement_stays_within_its_query_budget(client, world, agreement):
    from tests.orgs.test_admin import _own_queries

    url = reverse("grants_admin:proposal", args=[world.approved_id])
    client.force_login(world.manager)
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    own = _own_queries(ctx.captured_queries)
    assert len(own) <= 15, "\n".join(own)
    print(f"proposal page with an agreement: {len(ctx.captured_queries)} queries, {len(own)} of them the page's own")
    # the agreement comes with the proposal (or in one query of its own), read once for panel and actions
    assert sum('FROM "grants_agreement"' in q for q in own) <= 1


def test_the_applicants_leader_confirms_on_the_projects_page(client, world, agreement):
    url = reverse("grants:proposal", args=[world.approved_id])
    client.force_login(world.contact)
    page = client.get(url).content.decode()
    assert agreement.number in page and "陆万元整" in page and "下载协议书（PDF）" in page
    assert 'id="agreement-confirm"' not in page and "须由本组织负责人确认" in page
    response = client.post(reverse("grants:agreement_confirm", args=[world.approved_id]))
    assert response.status_code == 403
    assert Agreement.objects.get(pk=agreement.pk).status == AG.DRAFT

    client.force_login(world.leader)
    page = client.get(url).content.decode()
    assert 'id="agreement-confirm"' in page
    response = client.post(reverse("grants:agreement_confirm", args=[world.approved_id]))
    assert response.status_code == 302 and response["Location"].endswith("#agreement")
    assert Agreement.objects.get(pk=agreement.pk).status == AG.ORG_SIGNED
    page = client.get(url).content.decode()
    assert "等待资助方签订" in page

    response = client.post(reverse("grants:agreement_confirm", args=[world.approved_id]), follow=True)
    assert "不能执行“确认协议”" in response.content.decode()  # twice: said, nothing changes

    # the call manager now signs for the funder on the staff page: the project begins
    client.force_login(world.manager)
    page = client.get(reverse("grants_admin:proposal", args=[world.approved_id])).content.decode()
    assert "资助方签订</button>" in page and "修改协议条款</button>" not in page
    response = client.post(reverse("grants_admin:agreement_action", args=[agreement.pk, "confirm-by-funder"]))
    assert response.status_code == 302
    assert _proposal(world.approved_id).status == P.IN_PROGRESS
    client.force_login(world.contact)
    page = client.get(url).content.decode()
    assert "已签订" in page and f"{timezone.localdate():%Y}年" in page


# ---- render_pdf ---------------------------------------------------------------------------------


def _render(*args) -> list[str]:
    out = io.StringIO()
    call_command("render_pdf", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


def test_render_pdf_writes_one_file_per_line(world, agreement, tmp_path):
    lines = _render("agreement", "--output-dir", str(tmp_path / "out"), "--call", str(world.call_id))
    assert len(lines) == 1 and agreement.number in lines[0] and lines[0].endswith("字节）")
    files = list((tmp_path / "out").iterdir())
    assert [f.name for f in files] == [f"项目协议书-{agreement.number}-社区长者陪伴计划1号.pdf"]
    assert files[0].read_bytes().startswith(b"%PDF-")

    lines = _render("proposal", "--output-dir", str(tmp_path / "p"), "--call", str(world.call_id))
    assert len(lines) == 2 and all(line.endswith("字节）") for line in lines)
    assert len(list((tmp_path / "p").iterdir())) == 2
    assert len(_render("agreement", "--output-dir", str(tmp_path / "one"), "--id", str(agreement.pk))) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["contract"], "未知的文档类型“contract”。可用的类型：agreement（项目协议书）"),
        (["agreement", "--id", "999999"], "没有编号为 999999 的项目协议书"),
        (["agreement", "--call", "999999"], "没有编号为 999999 的征集"),
        (["certificate", "--call", "1"], "出壳证书不属于某次征集，不能用 --call 选择"),
        (["evaluation"], "没有可生成的项目评估报告"),
    ],
)
def test_render_pdf_says_what_is_wrong(world, tmp_path, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _render(*args, "--output-dir", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_render_pdf_of_an_empty_selection_is_an_error(world, tmp_path):
    with pytest.raises(CommandError, match="没有可生成的项目协议书（征集“.*”）"):
        _render("agreement", "--output-dir", str(tmp_path), "--call", str(world.call_id))


def test_render_pdf_prints_the_incubators_documents(tmp_path):
    from incubator.models import IncubationStatus
    from tests.incubator.factories import IncubationBaseFactory, incubation_at

    region_tree()
    stay = incubation_at(IncubationBaseFactory(), status=IncubationStatus.GRADUATED)
    for kind, prefix in (("residence_agreement", "入驻协议-"), ("certificate", "出壳证书-")):
        lines = _render(kind, "--output-dir", str(tmp_path / kind), "--id", str(stay.pk))
        assert len(lines) == 1 and prefix in lines[0]
        (only,) = (tmp_path / kind).iterdir()
        assert only.name.startswith(prefix) and only.read_bytes().startswith(b"%PDF-")
