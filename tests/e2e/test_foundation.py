import pytest

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

from .conftest import login, screenshot

pytestmark = pytest.mark.e2e


def test_home_page_renders_in_chinese(page, live_server, e2e_site):
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    nav = page.locator("nav.main-nav").inner_text()
    for label in ["首页", "项目申报", "孵化基地", "资助项目", "公示公告", "数据统计", "登录"]:
        assert label in nav
    assert "公益创投" in page.locator("h1").inner_text()
    screenshot(page, "home")


def test_home_page_on_a_phone_has_a_menu(mobile_page, live_server, e2e_site):
    mobile_page.goto(live_server.url + "/")
    assert not mobile_page.locator("nav.main-nav").is_visible()
    mobile_page.click("label.nav-toggle-label")
    assert mobile_page.locator("nav.main-nav").is_visible()
    screenshot(mobile_page, "home-mobile")


def test_applicant_signs_up_logs_in_and_sees_dashboard(page, live_server, e2e_site):
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("#id_username", "lanhu_laobaobei")
    page.fill("#id_name", "陈晓梅")
    page.fill("#id_mobile", "13912345678")
    page.fill("#id_email", "chen@example.org")
    page.fill("#id_password1", "Lanhu-2026-safe")
    page.fill("#id_password2", "Lanhu-2026-wrong")
    page.click("button[type=submit]")
    # the mismatch is reported in Chinese and what was typed is kept
    assert "两次输入的密码不一致" in page.content()
    assert page.input_value("#id_mobile") == "13912345678"
    page.fill("#id_password1", "Lanhu-2026-safe")
    page.fill("#id_password2", "Lanhu-2026-safe")
    page.click("button[type=submit]")
    page.wait_for_url("**/me/")
    assert "我的工作台" in page.content()
    assert User.objects.filter(username="lanhu_laobaobei", mobile="13912345678").exists()

    # log out, then log in again with the mobile number
    page.click("text=退出")
    page.wait_for_load_state()
    login(page, live_server, "13912345678", "Lanhu-2026-safe")
    page.goto(live_server.url + "/me/")
    assert "我的组织" in page.content()
    assert "陈晓梅" in page.content()
    screenshot(page, "dashboard")


def test_staff_user_logs_into_admin_in_chinese(page, live_server, e2e_site):
    UserFactory(username="minzheng", is_superuser=True, is_staff=True)
    login(page, live_server, "minzheng", PASSWORD, path="/admin/login/")
    page.wait_for_url("**/admin/")
    html = page.content()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "仪表板" in html or "控制面板" in html or "页面" in html
    screenshot(page, "admin-dashboard")
