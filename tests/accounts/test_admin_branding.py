"""The admin is this product: its name on the log-in page, in <title> and the logo; no
Wagtail help menu, no stock English groups, Chinese where Wagtail ships English. The
site's own log-in pages name the product, not the request's host."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from accounts.roles import GROUP_NAMES
from tests.factories import PASSWORD, UserFactory

NAME = "公益创投管理平台"


def _visible(html: str) -> str:
    """Text and attribute values a person sees or hears; scripts and inline SVG paths dropped."""
    html = re.sub(r"<(script|style|template)\b.*?</\1>", "", html, flags=re.S)
    return html


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_site_login_pages_name_the_product_not_the_host(client, url):
    html = client.get(url, HTTP_HOST="127.0.0.1:8000").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert NAME in title and "127.0.0.1" not in title
    header = html.split("</header>")[0]
    footer = html.split('<footer class="site-footer">')[1]
    assert NAME in header and NAME in footer
    assert "127.0.0.1:8000" not in html


@pytest.mark.django_db
def test_password_reset_mail_names_the_product(client):
    UserFactory(email="reset@example.org")
    client.post("/accounts/password/reset/", {"email": "reset@example.org"}, HTTP_HOST="127.0.0.1:8000")
    message = mail.outbox[0]
    assert f"【{NAME}】" in message.subject and f"在{NAME}的账号" in message.body


@pytest.mark.django_db
def test_admin_login_is_the_product_in_chinese(client):
    html = _visible(client.get("/admin/login/").content.decode())
    assert NAME in re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert NAME in html.split("<h1>")[1].split("</h1>")[0]
    assert "Wagtail" not in html and "Password" not in html
    assert "用户名或手机号" in html and "密码" in html
    assert f'aria-label="{NAME}"' in html  # the logo is the product's


@pytest.mark.django_db
def test_admin_login_accepts_the_mobile_and_refuses_in_chinese(client):
    UserFactory(username="staffer", mobile="13900000008", is_superuser=True)
    response = client.post("/admin/login/", {"username": "staffer", "password": "wrong"})
    assert "用户名（或手机号）或密码不正确" in response.content.decode()
    response = client.post("/admin/login/", {"username": "139 0000 0008", "password": PASSWORD})
    assert response.status_code == 302 and client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_dashboard_has_no_wagtail_help_or_branding(client):
    client.force_login(UserFactory(is_superuser=True))
    html = _visible(client.get("/admin/").content.decode())
    assert NAME in re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "Wagtail" not in html
    props = client.get("/admin/").content.decode()
    assert "guide.wagtail.org" not in props  # neither the help menu nor the editor-guide link
    assert '"help"' not in props


@pytest.mark.django_db
def test_groups_are_the_roles_only(client):
    names = set(Group.objects.values_list("name", flat=True))
    assert not names & {"Moderators", "Editors"}
    assert set(GROUP_NAMES.values()) <= names
    client.force_login(UserFactory(is_superuser=True))
    html = client.get("/admin/groups/").content.decode()
    assert "Moderators" not in html and "Editors" not in html
    assert "申报单位" in html


@pytest.mark.django_db
def test_staff_user_form_help_is_chinese(client):
    client.force_login(UserFactory(is_superuser=True))
    html = _visible(client.get("/admin/users/new/").content.decode())
    assert "Letters, digits" not in html and "Required." not in html
    assert "登录时也可用手机号" in html


@pytest.mark.django_db
def test_page_explorer_is_chinese(client, site_pages):
    client.force_login(UserFactory(is_superuser=True))
    for url in ["/admin/pages/", f"/admin/pages/{site_pages.pk}/"]:
        html = _visible(client.get(url).content.decode())
        for english in ["Exploring", "Date updated", "Edited by", "Has child pages", "Page type", "Sort by", "Locking"]:
            assert english not in html, (url, english)
        assert "浏览" in html
