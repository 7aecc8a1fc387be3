"""The applicant's pages (/me/orgs/…, /me/) through the Django test client: what the user
sees and what the database holds afterwards."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from core.models import Notification
from orgs import services
from orgs.models import DocumentKind, Membership, Organisation, OrganisationDocument, OrgType, ServiceArea
from tests.factories import PDF_BYTES, applicant, make_uscc, organisation_with_leader, pdf_upload, staff

Status = Organisation.Status
LABELS = [
    "名称",
    "类型",
    "统一社会信用代码",
    "备案编号",
    "挂靠/指导单位（街道、社区等）",
    "登记管理机关",
    "业务主管单位",
    "法定代表人/负责人",
    "成立日期",
    "注册资金（元）",
    "住所",
    "所属区域",
    "服务领域",
    "联系人",
    "联系电话",
    "电子邮箱",
    "开户银行",
    "账户名称",
    "银行账号",
    "简介",
]


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def areas(db):
    """The service areas seeded by migration: 老年人 first."""
    return list(ServiceArea.objects.all()[:2])


@pytest.fixture
def user(client, regions):
    user = applicant()
    client.force_login(user)
    return user


def form_data(regions, areas, **overrides):
    return {
        "name": "鄂州市澜湖社区老年服务中心",
        "org_type": OrgType.SERVICE_ORG,
        "uscc": make_uscc(300001),
        "legal_representative": "王五",
        "founded_on": "2019-03-01",
        "registered_capital": "30000",
        "address": "鄂城区凤凰街道澜湖社区3号",
        "region": regions["fenghuang"].pk,
        "service_areas": [areas[0].pk],
        "contact_name": "王五",
        "contact_phone": "137 1111 2222",
        "email": "lanhu@example.org",
        "bank_name": "中国农业银行鄂州分行",
        "bank_account_name": "鄂州市澜湖社区老年服务中心",
        "bank_account": "6228 4801 2345 6789",
        "introduction": "为澜湖社区老人提供助餐服务。",
    } | overrides


# ---- creating an organisation ---------------------------------------------------------


def test_the_create_form_speaks_chinese(client, user, regions, areas):
    response = client.get("/me/orgs/new/")
    assert response.status_code == 200
    page = text(response)
    assert "登记社会组织" in page
    for label in LABELS:
        assert f">{label} <span" in page or f">{label}</label>" in page, label
    assert "凤凰街道" in page  # streets and communities to choose from
    assert "老年人" in page
    assert "民办非企业单位（社会服务机构）" in page


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get("/me/orgs/new/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=/me/orgs/new/")


def test_an_applicant_creates_an_organisation(client, user, regions, areas):
    response = client.post("/me/orgs/new/", form_data(regions, areas, uscc=f" {make_uscc(300001).lower()} "))

    org = Organisation.objects.get()
    assert response.status_code == 302
    assert response.url == f"/me/orgs/{org.pk}/"
    assert (org.name, org.uscc, org.status, org.created_by) == (
        "鄂州市澜湖社区老年服务中心",
        make_uscc(300001),
        Status.DRAFT,
        user,
    )
    assert (org.contact_phone, org.bank_account) == ("13711112222", "6228480123456789")
    assert list(org.service_areas.all()) == [areas[0]]
    assert Membership.objects.get(organisation=org).role == Membership.Role.LEADER

    page = text(client.get(response.url))
    assert "组织信息已保存为草稿。请上传登记材料，然后提交审核。" in page
    assert "提交前还需上传：登记证书、章程" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"uscc": "91350100M000100Y44"}, "统一社会信用代码第18位（校验码）不正确，请逐位核对。"),
        ({"uscc": "91350100M000100Y4"}, "统一社会信用代码应为18位，当前为17位。"),
        ({"contact_phone": "1380000"}, "请输入11位中国大陆手机号码，例如 13800138000。"),
        ({"bank_account": "6228 480"}, "银行账号长度应为8–30位数字，当前为7位，请核对。"),
        ({"bank_account": "6228-4801-ABCD"}, "银行账号只能包含数字（可用空格分隔）。"),
        (
            {"org_type": OrgType.COMMUNITY_FILED, "uscc": "", "sponsor_name": "澜湖社区居委会"},
            "备案的社区社会组织必须填写备案编号。",
        ),
        ({"org_type": OrgType.SOCIAL_GROUP, "uscc": ""}, "已登记的社会组织必须填写统一社会信用代码。"),
    ],
    ids=["uscc-check", "uscc-length", "mobile", "bank-length", "bank-digits", "filing-number", "no-uscc"],
)
def test_bad_input_is_explained_kept_and_nothing_saved(client, user, regions, areas, overrides, message):
    data = form_data(regions, areas, **overrides)
    response = client.post("/me/orgs/new/", data)

    assert response.status_code == 200
    page = text(response)
    assert message in page
    for field in ("name", "address", "contact_name", "introduction"):
        if data[field]:
            assert data[field] in page  # what the user typed is still there
    assert 'value="2019-03-01"' in page
    assert "checked" in page  # the service area ticked stays ticked
    assert not Organisation.objects.exists()
    assert not Membership.objects.exists()


def test_a_duplicate_uscc_is_explained_and_nothing_saved(client, user, regions, areas):
    taken, _ = organisation_with_leader(uscc=make_uscc(300001))
    response = client.post("/me/orgs/new/", form_data(regions, areas, name="另一个组织"))

    assert response.status_code == 200
    page = text(response)
    assert "该统一社会信用代码已被其他组织登记。如确属本组织，请联系所在区域民政部门。" in page
    assert "另一个组织" in page
    assert list(Organisation.objects.all()) == [taken]
    assert not Membership.objects.filter(user=user).exists()


# ---- documents ---------------------------------------------------------------------------


@pytest.fixture
def org_leader(client, regions):
    org, leader = organisation_with_leader(region=regions["fenghuang"])
    client.force_login(leader)
    return org, leader


def upload(client, org, file, kind=DocumentKind.REGISTRATION_CERTIFICATE):
    return client.post(f"/me/orgs/{org.pk}/documents/", {"kind": kind, "file": file})


def test_uploading_a_document(client, org_leader):
    org, leader = org_leader
    response = upload(client, org, pdf_upload())
    assert response.status_code == 302
    doc = OrganisationDocument.objects.get(organisation=org)
    assert (doc.kind, doc.version, doc.is_current, doc.file_kind, doc.uploaded_by) == (
        DocumentKind.REGISTRATION_CERTIFICATE,
        1,
        True,
        "pdf",
        leader,
    )
    page = text(client.get(response.url))
    assert "已上传“登记证书”第 1 版。" in page
    assert reverse("orgs:document_download", args=[org.pk, doc.pk]) in page


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (
            SimpleUploadedFile("登记证书.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120),
            "文件“登记证书.pdf”的实际内容不是允许的类型（只接受 PDF、JPG、PNG）。请勿仅修改扩展名。",
        ),
        (
            SimpleUploadedFile("章程.pdf", "这是一个改了扩展名的文本文件。".encode()),
            "文件“章程.pdf”的实际内容不是允许的类型（只接受 PDF、JPG、PNG）。请勿仅修改扩展名。",
        ),
        (SimpleUploadedFile("空文件.pdf", b""), "上传的文件是空的，请重新选择文件。"),
        (SimpleUploadedFile("证书.png", PDF_BYTES), "文件“证书.png”的扩展名与实际内容（PDF）不符，请检查后重新上传。"),
    ],
    ids=["exe-as-pdf", "txt-as-pdf", "empty", "pdf-as-png"],
)
def test_a_bad_upload_is_refused_in_chinese(client, org_leader, file, message):
    org, _ = org_leader
    response = upload(client, org, file)
    assert response.status_code == 400
    assert message in text(response)
    assert not OrganisationDocument.objects.exists()


def test_an_upload_over_the_limit_is_refused(client, org_leader, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    org, _ = org_leader
    response = upload(client, org, pdf_upload(content=PDF_BYTES + b"%" * 2048))
    assert response.status_code == 400
    page = text(response)
    assert "文件“登记证书.pdf”大小为 2 KB，超过了 1 KB 的上限，请压缩后再上传。" in page
    assert "不超过 1 KB" in page  # the help text tells the real limit
    assert not OrganisationDocument.objects.exists()


def test_no_file_chosen(client, org_leader):
    org, _ = org_leader
    response = client.post(f"/me/orgs/{org.pk}/documents/", {"kind": DocumentKind.CHARTER})
    assert response.status_code == 400
    assert "请选择要上传的文件。" in text(response)


def test_a_stranger_cannot_upload(client, org_leader):
    org, _ = org_leader
    client.force_login(applicant())
    assert upload(client, org, pdf_upload()).status_code == 403
    assert not OrganisationDocument.objects.exists()


@pytest.fixture
def document(org_leader):
    org, leader = org_leader
    upload = pdf_upload()
    upload.kind = "pdf"
    return services.document_upload(org=org, by=leader, kind=DocumentKind.CHARTER, upload=upload)


def download(client, doc):
    return client.get(f"/me/orgs/{doc.organisation_id}/documents/{doc.pk}/")


def test_a_member_downloads_a_document(client, document):
    response = download(client, document)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("other_applicant", 403),
        ("base_operator_in_scope", 200),
        ("auditor_in_scope", 200),
        ("city_manager", 200),
        ("manager_out_of_scope", 403),
    ],
)
def test_who_may_download_a_document(client, document, regions, who, status):
    user = {
        "other_applicant": lambda: applicant(),
        "base_operator_in_scope": lambda: staff(Role.BASE_OPERATOR, regions["echeng"]),
        "auditor_in_scope": lambda: staff(Role.AUDITOR, regions["fenghuang"]),
        "city_manager": lambda: staff(Role.CALL_MANAGER, regions["city"]),
        "manager_out_of_scope": lambda: staff(Role.CALL_MANAGER, regions["huarong"]),
    }[who]()
    client.force_login(user)
    response = download(client, document)
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PDF_BYTES


def test_anonymous_download_goes_to_login(client, document):
    client.logout()
    response = download(client, document)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_document_of_another_organisation_is_not_found_under_this_one(client, document, regions):
    other, other_leader = organisation_with_leader()
    client.force_login(other_leader)
    response = client.get(f"/me/orgs/{other.pk}/documents/{document.pk}/")
    assert response.status_code == 404


# ---- the organisation page: submit, returned reason, access ----------------------------------


def test_submit_from_the_page(client, org_leader, regions):
    org, _ = org_leader
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    page = text(client.get(f"/me/orgs/{org.pk}/"))
    assert f'action="/me/orgs/{org.pk}/submit/"' in page
    assert "提交审核" in page

    response = client.post(f"/me/orgs/{org.pk}/submit/", follow=True)
    assert "请先上传以下材料再提交：登记证书、章程。" in text(response)
    assert Organisation.objects.get(pk=org.pk).status == Status.DRAFT

    for kind in (DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER):
        upload(client, org, pdf_upload(), kind=kind)
    response = client.post(f"/me/orgs/{org.pk}/submit/", follow=True)

    page = text(response)
    assert "已提交审核。审核结果会通过站内通知和邮件告诉您。" in page
    assert "已提交，等待凤凰街道所在区域民政部门审核。" in page
    assert f'action="/me/orgs/{org.pk}/submit/"' not in page
    assert Organisation.objects.get(pk=org.pk).status == Status.SUBMITTED
    assert Notification.objects.filter(recipient=manager, title=f"待审核：{org.name}").exists()


def test_submit_needs_post(client, org_leader):
    org, _ = org_leader
    assert client.get(f"/me/orgs/{org.pk}/submit/").status_code == 405


def test_the_returned_reason_is_shown_to_the_applicant(client, org_leader, regions):
    org, leader = org_leader
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    for kind in (DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER):
        upload(client, org, pdf_upload(), kind=kind)
    services.organisation_submit(org=Organisation.objects.get(pk=org.pk), by=leader)
    services.organisation_return(
        org=Organisation.objects.get(pk=org.pk), by=manager, reason="章程第三页缺少盖章，请重新上传。"
    )

    page = text(client.get(f"/me/orgs/{org.pk}/"))
    assert "退回补正" in page
    assert "退回理由：</strong>章程第三页缺少盖章，请重新上传。" in page
    assert "重新提交审核" in page
    assert "理由：章程第三页缺少盖章，请重新上传。" in page.split("办理记录")[1]  # and in the history


def test_someone_elses_organisation_is_forbidden(client, org_leader):
    org, _ = org_leader
    client.force_login(applicant())
    for url in (f"/me/orgs/{org.pk}/", f"/me/orgs/{org.pk}/edit/"):
        response = client.get(url)
        assert response.status_code == 403
        assert org.name not in text(response)
    assert client.post(f"/me/orgs/{org.pk}/submit/").status_code == 403
    assert Organisation.objects.get(pk=org.pk).status == Status.DRAFT


def test_a_missing_organisation_is_not_found(client, user):
    assert client.get("/me/orgs/999999/").status_code == 404


# ---- editing --------------------------------------------------------------------------------


def verify(org, leader, manager):
    for kind in services.REQUIRED_DOCUMENTS[org.org_type]:
        upload = pdf_upload()
        upload.kind = "pdf"
        services.document_upload(org=org, by=leader, kind=kind, upload=upload)
    services.organisation_submit(org=Organisation.objects.get(pk=org.pk), by=leader)
    services.organisation_verify(org=Organisation.objects.get(pk=org.pk), by=manager)
    return Organisation.objects.get(pk=org.pk)


def test_a_verified_organisation_edits_contacts_but_not_legal_fields(client, org_leader, regions, areas):
    org, leader = org_leader
    org = verify(org, leader, staff(Role.CALL_MANAGER, regions["echeng"]))
    page = text(client.get(f"/me/orgs/{org.pk}/edit/"))
    assert page.count("已认证组织修改此项需提交“登记事项变更”申请。") == 3

    data = form_data(regions, areas, name="改个名字", uscc=make_uscc(300009), contact_phone="13922223333")
    response = client.post(f"/me/orgs/{org.pk}/edit/", data)

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name != "改个名字"
    assert org.uscc != make_uscc(300009)
    assert (org.contact_phone, org.status) == ("13922223333", Status.VERIFIED)


def test_nothing_is_editable_under_review(client, org_leader, regions, areas):
    org, leader = org_leader
    for kind in (DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER):
        upload(client, org, pdf_upload(), kind=kind)
    client.post(f"/me/orgs/{org.pk}/submit/")

    response = client.post(f"/me/orgs/{org.pk}/edit/", form_data(regions, areas, contact_name="李四"), follow=True)
    assert "组织当前状态为“待审核”，不能修改资料。" in text(response)
    assert Organisation.objects.get(pk=org.pk).contact_name == "张三"


# ---- members and the dashboard -------------------------------------------------------------------


def test_invite_from_the_page_and_accept_from_the_dashboard(client, org_leader, sent_code):
    org, _ = org_leader
    invitee = applicant(mobile="13955556666")
    response = client.post(
        f"/me/orgs/{org.pk}/invite/", {"role": Membership.Role.FINANCE, "mobile": "139 5555 6666"}, follow=True
    )
    assert "邀请已发出。对方登录后在工作台接受即可加入。" in text(response)
    assert "13955556666（财务）" in text(response)
    assert "待对方验证手机号或邮箱后加入" in text(response)  # not a member until the code is typed back

    client.force_login(invitee)
    dashboard = text(client.get("/me/"))
    assert f"{org.name} 邀请您担任“财务”" in dashboard
    assert f"{org.name} 邀请您加入" in dashboard  # the notification
    inv = org.invitations.get()
    response = client.post(f"/me/orgs/invitations/{inv.pk}/accept/", {"code": sent_code("13955556666")}, follow=True)

    assert f"您已加入 {org.name}。" in text(response)
    assert Membership.objects.get(organisation=org, user=invitee).role == Membership.Role.FINANCE


def test_an_invitation_cannot_be_accepted_by_another_user(client, org_leader):
    org, leader = org_leader
    applicant(mobile="13955556666")
    inv = services.member_invite(org=org, by=leader, role=Membership.Role.CONTACT, mobile="13955556666")
    intruder = applicant()
    client.force_login(intruder)
    assert client.post(f"/me/orgs/invitations/{inv.pk}/accept/").status_code == 403
    assert not Membership.objects.filter(user=intruder).exists()


def test_the_dashboard_lists_my_organisations_and_notifications(client, org_leader, regions):
    org, leader = org_leader
    not_mine, _ = organisation_with_leader(name="别人的组织")
    Notification.objects.create(recipient=leader, title="您的组织已通过审核", url=f"/me/orgs/{org.pk}/")
    Notification.objects.create(recipient=applicant(), title="别人的通知")

    page = text(client.get("/me/"))

    assert f'<a href="/me/orgs/{org.pk}/">{org.name}</a>' in page
    assert "负责人" in page
    assert "草稿" in page
    assert "您的组织已通过审核" in page
    assert "别人的组织" not in page
    assert "别人的通知" not in page


def test_a_new_users_dashboard_says_what_to_do(client, user):
    page = text(client.get("/me/"))
    assert "您还没有登记或加入任何社会组织。" in page
    assert "暂无通知。" in page
    assert 'href="/me/orgs/new/"' in page


def test_a_legal_change_is_requested_from_the_page(client, org_leader, regions):
    org, leader = org_leader
    other, _ = organisation_with_leader()
    org = verify(org, leader, staff(Role.CALL_MANAGER, regions["echeng"]))
    data = {"name": "鄂州市凤凰社会工作服务中心", "org_type": OrgType.SERVICE_ORG, "reason": "经核准更名。"}

    response = client.post(f"/me/orgs/{org.pk}/change/", data | {"uscc": other.uscc})
    assert response.status_code == 400
    assert "该统一社会信用代码已被其他组织登记。" in text(response)
    assert not org.change_requests.exists()

    response = client.post(f"/me/orgs/{org.pk}/change/", data | {"uscc": org.uscc}, follow=True)
    assert "变更申请已提交，审核通过后生效。" in text(response)
    assert "变更申请审核中：鄂州市凤凰社会工作服务中心" in text(response)
    assert org.change_requests.get().name == "鄂州市凤凰社会工作服务中心"
    assert Organisation.objects.get(pk=org.pk).name == org.name  # not before it is approved


@pytest.mark.django_db
def test_logo_upload_is_stored_and_a_fake_image_is_refused(client, regions):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orgs.models import Organisation
    from tests.factories import PDF_BYTES, organisation_with_leader

    org, leader = organisation_with_leader()
    client.force_login(leader)
    url = f"/me/orgs/{org.pk}/edit/"
    data = {
        f: getattr(org, f) or ""
        for f in ["name", "org_type", "uscc", "legal_representative", "address", "contact_name", "contact_phone"]
    }
    data["region"] = org.region_id
    response = client.post(url, {**data, "logo": SimpleUploadedFile("logo.png", PDF_BYTES)})
    assert response.status_code == 200
    assert not Organisation.objects.get(pk=org.pk).logo
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (64, 64), (179, 38, 30)).save(png, "PNG")
    response = client.post(url, {**data, "logo": SimpleUploadedFile("logo.png", png.getvalue())})
    assert response.status_code == 302, response.context["form"].errors
    org.refresh_from_db()
    assert org.logo.name.startswith("org-logos/")


# ---- less typing: the account fills the contact fields (defect 13) ----------------------------


def test_the_create_form_starts_with_the_accounts_name_mobile_and_email(client, regions):
    from tests.html_forms import read_form

    user = applicant(name="王小明", mobile="13977778888", email="wxm@example.org")
    client.force_login(user)
    form = read_form(text(client.get("/me/orgs/new/")), action="")
    assert (form.data["contact_name"], form.data["contact_phone"], form.data["email"]) == (
        ["王小明"],
        ["13977778888"],
        ["wxm@example.org"],
    )
    assert form.data["bank_account_name"] == [""]
    assert "不填则按组织名称保存" in text(client.get("/me/orgs/new/"))


def test_what_the_account_lacks_stays_empty_and_typed_values_win(client, regions, areas):
    user = applicant(name="", mobile="13977778888", email="")
    client.force_login(user)
    page = text(client.get("/me/orgs/new/"))
    assert 'name="contact_name" maxlength="50" required id="id_contact_name"' in page  # no value
    response = client.post("/me/orgs/new/", form_data(regions, areas, contact_phone="13711112222"))
    assert response.status_code == 302
    assert Organisation.objects.get().contact_phone == "13711112222"


def test_a_new_bank_account_is_in_the_organisations_name_unless_typed(client, user, regions, areas):
    client.post("/me/orgs/new/", form_data(regions, areas, bank_account_name=""))
    org = Organisation.objects.get()
    assert org.bank_account_name == "鄂州市澜湖社区老年服务中心"

    # with no bank details at all, nothing is invented
    client.post(
        "/me/orgs/new/",
        form_data(regions, areas, name="另一个中心", uscc=make_uscc(300002), bank_name="", bank_account="")
        | {"bank_account_name": ""},
    )
    assert Organisation.objects.get(name="另一个中心").bank_account_name == ""


def test_the_edit_form_keeps_an_empty_account_name_empty(client, org_leader, regions):
    from tests.html_forms import read_form

    org, _ = org_leader
    Organisation.objects.filter(pk=org.pk).update(bank_account="6228480123456789", bank_account_name="")
    form = read_form(text(client.get(f"/me/orgs/{org.pk}/edit/")), action="")
    assert form.data["bank_account_name"] == [""]
    assert form.data["contact_name"] == [org.contact_name]  # the profile's, not the account's


# ---- dates are written as a browser reads them (defect 1) -------------------------------------


def test_the_edit_form_shows_the_founding_date_and_saving_keeps_it(client, org_leader, regions):
    from tests.html_forms import read_form

    org, _ = org_leader
    page = text(client.get(f"/me/orgs/{org.pk}/edit/"))
    assert '<input type="date" name="founded_on" value="2018-05-01"' in page
    form = read_form(page, action="")
    response = client.post(f"/me/orgs/{org.pk}/edit/", form.post_data())
    assert response.status_code == 302
    assert Organisation.objects.get(pk=org.pk).founded_on.isoformat() == "2018-05-01"


# ---- text limits (defect 10) ----------------------------------------------------------------------


def test_an_introduction_of_megabytes_is_refused_and_nothing_saved(client, user, regions, areas):
    from core.forms import TEXT_MAX_LENGTH

    response = client.post("/me/orgs/new/", form_data(regions, areas, introduction="很长" * 2_500_000))
    assert response.status_code == 200
    assert f"内容不能超过 {TEXT_MAX_LENGTH} 个字（现在是 5000000 个字），请精简后再保存。" in text(response)
    assert f'maxlength="{TEXT_MAX_LENGTH}"' in text(client.get("/me/orgs/new/"))
    assert not Organisation.objects.exists()


def test_the_model_refuses_an_overlong_introduction_whoever_saves_it(regions):
    from django.core.exceptions import ValidationError

    from tests.factories import OrganisationFactory

    org = OrganisationFactory.build(region=regions["fenghuang"], introduction="字" * 2001)
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert exc.value.message_dict["introduction"] == ["简介不能超过 2000 个字，请精简后再保存。"]


# ---- who may change which document (defect 10) -----------------------------------------------------


@pytest.fixture
def finance(client, org_leader):
    org, _ = org_leader
    member = applicant()
    Membership.objects.create(organisation=org, user=member, role=Membership.Role.FINANCE)
    client.force_login(member)
    return org, member


def test_a_finance_member_is_offered_only_the_bank_proof_and_told_why(client, finance):
    from tests.html_forms import read_form

    org, _ = finance
    page = text(client.get(f"/me/orgs/{org.pk}/"))
    form = read_form(page, action=f"/me/orgs/{org.pk}/documents/")
    assert form.data["kind"] == [DocumentKind.BANK_PROOF]
    assert ">登记证书</option>" not in page
    assert (
        "您在本组织的角色是“财务”，只能上传银行开户证明；登记证书、章程、备案证明等法定材料由负责人或项目联系人上传。"
        in page
    )


def test_a_finance_member_cannot_replace_the_registration_certificate(client, finance):
    org, member = finance
    response = upload(client, org, pdf_upload(), kind=DocumentKind.REGISTRATION_CERTIFICATE)
    assert response.status_code == 400
    assert not OrganisationDocument.objects.exists()

    # nor through the service, whatever the form offered
    up = pdf_upload()
    up.kind = "pdf"
    with pytest.raises(PermissionDenied, match="您在本组织的角色是“财务”，不能上传“章程”"):
        services.document_upload(org=org, by=member, kind=DocumentKind.CHARTER, upload=up)
    assert not OrganisationDocument.objects.exists()

    assert upload(client, org, pdf_upload("开户证明.pdf"), kind=DocumentKind.BANK_PROOF).status_code == 302
    assert OrganisationDocument.objects.get().kind == DocumentKind.BANK_PROOF


def test_the_contact_person_may_upload_legal_documents(client, org_leader):
    org, _ = org_leader
    contact = applicant()
    Membership.objects.create(organisation=org, user=contact, role=Membership.Role.CONTACT)
    client.force_login(contact)
    page = text(client.get(f"/me/orgs/{org.pk}/"))
    assert ">登记证书</option>" in page and ">银行开户证明</option>" in page
    assert "登记证书、章程、备案证明等法定材料只能由负责人或项目联系人上传；财务只能上传银行开户证明。" in page
    assert upload(client, org, pdf_upload()).status_code == 302


def test_the_upload_rule_covers_every_kind():
    from orgs.documents import uploadable_kinds

    R = Membership.Role
    assert uploadable_kinds(R.LEADER) == uploadable_kinds(R.CONTACT) == list(DocumentKind.values)
    assert uploadable_kinds(R.FINANCE) == [DocumentKind.BANK_PROOF]
    assert uploadable_kinds(None) == []


# ---- download names (defect 10) --------------------------------------------------------------------


def test_a_slash_in_the_organisations_name_does_not_cut_the_download_name(client, document):
    Organisation.objects.filter(pk=document.organisation_id).update(name="鄂州市A/B社会工作服务中心")
    response = download(client, document)
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; filename=\"A_B--v1.pdf\"; filename*=UTF-8''")
    from urllib.parse import unquote

    assert unquote(disposition.split("''", 1)[1]) == "鄂州市A_B社会工作服务中心-章程-v1.pdf"


# ---- stale copies and files of a rolled-back save (defect 12) ---------------------------------------


def _stored_files(org) -> set[str]:
    """The organisation's files in the private storage (which outlives a test's database)."""
    from core.files import private_storage

    storage = private_storage()
    found = set()
    for kind in DocumentKind.values:
        folder = f"orgs/{org.pk}/{kind}"
        if storage.exists(folder):
            found |= {f"{folder}/{n}" for n in storage.listdir(folder)[1]}
    return found


def test_saving_a_profile_after_the_status_changed_explains_and_saves_nothing(org_leader):
    org, leader = org_leader
    stale = Organisation.objects.get(pk=org.pk)
    Organisation.objects.filter(pk=org.pk).update(status=Status.SUBMITTED)  # a submit in another tab
    with pytest.raises(ValidationError, match="在您操作期间，组织的登记状态已有变化，本次修改没有保存。请刷新页面"):
        services.organisation_update(org=stale, by=leader, data={"contact_name": "李四"})
    assert Organisation.objects.get(pk=org.pk).contact_name == "张三"


def test_a_concurrent_transition_during_the_save_is_a_message_and_the_new_logo_is_deleted(
    org_leader, monkeypatch, tmp_path, settings
):
    """Even when the change lands between the check and the save (no row lock on SQLite),
    django-fsm's ConcurrentTransition becomes the same message, and the logo the save had
    already stored is removed."""
    import io

    from PIL import Image

    org, leader = org_leader
    monkeypatch.setattr(services, "_require_status_unchanged", lambda org, action: None)
    stale = Organisation.objects.get(pk=org.pk)
    Organisation.objects.filter(pk=org.pk).update(status=Status.SUBMITTED)
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    logo = SimpleUploadedFile("logo.png", png.getvalue(), content_type="image/png")
    storage = Organisation._meta.get_field("logo").storage
    before = set(storage.listdir("org-logos")[1]) if storage.exists("org-logos") else set()

    with pytest.raises(ValidationError, match="本次修改没有保存"):
        services.organisation_update(org=stale, by=leader, data={"logo": logo})

    after = set(storage.listdir("org-logos")[1]) if storage.exists("org-logos") else set()
    assert after == before
    assert not Organisation.objects.get(pk=org.pk).logo


def test_uploading_after_the_status_changed_explains_and_keeps_no_file(org_leader):
    org, leader = org_leader
    stale = Organisation.objects.get(pk=org.pk)
    Organisation.objects.filter(pk=org.pk).update(status=Status.SUBMITTED)
    up = pdf_upload()
    up.kind = "pdf"
    before = _stored_files(org)
    with pytest.raises(ValidationError, match="本次上传没有保存"):
        services.document_upload(org=stale, by=leader, kind=DocumentKind.CHARTER, upload=up)
    assert not OrganisationDocument.objects.exists()
    assert _stored_files(org) == before


def test_a_document_whose_row_cannot_be_saved_leaves_no_file(org_leader, monkeypatch):
    from django.db import IntegrityError

    org, leader = org_leader

    def clash(self, *args, **kwargs):
        raise IntegrityError("UNIQUE constraint failed: one_current_document_per_kind")

    monkeypatch.setattr(OrganisationDocument, "save", clash)
    storage = OrganisationDocument._meta.get_field("file").storage
    real_save, stored = storage.save, []

    def save_and_note(*args, **kwargs):
        stored.append(real_save(*args, **kwargs))
        return stored[-1]

    monkeypatch.setattr(storage, "save", save_and_note)
    up = pdf_upload()
    up.kind = "pdf"
    before = _stored_files(org)
    with pytest.raises(ValidationError, match="同一时间有其他成员上传了同类材料，本次上传没有保存"):
        services.document_upload(org=org, by=leader, kind=DocumentKind.CHARTER, upload=up)
    assert len(stored) == 1  # the file had been written before the row failed ...
    assert _stored_files(org) == before  # ... and is gone again
