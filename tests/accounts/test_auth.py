import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.roles import GROUP_NAMES, Role
from tests.factories import PASSWORD, UserFactory

SIGNUP = {
    "username": "laobaobei",
    "name": "陈晓梅",
    "mobile": "13912345678",
    "email": "chen@example.org",
    "password1": "Lanhu-2026-safe",
    "password2": "Lanhu-2026-safe",
}


@pytest.mark.django_db
def test_signup_creates_applicant_and_logs_in(client):
    response = client.post(reverse("accounts:signup"), SIGNUP)
    assert response.status_code == 302 and response["Location"] == "/me/"
    user = User.objects.get(username="laobaobei")
    assert user.mobile == "13912345678" and user.name == "陈晓梅"
    assert user.groups.filter(name=GROUP_NAMES[Role.APPLICANT]).exists()
    assert "陈晓梅" in client.get("/me/").content.decode()


@pytest.mark.django_db
def test_signup_accepts_mobile_with_country_code_and_spaces(client):
    client.post(reverse("accounts:signup"), {**SIGNUP, "mobile": "+86 139-1234-5678"})
    assert User.objects.get(username="laobaobei").mobile == "13912345678"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"mobile": "1391234567"}, "mobile", "请输入11位中国大陆手机号码"),
        ({"mobile": "23912345678"}, "mobile", "请输入11位中国大陆手机号码"),
        ({"password1": "12345678", "password2": "12345678"}, "password1", "只包含数字"),
        ({"password1": "abc", "password2": "abc"}, "password1", "密码长度太短，至少需要 8 个字符"),
        ({"password2": "Other-2026-pass"}, "password2", "两次输入的密码不一致"),
        ({"username": "ab"}, "username", "用户名至少4个字符"),
        ({"email": "not-an-email"}, "email", "有效的"),
    ],
)
def test_signup_bad_input_is_refused_in_chinese_and_keeps_input(client, change, field, message):
    data = {**SIGNUP, **change}
    response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in e for e in form.errors[field]), form.errors
    html = response.content.decode()
    assert 'value="陈晓梅"' in html  # what the user typed is kept
    assert not User.objects.filter(username=data["username"]).exists()


@pytest.mark.django_db
def test_signup_with_taken_username_or_mobile(client):
    UserFactory(username="laobaobei", mobile="13800000001")
    UserFactory(username="someone", mobile="13912345678")
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "username": "LaoBaoBei"})
    assert "该用户名已被注册" in response.content.decode()
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "username": "fresh_name"})
    assert "该手机号已被注册" in response.content.decode()
    assert User.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("login_name", ["zhangsan", "13800138000"])
def test_login_with_username_or_mobile(client, login_name):
    UserFactory(username="zhangsan", mobile="13800138000")
    response = client.post(reverse("accounts:login"), {"username": login_name, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/me/").status_code == 200


@pytest.mark.django_db
def test_login_failure_message_is_chinese(client):
    UserFactory(username="zhangsan")
    response = client.post(reverse("accounts:login"), {"username": "zhangsan", "password": "wrong-password"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "用户名（或手机号）或密码不正确" in html
    assert 'value="zhangsan"' in html


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_with_chinese_message(client, settings):
    UserFactory(username="zhangsan")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "zhangsan", "password": "wrong"})
    # even the right password is refused now
    response = client.post(reverse("accounts:login"), {"username": "zhangsan", "password": PASSWORD})
    assert response.status_code == 429 or response.status_code == 403
    assert "登录失败次数过多" in response.content.decode()
    assert client.get("/me/").status_code == 302


@pytest.mark.django_db
def test_admin_login_is_locked_out_too(client, settings):
    UserFactory(username="staffer", is_superuser=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "staffer", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "staffer", "password": PASSWORD})
    assert "登录失败次数过多" in response.content.decode()


@pytest.mark.django_db
def test_logout_requires_post_and_logs_out(client):
    user = UserFactory()
    client.force_login(user)
    client.post(reverse("accounts:logout"))
    assert client.get("/me/").status_code == 302


@pytest.mark.django_db
def test_password_change(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "Brand-new-2026", "new_password2": "Brand-new-2026"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-new-2026")


@pytest.mark.django_db
def test_password_reset_by_email(client):
    user = UserFactory(email="reset@example.org")
    response = client.post(reverse("accounts:password_reset"), {"email": "reset@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "重置密码" in message.subject
    link = next(line for line in message.body.splitlines() if "/accounts/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "Reset-ok-2026", "new_password2": "Reset-ok-2026"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Reset-ok-2026")


@pytest.mark.django_db
def test_dashboard_needs_login(client):
    response = client.get("/me/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
