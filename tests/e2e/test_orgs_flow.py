"""The registration round trip in a real browser: an applicant registers and submits, a
民政 call manager returns it from the Wagtail admin, the applicant corrects and resubmits,
the manager verifies, and the organisation appears in the public directory."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop here

import pytest
from django_fsm_log.models import StateLog

from accounts.roles import Role, sync_roles
from orgs.models import Organisation, OrganisationStatus
from tests.factories import PASSWORD, PDF_BYTES, applicant, make_uscc, staff

from .conftest import login, screenshot

pytestmark = pytest.mark.e2e

ORG_NAME = "鄂州市凤凰街道老宝贝为老服务中心"
RETURN_REASON = "章程缺少理事会产生办法，请上传最新核准的章程，并补充电子邮箱。"


@pytest.fixture
def pdfs(tmp_path):
    paths = {}
    for label in ("登记证书", "章程", "章程-修订"):
        path = tmp_path / f"{label}.pdf"
        path.write_bytes(PDF_BYTES)
        paths[label] = str(path)
    return paths


def upload(page, kind_label: str, path: str):
    page.select_option("select[name=kind]", label=kind_label)
    page.set_input_files("input[name=file]", path)
    page.click("form[action$='/documents/'] button[type=submit]")
    page.wait_for_load_state()
    assert "已上传" in page.content()


def logout(page):
    page.context.clear_cookies()


def test_registration_is_returned_corrected_and_verified(page, live_server, e2e_site, pdfs):
    regions = e2e_site
    sync_roles()  # groups get their permissions back after the transactional flush
    leader = applicant(username="laobaobei", name="陈晓梅")
    manager = staff(Role.CALL_MANAGER, regions["echeng"], username="echeng_mz", name="王建国")

    # ---- the applicant registers, uploads the two documents and submits ----------------
    login(page, live_server, leader.username, PASSWORD)
    page.goto(live_server.url + "/me/orgs/new/")
    page.fill("#id_name", ORG_NAME)
    page.select_option("#id_org_type", "service_org")
    page.fill("#id_uscc", make_uscc(4207))
    page.fill("#id_legal_representative", "陈晓梅")
    page.fill("#id_address", "湖北省鄂州市凤凰街道澜湖路18号")
    page.select_option("#id_region", label="凤凰街道")
    page.fill("#id_contact_name", "陈晓梅")
    page.fill("#id_contact_phone", "13912345678")
    page.click("button:has-text('保存')")
    page.wait_for_url("**/me/orgs/*/")
    org = Organisation.objects.get(name=ORG_NAME)
    detail_url = f"{live_server.url}/me/orgs/{org.pk}/"

    upload(page, "登记证书", pdfs["登记证书"])
    upload(page, "章程", pdfs["章程"])
    page.click("button:has-text('提交审核')")
    page.wait_for_load_state()
    assert "已提交审核" in page.content()
    screenshot(page, "orgs-applicant-submitted")
    org.refresh_from_db()
    assert org.status == OrganisationStatus.SUBMITTED

    # ---- the district call manager finds it in the queue and returns it ---------------------
    logout(page)
    login(page, live_server, manager.username, PASSWORD, path="/admin/login/")
    page.goto(live_server.url + "/admin/orgs/review/")
    assert ORG_NAME in page.content()
    screenshot(page, "orgs-admin-queue")
    page.click(f"text={ORG_NAME}")
    page.wait_for_url(f"**/admin/orgs/review/{org.pk}/")
    assert page.locator("#documents iframe").count() == 2
    assert "陈晓梅" in page.locator("#members").inner_text()
    screenshot(page, "orgs-admin-review")

    page.click("button:has-text('退回补正')")  # no reason yet: refused, nothing changes
    page.wait_for_load_state()
    assert "请填写理由，申请单位将看到这段说明。" in page.content()
    org.refresh_from_db()
    assert org.status == OrganisationStatus.SUBMITTED

    page.fill("textarea[name='reason-reason']", RETURN_REASON)
    page.click("button:has-text('退回补正')")
    page.wait_for_url(f"**/admin/orgs/review/{org.pk}/")
    assert "已退回补正" in page.content()
    assert RETURN_REASON in page.locator("#history").inner_text()
    org.refresh_from_db()
    assert org.status == OrganisationStatus.RETURNED

    # ---- the applicant reads the reason, corrects and resubmits -----------------------------
    logout(page)
    login(page, live_server, leader.username, PASSWORD)
    page.goto(detail_url)
    assert RETURN_REASON in page.locator("[role=alert]").inner_text()
    screenshot(page, "orgs-applicant-returned")
    page.click("a:has-text('修改资料')")
    page.fill("#id_email", "laobaobei@example.org")
    page.click("button:has-text('保存')")
    page.wait_for_url(detail_url)
    upload(page, "章程", pdfs["章程-修订"])
    page.click("button:has-text('重新提交审核')")
    page.wait_for_load_state()
    assert "已提交审核" in page.content()

    # ---- the manager sees the new charter version and verifies ------------------------------
    logout(page)
    login(page, live_server, manager.username, PASSWORD, path="/admin/login/")
    page.goto(f"{live_server.url}/admin/orgs/review/{org.pk}/")
    assert "历史版本" in page.content()
    assert "laobaobei@example.org" in page.content()
    page.fill("textarea[name='reason-reason']", "材料齐全，信息属实。")
    page.click("button:has-text('审核通过')")
    page.wait_for_url(f"**/admin/orgs/review/{org.pk}/")
    assert "已审核通过" in page.content()
    screenshot(page, "orgs-admin-verified")
    org.refresh_from_db()
    assert org.status == OrganisationStatus.VERIFIED
    assert [log.state for log in StateLog.objects.for_(org).order_by("timestamp", "pk")] == [
        "draft",  # created: the history starts when the organisation does
        "submitted",
        "returned",
        "submitted",
        "verified",
    ]

    # ---- anyone finds it in the public directory ------------------------------------------
    logout(page)
    page.goto(live_server.url + "/directory/")
    assert ORG_NAME in page.content()
    screenshot(page, "orgs-directory")
