"""The public page cache (core.public_cache): an anonymous visitor's second visit is served
from the cache without a query; a published change (a Wagtail page, a call's page, a 公示,
a project's status) shows at once; a logged-in user neither gets nor fills it; a cached
page with a form gives every visitor a token of their own, so their POST is accepted."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from cms.models import CallPage, HomePage
from core import public_cache
from grants.models import Objection, ProposalStatus
from grants.services import evaluations
from tests.factories import UserFactory, staff
from tests.grants.factories import make_call, make_publicity, proposal_at, signed_projects

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_pages")]
on = override_settings(PUBLIC_CACHE_SECONDS=300)
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def get(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return response


def state(client, url) -> str:
    return get(client, url).get(public_cache.HEADER, "")


def html(client, url) -> str:
    return get(client, url).content.decode()


def publish(page, **fields):
    for name, value in fields.items():
        setattr(page, name, value)
    page.save_revision().publish()


@on
def test_the_second_visit_is_served_from_the_cache_without_a_query(client):
    first = get(client, "/")
    assert first[public_cache.HEADER] == "miss"
    with CaptureQueriesContext(connection) as queries:
        second = get(client, "/")
    assert second[public_cache.HEADER] == "hit" and len(queries) == 0
    # the same page (each visitor's CSRF token apart), with the headers the site sends
    assert TOKEN.sub("", second.content.decode()) == TOKEN.sub("", first.content.decode())
    assert second["Content-Type"] == first["Content-Type"] and second["X-Frame-Options"] == first["X-Frame-Options"]
    assert '<html lang="zh-Hans">' in second.content.decode()
    # a HEAD is answered from the same entry; another query string is another page
    assert client.head("/")[public_cache.HEADER] == "hit"
    assert state(client, "/?from=rss") == "miss" and state(client, "/?from=rss") == "hit"


def test_off_by_default_in_tests_and_then_nothing_is_cached_or_counted(client):
    assert public_cache.HEADER not in get(client, "/")
    assert public_cache.HEADER not in get(client, "/")
    make_call(title="凤凰街道2026年助老服务项目征集")
    assert cache.get(public_cache.VERSION_KEY) is None  # saves do not touch the cache


@on
def test_a_published_wagtail_page_shows_at_once(client):
    assert state(client, "/") == "miss" and state(client, "/") == "hit"
    publish(HomePage.objects.get(), hero_title="公益创投，让社区更有温度")
    response = get(client, "/")
    assert response[public_cache.HEADER] == "miss" and "公益创投，让社区更有温度" in response.content.decode()
    assert state(client, "/") == "hit"
    # a draft saved but not published changes nothing a visitor reads
    home = HomePage.objects.get()
    home.hero_title = "尚未发布的标题"
    home.save_revision()
    assert "尚未发布的标题" not in html(client, "/")


@on
def test_a_call_page_published_and_edited_shows_at_once(client):
    call = make_call(title="凤凰街道2026年助老服务项目征集")
    page = CallPage.objects.get(call=call)  # a draft until an editor publishes it
    assert "凤凰街道2026年助老服务项目征集" not in html(client, "/calls/")
    assert state(client, "/calls/") == "hit"
    publish(page, announcement="<p>请于截止日期前在线提交申报书。</p>")
    assert "凤凰街道2026年助老服务项目征集" in html(client, "/calls/")

    url = page.url
    assert "请于截止日期前在线提交申报书。" in html(client, url) and state(client, url) == "hit"
    publish(CallPage.objects.get(pk=page.pk), announcement="<p>申报截止时间延长至月底。</p>")
    assert "申报截止时间延长至月底。" in html(client, url)
    # unpublished: gone from the list at once
    CallPage.objects.get(pk=page.pk).unpublish()
    assert "凤凰街道2026年助老服务项目征集" not in html(client, "/calls/")


@on
def test_a_published_publicity_shows_at_once(client):
    call = make_call(title="凤凰街道2026年公益创投项目征集")
    listed = [proposal_at(call, ProposalStatus.ELIGIBLE, title="老宝贝·社区长者助餐陪伴计划")]
    title = "凤凰街道2026年公益创投项目征集立项公示"
    assert title not in html(client, "/notices/") and state(client, "/notices/") == "hit"
    make_publicity(call, proposals=listed)
    response = get(client, "/notices/")
    assert response[public_cache.HEADER] == "miss" and title in response.content.decode()


@on
def test_a_projects_status_change_shows_at_once(client):
    _call, [project], manager, _finance = signed_projects()
    url = f"/directory/{project.organisation_id}/"
    assert "实施中" in html(client, url) and state(client, url) == "hit"
    evaluation = evaluations.evaluation_start(proposal=project, kind="mid_term", by=manager)
    points = {c["key"]: str(c["weight"] * 8 // 10) for c in evaluations.rubric_of(project.call)}
    evaluations.evaluation_submit(evaluation=evaluation, by=manager, points=points, comment="按计划开展，成效明显。")
    project.refresh_from_db()
    assert project.status == ProposalStatus.MID_TERM_PASSED
    response = get(client, url)
    assert response[public_cache.HEADER] == "miss" and "中期评估通过" in response.content.decode()


@on
def test_a_change_committed_drops_pages_rendered_while_it_was_under_way(django_capture_on_commit_callbacks):
    connection.run_on_commit.clear()  # the site pages saved before, in the test's own transaction
    version = public_cache.current_version()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make_call(title="凤凰街道2026年助老服务项目征集")  # several rows, one transaction
        during = public_cache.current_version()
        assert during != version  # at once, for this process
    # and once more at commit, whatever was rendered from the old rows meanwhile
    assert len([c for c in callbacks if c is public_cache._committed]) == 1
    assert public_cache.current_version() not in (version, during)


@on
def test_a_logged_in_user_never_gets_a_cached_page_and_never_fills_it(client):
    user = UserFactory(name="王小明")
    client.force_login(user)
    response = get(client, "/")
    assert response[public_cache.HEADER] == "bypass" and "退出" in response.content.decode()
    assert get(client, "/")[public_cache.HEADER] == "bypass"

    visitor = Client()
    first = get(visitor, "/")
    assert first[public_cache.HEADER] == "miss" and "退出" not in first.content.decode()  # nothing of theirs stored
    assert state(visitor, "/") == "hit"
    assert get(client, "/")[public_cache.HEADER] == "bypass" and "退出" in html(client, "/")
    # staff screens are never cached, not even for a visitor
    client.force_login(staff(Role.CALL_MANAGER, make_call().region))
    assert public_cache.HEADER not in client.get("/admin/")
    assert public_cache.HEADER not in visitor.get("/accounts/login/")


@on
def test_a_cached_page_with_a_form_takes_the_post_of_whoever_it_is_served_to():
    call = make_call(title="凤凰街道2026年公益创投项目征集")
    listed = [proposal_at(call, ProposalStatus.ELIGIBLE, title="小候鸟·暑期托管")]
    url = make_publicity(call, proposals=listed).page.url
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    assert state(first, url) == "miss"
    response = get(second, url)
    assert response[public_cache.HEADER] == "hit"
    page = response.content.decode()
    assert "\x00" not in page and "提交异议" in page
    token = TOKEN.search(page).group(1)
    assert token != TOKEN.search(html(first, url)).group(1)
    assert second.cookies["csrftoken"].value != first.cookies["csrftoken"].value  # their own cookie

    data = {"name": "王先生", "contact": "wang@example.com", "proposal": str(listed[0].pk), "website": ""}
    data["reason"] = "该项目申报的服务对象人数与社区实际情况明显不符。"
    posted = second.post(url, {**data, "csrfmiddlewaretoken": token})
    assert posted.status_code == 302 and Objection.objects.count() == 1
    # they read their receipt (kept in their session: not cached), everyone the new count
    assert "您的异议已收到" in html(second, url)
    third = Client()
    assert "共收到异议 <strong>1</strong> 件" in html(third, url) and "您的异议已收到" not in html(third, url)
    # a visitor holding a CSRF cookie already gets a token for that cookie
    assert (
        second.post(url, {**data, "csrfmiddlewaretoken": TOKEN.search(html(second, url)).group(1)}).status_code == 302
    )


@on
def test_the_need_form_served_from_the_cache_is_accepted(client):
    make_call(title="凤凰街道2026年助老服务项目征集", status="needs")
    Client().get("/needs/new/")
    browser = Client(enforce_csrf_checks=True)
    response = get(browser, "/needs/new/")
    assert response[public_cache.HEADER] == "hit"
    token = TOKEN.search(response.content.decode()).group(1)
    assert browser.post("/needs/new/", {"csrfmiddlewaretoken": token}).status_code != 403
    assert Client(enforce_csrf_checks=True).post("/needs/new/", {"csrfmiddlewaretoken": token}).status_code == 403


@on
def test_what_is_never_stored(client, monkeypatch):
    # not found
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/no-such-page/")[public_cache.HEADER] == "miss"
    # another language is another page
    assert state(client, "/") == "miss"
    english = Client()
    english.cookies["django_language"] = "en"
    response = get(english, "/")
    assert response[public_cache.HEADER] == "miss" and 'lang="en"' in response.content.decode()
    assert state(english, "/") == "hit" and state(client, "/") == "hit"
    # a visitor with messages waiting for them
    waiting = Client()
    waiting.cookies["messages"] = "something"
    assert get(waiting, "/")[public_cache.HEADER] == "bypass"
    # tomorrow (a window closes, a deadline passes) the pages are rendered anew
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(public_cache.timezone, "localdate", lambda *a: tomorrow)
    assert state(client, "/") == "miss"
