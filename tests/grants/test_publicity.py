"""公示 objections: filing one (grants.services.publicity.file_objection) only while the window
is open, with a real contact, a reason, a project on the list and a real PDF/JPG/PNG, at
most 3 an hour per client and 公示; and staff handling them in the admin (公益创投 › 公示异议),
scoped to the call's region, read-only for auditors and finance, a written 处理情况 required."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.workflow import WorkflowError
from grants.models import Objection, ObjectionStatus, ProposalStatus
from grants.services import publicity as services
from grants.staff.objections import objections_viewset
from tests.factories import PDF_BYTES, PNG_BYTES, applicant, staff
from tests.grants.factories import make_call, make_publicity, proposal_at

pytestmark = pytest.mark.django_db
D = datetime.timedelta
S = ObjectionStatus
LIST = "/admin/grants/objections/"
CLIENT = services.client_hash("203.0.113.7")


@pytest.fixture
def call(regions):
    return make_call(regions["fenghuang"], title="凤凰街道2026年公益创投项目征集")


@pytest.fixture
def listed(call):
    return [
        proposal_at(call, ProposalStatus.ELIGIBLE, title="老宝贝·社区长者助餐陪伴计划"),
        proposal_at(call, ProposalStatus.ELIGIBLE, title="小候鸟·暑期托管"),
    ]


@pytest.fixture
def publicity(call, listed):
    return make_publicity(call, proposals=listed)


@pytest.fixture
def manager(regions):
    return staff(Role.CALL_MANAGER, regions["fenghuang"], name="凤凰街道民政专干")


def file(publicity, **overrides):
    values = {
        "name": "王先生",
        "contact": "139 1234 5678",
        "reason": "该项目申报的服务对象人数与社区实际情况明显不符，请核实。",
        "client": CLIENT,
    }
    return services.file_objection(publicity=publicity, **(values | overrides))


def _refused(exc) -> dict:
    return exc.value.message_dict if hasattr(exc.value, "error_dict") else {"__all__": exc.value.messages}


# ---- filing -------------------------------------------------------------------------------------------


def test_an_objection_filed_in_the_window_is_kept_with_a_receipt_number(publicity, listed):
    objection = file(publicity, proposal=listed[1].pk)

    objection.refresh_from_db()
    assert objection.status == S.RECEIVED and objection.proposal == listed[1]
    assert objection.contact == "13912345678"  # kept as 11 digits
    assert objection.client_hash == CLIENT and "203.0.113.7" not in objection.client_hash
    assert re.fullmatch(rf"{timezone.localdate():%y}-\d{{4,}}", services.receipt_number(objection))
    log = StateLog.objects.get(object_id=objection.pk, content_type__model="objection")
    assert log.transition == "create" and log.description == "提交异议" and log.by is None


def test_an_e_mail_is_a_contact_too(publicity):
    assert file(publicity, contact=" Wang@Example.COM ").contact == "wang@example.com"


@pytest.mark.parametrize(
    ("opens", "closes", "message"),
    [
        (2, 8, "公示期自"),  # not yet begun
        (-9, -2, "公示期已于"),  # over
    ],
)
def test_outside_the_window_it_is_refused_and_nothing_is_kept(call, listed, opens, closes, message):
    today = timezone.localdate()
    publicity = make_publicity(call, proposals=listed, opens_on=today + D(days=opens), closes_on=today + D(days=closes))
    with pytest.raises(ValidationError) as exc:
        file(publicity)
    text = "".join(exc.value.messages)
    assert message in text
    if closes < 0:
        assert (
            text
            == f"公示期已于{(today + D(days=closes)).year}年{(today + D(days=closes)).month}月{(today + D(days=closes)).day}日结束，不再受理异议。"
        )
    assert not Objection.objects.exists()


def test_the_last_day_still_counts_and_a_result_notice_takes_none(call, listed):
    today = timezone.localdate()
    last_day = make_publicity(call, proposals=listed, opens_on=today - D(days=6), closes_on=today)
    assert file(last_day).pk
    result = make_publicity(call, proposals=listed, kind="result", opens_on=today)
    with pytest.raises(ValidationError, match="不受理异议"):
        file(result)
    assert Objection.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact", "12345", "有效的联系方式"),
        ("contact", "wang@", "有效的联系方式"),
        ("contact", "23912345678", "有效的联系方式"),
        ("reason", "不公平！", "至少10个字（现在是4个字）"),
        ("reason", "          ", "至少10个字"),
        ("name", "  ", "请填写您的姓名"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_kept(publicity, field, value, message):
    with pytest.raises(ValidationError) as exc:
        file(publicity, **{field: value})
    assert message in "".join(_refused(exc)[field])
    assert not Objection.objects.exists()


def test_a_project_not_on_this_list_is_refused(publicity, call, regions):
    other = proposal_at(call, ProposalStatus.SUBMITTED, title="没有进入名单的项目")
    for value in (other.pk, other, 999999, "abc"):
        with pytest.raises(ValidationError) as exc:
            file(publicity, proposal=value)
        assert _refused(exc)["proposal"] == ["所选项目不在本次公示名单中，请重新选择。"]
    assert not Objection.objects.exists()


def _private_files():
    from django.core.files.storage import storages

    storage = storages["private"]
    try:
        _, names = storage.listdir("objections")
    except FileNotFoundError:
        return set()
    found = set()
    for folder in storage.listdir("objections")[0]:
        found |= {f"{folder}/{n}" for n in storage.listdir(f"objections/{folder}")[1]}
    return found | set(names)


def test_evidence_must_really_be_a_pdf_jpg_or_png_of_at_most_10_mb(publicity, settings):
    before = _private_files()
    cases = [
        (SimpleUploadedFile("证明.pdf", b"just some text, not a pdf"), "实际内容不是允许的类型"),
        (SimpleUploadedFile("证明.docx", b"PK\x03\x04" + b"x" * 100), "实际内容不是允许的类型"),
        (SimpleUploadedFile("照片.png", PDF_BYTES), "扩展名与实际内容"),
        (SimpleUploadedFile("大文件.pdf", PDF_BYTES + b"0" * (10 * 1024 * 1024)), "超过了 10 MB 的上限"),
    ]
    for upload, message in cases:
        with pytest.raises(ValidationError) as exc:
            file(publicity, evidence=upload)
        assert message in "".join(_refused(exc)["evidence"]), upload.name
    assert not Objection.objects.exists() and _private_files() == before

    kept = file(publicity, evidence=SimpleUploadedFile("现场照片.png", PNG_BYTES))
    assert kept.evidence_name == "现场照片.png" and kept.evidence.storage.exists(kept.evidence.name)
    assert kept.evidence.name.startswith(f"objections/{publicity.pk}/") and "现场" not in kept.evidence.name


def test_one_client_files_at_most_three_an_hour_on_one_publicity(publicity, call, listed):
    for _ in range(3):
        file(publicity)
    with pytest.raises(services.TooManyObjections) as exc:
        file(publicity)
    again = timezone.localtime() + D(hours=1)
    assert "每小时对同一公示最多提出3件异议" in exc.value.message
    said = re.search(r"请于 (\d{4}年\d{1,2}月\d{1,2}日 )?(\d\d:\d\d) 之后再提交", exc.value.message)
    assert said.group(2) in {again.strftime("%H:%M"), (again - D(minutes=1)).strftime("%H:%M")}
    # after 23:00 the hour ends tomorrow, and the message says which day
    assert bool(said.group(1)) == (timezone.localdate(again) != timezone.localdate()) or again.minute == 0
    assert Objection.objects.count() == 3
    # another address, or the same one on another 公示, is not held back
    file(publicity, client=services.client_hash("198.51.100.1"))
    other = make_publicity(call, proposals=listed, kind="result")
    assert services.client_hash("203.0.113.7") == CLIENT
    cache.clear()  # an hour later
    file(publicity)
    assert Objection.objects.filter(publicity=publicity).count() == 5 and not other.objections.exists()


def test_refused_filings_do_not_use_the_allowance(publicity):
    for _ in range(5):
        with pytest.raises(ValidationError):
            file(publicity, reason="太短")
    for _ in range(3):
        file(publicity)
    assert Objection.objects.count() == 3


# ---- handling (services) ----------------------------------------------------------------------------


def test_upholding_or_dismissing_needs_the_handling_written(publicity, manager):
    objection = file(publicity)
    for service in (services.objection_uphold, services.objection_dismiss):
        with pytest.raises(WorkflowError, match="请填写处理情况"):
            service(objection=objection, by=manager, reason="  ")
    objection.refresh_from_db()
    assert objection.status == S.RECEIVED and objection.handled_by is None

    services.objection_dismiss(objection=objection, by=manager, reason="经核实，服务对象人数与社区台账一致。")
    objection.refresh_from_db()
    assert objection.status == S.DISMISSED and objection.handled_by == manager and objection.handled_at
    assert objection.handling == "经核实，服务对象人数与社区台账一致。"
    log = StateLog.objects.filter(object_id=objection.pk, content_type__model="objection").latest("pk")
    assert (log.transition, log.by, log.description) == ("dismiss", manager, objection.handling)
    with pytest.raises(WorkflowError, match="当前状态为“异议不成立”"):
        services.objection_uphold(objection=objection, by=manager, reason="再改一次。")


def test_only_a_call_manager_of_the_region_handles_one(publicity, regions):
    objection = file(publicity)
    for user in (
        staff(Role.AUDITOR, regions["city"]),
        staff(Role.FINANCE, regions["city"]),
        staff(Role.CALL_MANAGER, regions["gulou"]),
        applicant(),
    ):
        with pytest.raises(PermissionDenied):
            services.objection_uphold(objection=objection, by=user, reason="越权处理。")
    objection.refresh_from_db()
    assert objection.status == S.RECEIVED


# ---- the staff screens ---------------------------------------------------------------------------


def page_url(o) -> str:
    return reverse("grants_admin:objection", args=[o.pk])


def action_url(o, slug) -> str:
    return reverse("grants_admin:objection_action", args=[o.pk, slug])


def evidence_url(o) -> str:
    return reverse("grants_admin:objection_evidence", args=[o.pk])


@pytest.fixture
def filed(publicity, listed):
    return file(
        publicity,
        name="李女士",
        contact="13987654321",
        proposal=listed[0].pk,
        evidence=SimpleUploadedFile("情况说明.pdf", PDF_BYTES),
    )


def _rows(response) -> list:
    return list(response.context["page_obj"].object_list)


def test_the_list_shows_objections_of_the_users_region_waiting_first(client, regions, call, publicity, filed, manager):
    older = file(publicity, name="赵先生")
    services.objection_dismiss(objection=older, by=manager, reason="经核实不成立。")
    gulou_call = make_call(regions["gulou"])
    elsewhere = file(make_publicity(gulou_call, proposals=[proposal_at(gulou_call, ProposalStatus.ELIGIBLE)]))
    client.force_login(manager)

    response = client.get(LIST)

    assert response.status_code == 200
    assert [o.pk for o in _rows(response)] == [filed.pk, older.pk]
    html = response.content.decode()
    for text in ("提交时间", "公示", "对应项目", "状态", "处理人", publicity.title, "老宝贝·社区长者助餐陪伴计划"):
        assert text in html
    assert "待处理" in html and "异议不成立" in html and "凤凰街道民政专干" in html
    assert f'href="{page_url(filed)}"' in html and page_url(elsewhere) not in html

    assert [o.pk for o in _rows(client.get(LIST, {"status": S.DISMISSED}))] == [older.pk]
    assert [o.pk for o in _rows(client.get(LIST, {"call": call.pk}))] == [filed.pk, older.pk]
    response = client.get(LIST, {"call": gulou_call.pk})  # another street's call: refused aloud, not shown
    assert elsewhere.pk not in [o.pk for o in _rows(response)]

    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))  # the district sees both
    assert {o.pk for o in _rows(client.get(LIST))} == {filed.pk, older.pk, elsewhere.pk}
    client.force_login(staff(Role.CALL_MANAGER, regions["huarong"]))
    response = client.get(LIST)
    assert _rows(response) == [] and "您负责区域的公示还没有收到异议" in response.content.decode()


def test_the_list_costs_the_same_queries_however_many_objections(client, publicity, manager):
    from tests.queries import page_queries

    file(publicity)
    client.force_login(manager)
    few = page_queries(client, LIST)
    for i in range(12):
        file(publicity, client=services.client_hash(f"10.0.0.{i}"))
    assert page_queries(client, LIST) == few


def test_the_page_shows_the_objector_the_evidence_and_the_project(client, filed, manager, listed):
    client.force_login(manager)
    html = client.get(page_url(filed)).content.decode()

    assert "李女士" in html and "13987654321" in html and filed.reason in html
    assert f'href="{evidence_url(filed)}"' in html and "情况说明.pdf" in html
    assert f'href="{reverse("grants_admin:proposal", args=[listed[0].pk])}"' in html
    assert (
        f"<dt>公示期</dt><dd>{services.window_dates(filed.publicity)}</dd>" in html
        and "异议成立" in html
        and "异议不成立" in html
    )
    assert action_url(filed, "uphold") in html

    response = client.get(evidence_url(filed))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert "attachment" in response["Content-Disposition"] and "no-store" in response["Cache-Control"]


def test_handling_in_the_admin_requires_the_handling_written(client, filed, manager):
    client.force_login(manager)
    response = client.post(action_url(filed, "uphold"), {"handle-reason": " "})
    assert response.status_code == 400 and "请填写处理情况。" in response.content.decode()
    filed.refresh_from_db()
    assert filed.status == S.RECEIVED

    response = client.post(action_url(filed, "uphold"), {"handle-reason": "经核实，该组织负责人系评审专家亲属。"})
    assert response.status_code == 302 and response.url == page_url(filed)
    filed.refresh_from_db()
    assert filed.status == S.UPHELD and filed.handled_by == manager
    html = client.get(page_url(filed)).content.decode()
    assert "已记录：异议成立" in html and "经核实，该组织负责人系评审专家亲属。" in html
    assert action_url(filed, "dismiss") not in html  # handled once


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.FINANCE])
def test_auditors_and_finance_read_the_page_and_are_refused(client, regions, filed, role):
    client.force_login(staff(role, regions["city"]))
    assert filed.pk in [o.pk for o in _rows(client.get(LIST))]
    html = client.get(page_url(filed)).content.decode()
    assert 'id="read-only"' in html and action_url(filed, "uphold") not in html
    assert client.get(evidence_url(filed)).status_code == 200

    response = client.post(action_url(filed, "uphold"), {"handle-reason": "越权处理。"})

    assert response.status_code == 403 and "您没有“异议成立”的权限" in response.content.decode()
    filed.refresh_from_db()
    assert filed.status == S.RECEIVED


def test_staff_of_another_region_get_404_and_change_nothing(client, regions, filed):
    client.force_login(staff(Role.CALL_MANAGER, regions["gulou"]))
    assert filed.pk not in [o.pk for o in _rows(client.get(LIST))]
    for response in (
        client.get(page_url(filed)),
        client.get(evidence_url(filed)),
        client.post(action_url(filed, "uphold"), {"handle-reason": "越权处理。"}),
    ):
        assert response.status_code == 404
    filed.refresh_from_db()
    assert filed.status == S.RECEIVED


def test_anonymous_users_and_applicants_do_not_get_in(client, regions, filed):
    for url in (LIST, page_url(filed), evidence_url(filed)):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/admin/login/"), url
    assert client.post(action_url(filed, "uphold"), {"handle-reason": "x"}).url.startswith("/admin/login/")
    for user in (applicant(), staff(Role.REVIEWER, regions["fenghuang"])):
        client.force_login(user)
        for url in (LIST, page_url(filed), evidence_url(filed)):
            assert client.get(url).status_code in (302, 403), (user, url)
    filed.refresh_from_db()
    assert filed.status == S.RECEIVED


def test_the_menu_and_the_dashboard(client, rf, regions, filed, manager):
    item = objections_viewset.get_menu_item()
    for role, shown in ((Role.CALL_MANAGER, True), (Role.AUDITOR, True), (Role.FINANCE, True), (Role.REVIEWER, False)):
        request = rf.get("/admin/")
        request.user = staff(role, regions["fenghuang"])
        assert item.is_shown(request) is shown, role
    client.force_login(manager)
    html = client.get("/admin/").content.decode()
    assert "公示异议待处理" in html and f"{LIST}?status=received" in html
    services.objection_dismiss(objection=filed, by=manager, reason="经核实不成立。")
    assert "公示异议待处理" not in client.get("/admin/").content.decode()
