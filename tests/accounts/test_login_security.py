"""Password guessing: the lock counts the account whatever spelling was typed, one address
is throttled across accounts, and X-Forwarded-For is believed only from a trusted proxy.
Sign-up is rate-limited per address and a lost race gives the form's own message."""

import threading

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts import throttle
from accounts.forms import SignupForm
from accounts.models import User
from tests.accounts.test_auth import SIGNUP
from tests.factories import PASSWORD, UserFactory

LOGIN = "/accounts/login/"
LOCKED = "登录失败次数过多"


def _try(client, name, password="wrong-password", **extra):
    return client.post(LOGIN, {"username": name, "password": password}, **extra)


def _logged_in(client) -> bool:
    return client.get("/me/").status_code == 200


@pytest.mark.django_db
def test_every_spelling_of_username_and_mobile_counts_against_one_account(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(username="zhangsan", mobile="13900000005")
    spellings = ["zhangsan", "13900000005", "+8613900000005", "0086 139 0000 0005", "1390000000--5"]
    for name in spellings:  # five different spellings, five failures: the account is locked
        _try(client, name)
    for name in [*spellings, "139-0000-0005", " zhangsan "]:
        response = _try(client, name, password=PASSWORD)
        assert LOCKED in response.content.decode(), name
        assert not _logged_in(client)


@pytest.mark.django_db
def test_alternating_username_and_mobile_locks_the_account(client, settings):
    settings.AXES_FAILURE_LIMIT = 4
    UserFactory(username="zhangsan", mobile="13900000005")
    for i in range(4):
        _try(client, "zhangsan" if i % 2 else "13900000005")
    response = _try(client, "zhangsan", password=PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not _logged_in(client)


@pytest.mark.django_db
def test_the_lock_holds_from_another_address(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="zhangsan", mobile="13900000005")
    for _ in range(3):
        _try(client, "zhangsan", REMOTE_ADDR="203.0.113.1")
    response = _try(client, "+86 139 0000 0005", password=PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert LOCKED in response.content.decode()


@pytest.mark.django_db
def test_unknown_mobile_spellings_share_one_counter(rf, settings):
    request = rf.post(LOGIN)
    keys = {
        throttle.account_key(request, {"username": n})
        for n in ["13700000001", "+86 137-0000-0001", "0086137 0000 0001"]
    }
    assert keys == {"13700000001"}


@pytest.mark.django_db
def test_one_address_is_throttled_across_many_accounts(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 6
    UserFactory(username="victim")
    for i in range(6):  # two failures each on three accounts: no account is locked
        _try(client, f"user{i // 2}")
    response = _try(client, "victim", password=PASSWORD)
    html = response.content.decode()
    assert response.status_code == 429 and LOCKED in html and "网络地址" in html
    assert not _logged_in(client)
    # the victim's account is not locked: from another address the right password works
    response = _try(client, "victim", password=PASSWORD, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302


@pytest.mark.django_db
def test_admin_login_counts_the_same_account(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="staffer", mobile="13900000006", is_superuser=True)
    client.post("/admin/login/", {"username": "staffer", "password": "wrong"})
    client.post("/admin/login/", {"username": "+86 13900000006", "password": "wrong"})
    _try(client, "139-0000-0006")
    response = client.post("/admin/login/", {"username": "staffer", "password": PASSWORD})
    assert LOCKED in response.content.decode()


# ---- the client address ----


def _request(remote, xff=None):
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **meta)


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert throttle.client_ip(_request("203.0.113.5", "10.9.9.9")) == "203.0.113.5"
    settings.TRUSTED_PROXIES = []
    assert throttle.client_ip(_request("127.0.0.1", "10.9.9.9")) == "127.0.0.1"


def test_x_forwarded_for_is_honoured_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert throttle.client_ip(_request("127.0.0.1", "203.0.113.5")) == "203.0.113.5"
    # what the client wrote itself (left of the hops our proxies added) is not believed
    assert throttle.client_ip(_request("127.0.0.1", "1.2.3.4, 203.0.113.5, 10.0.0.2")) == "203.0.113.5"
    assert throttle.client_ip(_request("127.0.0.1")) == "127.0.0.1"


@pytest.mark.django_db
def test_spoofed_forwarded_for_cannot_dodge_the_address_throttle(client, settings):
    settings.TRUSTED_PROXIES = []
    settings.AXES_FAILURE_LIMIT = 100
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    UserFactory(username="victim")
    for i in range(3):
        _try(client, f"someone{i}", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    response = _try(client, "victim", password=PASSWORD, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.0.0.99")
    assert LOCKED in response.content.decode()


@pytest.mark.django_db
def test_behind_the_trusted_proxy_one_attacker_does_not_lock_everyone(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    UserFactory(username="victim")
    for i in range(3):
        _try(client, f"someone{i}", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    blocked = _try(client, "victim", password=PASSWORD, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert LOCKED in blocked.content.decode()
    ok = _try(client, "victim", password=PASSWORD, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert ok.status_code == 302


# ---- sign-up ----


@pytest.mark.django_db
def test_signup_is_rate_limited_per_address(client, settings):
    settings.SIGNUP_IP_LIMIT = 3
    for _ in range(3):
        client.post(reverse("accounts:signup"), {**SIGNUP, "username": "ab"}, REMOTE_ADDR="203.0.113.8")
    response = client.post(reverse("accounts:signup"), SIGNUP, REMOTE_ADDR="203.0.113.8")
    html = response.content.decode()
    assert response.status_code == 429 and "注册次数过多" in html
    assert 'value="陈晓梅"' in html  # what was typed is kept
    assert not User.objects.filter(username="laobaobei").exists()
    # another address is not affected
    response = client.post(reverse("accounts:signup"), SIGNUP, REMOTE_ADDR="198.51.100.8")
    assert response.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, rival, message",
    [
        ("username", {"username": "laobaobei"}, "该用户名已被注册"),
        ("mobile", {"mobile": "13912345678"}, "该手机号已被注册"),
        ("email", {"email": "CHEN@example.org"}, "该电子邮箱已被注册"),
    ],
)
def test_signup_losing_a_race_shows_the_form_message(client, monkeypatch, field, rival, message):
    """The rival account is committed after this form validated and before it saved: the
    database refuses the insert (IntegrityError), and the user sees the field's message."""
    real_is_valid = SignupForm.is_valid

    def is_valid_then_rival_commits(self):
        ok = real_is_valid(self)
        UserFactory(**{"username": "rival", "mobile": "13800000009", "email": "rival@example.org", **rival})
        return ok

    monkeypatch.setattr(SignupForm, "is_valid", is_valid_then_rival_commits)
    response = client.post(reverse("accounts:signup"), SIGNUP)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert 'value="陈晓梅"' in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.parametrize(
    "shared, message",
    [
        ({"email": "same@example.org"}, "该电子邮箱已被注册"),
        ({"username": "samename"}, "该用户名已被注册"),
        ({"mobile": "13955550000"}, "该手机号已被注册"),
    ],
)
def test_twenty_simultaneous_signups_make_exactly_one_account(settings, shared, message):
    settings.SIGNUP_IP_LIMIT = 1000
    n = 20
    barrier = threading.Barrier(n)
    outcomes, lock = [], threading.Lock()

    def sign_up(i):
        try:
            data = {**SIGNUP, "username": f"racer{i:02d}", "mobile": f"139000000{i:02d}", "email": f"r{i}@example.org"}
            data.update(shared)
            if i % 2:  # the same address in other letter case is the same address
                data["email"] = data["email"].upper()
            client = Client()
            barrier.wait(timeout=10)
            try:
                response = client.post(reverse("accounts:signup"), data)
                if response.status_code == 302:
                    result = "created"
                elif response.status_code == 200 and message in response.content.decode():
                    result = "refused"
                else:
                    result = f"HTTP {response.status_code}"
            except Exception as exc:  # a 500 surfaces here in the test client
                result = repr(exc)
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(outcomes) == ["created"] + ["refused"] * (n - 1)
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_email_migration_keeps_the_oldest_account_s_address():
    """Accounts created before the constraint may share an address: the migration leaves it
    on the oldest account and the others without one, so the constraint can be added."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0002_verification_code")])
    executor.loader.build_graph()
    old = executor.loader.project_state([("accounts", "0002_verification_code")]).apps.get_model("accounts", "User")
    first = old.objects.create(username="first", email="Shared@example.org", password="!")
    second = old.objects.create(username="second", email="shared@EXAMPLE.org", password="!")
    alone = old.objects.create(username="alone", email="alone@example.org", password="!")
    old.objects.create(username="nomail1", email="", password="!")
    old.objects.create(username="nomail2", email="", password="!")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    emails = dict(User.objects.values_list("pk", "email"))
    assert emails[first.pk] == "Shared@example.org"
    assert emails[second.pk] == ""
    assert emails[alone.pk] == "alone@example.org"
