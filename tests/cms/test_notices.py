"""公示公告 (/notices/): a 公示 gets its public page, live, when it is published; the page shows
the window, the frozen list (public columns only, nothing private), how many objections
were received and handled, and the objection form while the window is open; the index
lists open 公示 first, then the newest. Editors may add only notice pages under it."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from wagtail.models import Page

from accounts.roles import Role
from cms import setup
from cms.models import HomePage, NoticeIndexPage, NoticePage, SectionPage
from grants.models import Objection, ProposalStatus, Publicity
from grants.services import publicity as services
from tests.factories import PDF_BYTES, UserFactory, staff
from tests.grants.factories import make_call, make_publicity, proposal_at, publicity_row

pytestmark = pytest.mark.django_db
D = datetime.timedelta


def cn(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


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
def publicity(site_pages, call, listed):
    rows = [publicity_row(p, i, amount="123456.5", score="88.125") for i, p in enumerate(listed, 1)]
    # what award.py must never put in a row, put there to prove the page shows only public columns
    rows[0] |= {"uscc": listed[0].organisation.uscc, "phone": "13812340000", "reviewers": ["评委张某某"]}
    return make_publicity(call, rows=rows, intro="公示期内如有异议，请实名提出。\n监督电话：0711-3200000")


def page_of(publicity) -> NoticePage:
    return NoticePage.objects.get(publicity=publicity)


# ---- the section and the pages made with the 公示 ---------------------------------------------------


def test_the_notices_section_is_a_notice_index_with_a_real_empty_state(client, site_pages):
    index = NoticeIndexPage.objects.get()
    assert index.url == "/notices/" and index.live and index.title == "公示公告"
    assert not SectionPage.objects.filter(slug="notices").exists()
    html = client.get("/notices/").content.decode()
    assert "暂无公示公告。" in html and "公示期内可以提出异议" in html


def test_an_old_notices_section_is_converted_in_place(client, db, monkeypatch):
    monkeypatch.setattr(setup, "SECTION_PAGE_TYPES", {})
    setup.ensure_site()
    monkeypatch.undo()
    old = SectionPage.objects.get(slug="notices")
    earlier = old.save_revision()
    setup.ensure_site()
    index = NoticeIndexPage.objects.get()
    assert index.pk == old.pk and index.url == "/notices/" and index.empty_text == "暂无公示公告。"
    assert Page.objects.get(pk=index.pk).specific_class is NoticeIndexPage
    earlier.refresh_from_db()
    assert type(earlier.as_object()) is NoticeIndexPage  # the history still opens
    assert client.get("/notices/").status_code == 200


def test_the_migration_converts_an_existing_section_in_place(client, db, monkeypatch):
    """cms 0004 turns a site's placeholder section into the index (a site that never runs
    seed_demo again), keeping the page, its URL and its revisions."""
    import importlib

    from django.apps import apps
    from django.db import connection

    monkeypatch.setattr(setup, "SECTION_PAGE_TYPES", {})
    setup.ensure_site()
    monkeypatch.undo()
    old = SectionPage.objects.get(slug="notices")
    old.save_revision().publish()
    migration = importlib.import_module("cms.migrations.0004_notice_pages")

    class Editor:  # the two things the migration asks of a schema editor
        quote_name = staticmethod(connection.ops.quote_name)

        @staticmethod
        def execute(sql, params):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    migration.section_to_notice_index(apps, Editor())

    index = Page.objects.get(pk=old.pk).specific
    assert type(index) is NoticeIndexPage and index.url == "/notices/" and index.empty_text == "暂无公示公告。"
    assert index.get_latest_revision().as_object().specific_class is NoticeIndexPage
    assert "暂无公示公告。" in client.get("/notices/").content.decode()
    migration.notice_index_to_section(apps, Editor())
    assert type(Page.objects.get(pk=old.pk).specific) is SectionPage


def test_a_new_publicity_gets_a_live_page_under_the_index(client, publicity, call):
    page = page_of(publicity)
    assert page.get_parent().specific_class is NoticeIndexPage
    assert page.live and page.title == publicity.title and page.slug == f"{call.year}-{call.pk}-shortlist"
    assert Publicity.objects.get(pk=publicity.pk).get_absolute_url() == page.url == f"/notices/{page.slug}/"
    assert client.get(page.url).status_code == 200
    assert page.intro == "<p>公示期内如有异议，请实名提出。</p><p>监督电话：0711-3200000</p>"
    assert publicity.title in client.get("/notices/").content.decode()


def test_publicity_made_before_the_site_get_their_pages_when_it_is_built(call, listed):
    publicity = make_publicity(call, proposals=listed)
    assert not NoticePage.objects.exists()
    setup.ensure_site()
    assert page_of(publicity).live
    setup.ensure_site()
    assert NoticePage.objects.count() == 1


def test_editors_may_add_only_notice_pages_under_the_index(client, site_pages):
    index = NoticeIndexPage.objects.get()
    assert NoticeIndexPage.allowed_subpage_models() == [NoticePage]
    assert NoticePage.allowed_parent_page_models() == [NoticeIndexPage] and NoticePage.allowed_subpage_models() == []
    assert NoticeIndexPage in HomePage.allowed_subpage_models()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(f"/admin/pages/{index.pk}/add_subpage/")
    assert response.status_code == 302 and response.url == f"/admin/pages/add/cms/noticepage/{index.pk}/"
    assert client.get(response.url).status_code == 200


def test_an_editor_writes_the_intro_but_not_the_title_of_a_publicity_page(client, publicity):
    from tests.html_forms import read_form

    page = page_of(publicity)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = f"/admin/pages/{page.pk}/edit/"
    html = client.get(url).content.decode()
    assert "由系统在发布公示时自动生成并发布" in html and "公示的标题随公示名单" in html
    data = read_form(html, action=url).post_data()
    data["title"] = "改掉的标题"
    data["intro"] = (
        '{"blocks": [{"key": "a", "type": "unstyled", "text": "监督电话：0711-3209999。", "depth": 0,'
        ' "inlineStyleRanges": [], "entityRanges": []}], "entityMap": {}}'
    )
    response = client.post(url, data | {"action-publish": "action-publish"})
    assert response.status_code == 302, response.content[:500]
    page = NoticePage.objects.get(pk=page.pk)
    assert page.title == publicity.title and "0711-3209999" in page.intro
    html = client.get(page.url).content.decode()
    assert "监督电话：0711-3209999。" in html and "改掉的标题" not in html


# ---- one 公示's page ----------------------------------------------------------------------------------


def test_the_page_shows_the_window_the_list_and_nothing_private(client, publicity, call, listed):
    from cms.models import CallPage

    CallPage.objects.get(call=call).save_revision().publish()
    objection = services.file_objection(
        publicity=publicity,
        name="王先生",
        contact="13987654321",
        reason="该项目的服务对象人数与社区实际情况不符。",
        client=services.client_hash("203.0.113.7"),
    )
    html = client.get(page_of(publicity).url).content.decode()

    today = timezone.localdate()
    opens, closes = today - D(days=1), today + D(days=5)
    until = f"{closes.month}月{closes.day}日" if closes.year == opens.year else cn(closes)
    assert f"公示期：{cn(opens)}至{until}" in html and "公示中" in html and "异议受理中" in html
    assert f'href="{CallPage.objects.get(call=call).url}">{call.title}</a>' in html
    for header in ("排名", "项目名称", "申报组织", "服务领域", "实施地点", "拟资助金额（元）", "评审得分"):
        assert re.search(rf'<th scope="col"( class="call-num")?>{header}</th>', html), header
    for p in listed:
        assert p.title in html and p.organisation.name in html
    assert "凤凰街道" in html and "老年人" in html
    assert html.count('<td data-label="拟资助金额（元）" class="call-num">123,456.50</td>') == 2
    assert '<td data-label="评审得分" class="call-num">88.13</td>' in html
    assert "拟资助金额合计 246,913.00 元" in html
    # nothing private: the organisations' phone and USCC, reviewers, an objector's contact
    for secret in (
        listed[0].organisation.uscc,
        listed[1].organisation.uscc,
        listed[0].organisation.contact_phone,
        "13812340000",
        "评委张某某",
        objection.contact,
        objection.reason,
        listed[0].number,
    ):
        assert secret not in html, secret
    assert "共收到异议 <strong>1</strong> 件，已处理 <strong>0</strong> 件。" in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrfmiddlewaretoken"' in html


def test_the_counts_say_how_many_were_received_and_handled(client, publicity, regions):
    manager = staff(Role.CALL_MANAGER, regions["fenghuang"])
    made = [
        services.file_objection(
            publicity=publicity,
            name=f"居民{i}",
            contact=f"1390000000{i}",
            reason="该项目的服务对象人数与社区实际情况不符。",
            client=services.client_hash(f"10.0.0.{i}"),
        )
        for i in range(3)
    ]
    services.objection_uphold(objection=made[0], by=manager, reason="经核实成立。")
    services.objection_dismiss(objection=made[1], by=manager, reason="经核实不成立。")
    html = client.get(page_of(publicity).url).content.decode()
    assert "共收到异议 <strong>3</strong> 件，已处理 <strong>2</strong> 件。" in html
    assert "经核实" not in html and "居民0" not in html
    index = client.get("/notices/").content.decode()
    assert "收到异议 3 件，已处理 2 件" in index


def test_a_closed_window_says_so_and_offers_no_form(client, site_pages, call, listed):
    today = timezone.localdate()
    publicity = make_publicity(call, proposals=listed, opens_on=today - D(days=9), closes_on=today - D(days=2))
    url = page_of(publicity).url
    html = client.get(url).content.decode()
    assert f"公示期已于{cn(today - D(days=2))}结束，不再受理异议。" in html and "公示已结束" in html
    assert "提交异议" not in html and 'name="reason"' not in html

    response = client.post(url, {"name": "王先生", "contact": "13987654321", "reason": "迟到的异议内容也有十个字。"})
    assert response.status_code == 400 and "不再受理异议" in response.content.decode()
    assert not Objection.objects.exists()


def test_before_the_window_the_page_says_when_it_opens(client, site_pages, call, listed):
    today = timezone.localdate()
    publicity = make_publicity(call, proposals=listed, opens_on=today + D(days=2), closes_on=today + D(days=8))
    html = client.get(page_of(publicity).url).content.decode()
    assert f"公示期自{cn(today + D(days=2))}开始，届时可在本页提出异议。" in html and "即将公示" in html
    assert 'name="reason"' not in html


def test_a_result_notice_has_no_objection_section(client, site_pages, call, listed):
    publicity = make_publicity(call, proposals=listed, kind="result")
    html = client.get(page_of(publicity).url).content.decode()
    assert "立项结果" in html and f"发布日期：{cn(publicity.opens_on)}" in html
    assert "异议受理" not in html and "共收到异议" not in html and "序号" in html


# ---- filing on the page ------------------------------------------------------------------------------


def _typed(listed, **overrides):
    return {
        "name": "王先生",
        "contact": "wang@example.com",
        "proposal": str(listed[1].pk),
        "reason": "该项目申报的服务对象人数与社区实际情况明显不符。",
        "website": "",
    } | overrides


def test_a_visitor_files_an_objection_and_gets_a_receipt_number(client, publicity, listed):
    url = page_of(publicity).url
    data = _typed(listed, evidence=SimpleUploadedFile("情况说明.pdf", PDF_BYTES))
    response = client.post(url, data, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 302 and response.url == f"{url}#objection"
    objection = Objection.objects.get()
    assert objection.proposal == listed[1] and objection.contact == "wang@example.com"
    assert objection.client_hash == services.client_hash("203.0.113.7")
    assert objection.evidence_name == "情况说明.pdf"
    html = client.get(url).content.decode()
    number = services.receipt_number(objection)
    assert f"您的异议已收到，异议编号 {number}。工作人员核实后将通过您留下的联系方式与您联系" in html
    assert "共收到异议 <strong>1</strong> 件" in html and "wang@example.com" not in html
    assert number not in client.get(url).content.decode()  # said once


def test_an_error_keeps_what_was_typed_except_the_file(client, publicity, listed):
    url = page_of(publicity).url
    data = _typed(listed, contact="138", evidence=SimpleUploadedFile("情况说明.pdf", PDF_BYTES))
    response = client.post(url, data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写有效的联系方式" in html
    assert 'value="王先生"' in html and 'value="138"' in html and data["reason"] in html
    assert f'<option value="{listed[1].pk}" selected>' in html
    assert not Objection.objects.exists()

    response = client.post(url, _typed(listed, evidence=SimpleUploadedFile("照片.pdf", b"not a pdf at all")))
    assert response.status_code == 400 and "实际内容不是允许的类型" in response.content.decode()
    response = client.post(url, _typed(listed, reason="不公平"))
    assert response.status_code == 400 and "至少10个字" in response.content.decode()
    response = client.post(url, _typed(listed, proposal="999999"))
    assert response.status_code == 400 and "所选项目不在本次公示名单中" in response.content.decode()
    assert not Objection.objects.exists()


def test_the_fourth_objection_in_an_hour_is_refused_with_when_to_try_again(client, publicity, listed):
    url = page_of(publicity).url
    for _ in range(3):
        assert client.post(url, _typed(listed), REMOTE_ADDR="203.0.113.9").status_code == 302
    response = client.post(url, _typed(listed, name="第四次"), REMOTE_ADDR="203.0.113.9")
    html = response.content.decode()
    assert response.status_code == 429 and "每小时对同一公示最多提出3件异议" in html and "之后再提交" in html
    assert 'value="第四次"' in html
    assert Objection.objects.count() == 3
    assert client.post(url, _typed(listed), REMOTE_ADDR="198.51.100.4").status_code == 302


def test_the_form_is_csrf_protected_and_a_robot_filling_the_hidden_field_is_refused(publicity, listed):
    url = page_of(publicity).url
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(url, _typed(listed)).status_code == 403
    html = browser.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = browser.post(url, _typed(listed, website="http://spam.example", csrfmiddlewaretoken=token))
    assert response.status_code == 400 and "提交未成功" in response.content.decode()
    assert not Objection.objects.exists()
    assert browser.post(url, _typed(listed, csrfmiddlewaretoken=token)).status_code == 302
    assert Objection.objects.count() == 1


# ---- the index ------------------------------------------------------------------------------------


def _titles(html) -> list[str]:
    return re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', html)


def test_the_index_lists_open_publicity_first_then_the_newest(client, site_pages, regions):
    today = timezone.localdate()
    now = timezone.now()
    made = {}
    for key, region, opens, closes, age in (
        ("old_closed", "fenghuang", -40, -33, 40),
        ("open", "gulou", -2, 4, 3),
        ("new_closed", "fenghuang_c", -9, -1, 1),
    ):
        c = make_call(regions[region], title=f"{key}征集")
        made[key] = make_publicity(
            c, rows=[], title=f"{key}立项公示", opens_on=today + D(days=opens), closes_on=today + D(days=closes)
        )
        Publicity.objects.filter(pk=made[key].pk).update(published_at=now - D(days=age))
    index = client.get("/notices/").content.decode()
    assert _titles(index) == ["open立项公示", "new_closed立项公示", "old_closed立项公示"]
    assert "公示中" in index and "公示已结束" in index
    assert f"公示期：{cn(today - D(days=2))}至" in index


def test_the_index_pages_and_takes_few_queries_however_many(client, site_pages, regions):
    from tests.queries import page_queries

    today = timezone.localdate()
    first = make_publicity(make_call(regions["fenghuang"]), rows=[], opens_on=today)
    few = page_queries(client, "/notices/")
    for i in range(13):
        make_publicity(make_call(regions["gulou"], title=f"第{i}个征集"), rows=[], opens_on=today)
    assert page_queries(client, "/notices/") == few
    html = client.get("/notices/").content.decode()
    assert len(_titles(html)) == 12 and "第 1 / 2 页" in html and "下一页" in html
    assert first.title in client.get("/notices/", {"page": 2}).content.decode()


def test_the_page_takes_few_queries_however_long_the_list(client, site_pages, call, listed):
    from tests.queries import page_queries

    rows = [publicity_row(listed[0], i) for i in range(1, 4)]
    short = make_publicity(call, rows=rows)
    few = page_queries(client, page_of(short).url)
    long = make_publicity(call, rows=rows * 40, kind="result")
    assert page_queries(client, page_of(long).url) <= few


def test_a_notice_page_saved_unchanged_in_the_admin_changes_nothing(client, publicity):
    """tests/test_form_roundtrip.py's check for cms.NoticePageForm: the 公示's page opened
    and published unchanged keeps its title, intro, slug and 公示."""
    from tests.html_forms import read_form

    page = page_of(publicity)
    fields = ("title", "draft_title", "slug", "intro", "publicity_id", "live", "seo_title", "search_description")
    before = NoticePage.objects.filter(pk=page.pk).values(*fields).get()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = f"/admin/pages/{page.pk}/edit/"
    data = read_form(client.get(url).content.decode(), action=url).post_data()
    response = client.post(url, data | {"action-publish": "action-publish"})
    assert response.status_code == 302, response.content[:500]
    after = NoticePage.objects.filter(pk=page.pk).values(*fields).get()
    # Draftail keys each paragraph (data-block-key): the text and markup are otherwise the same
    after["intro"] = re.sub(r' data-block-key="[^"]*"', "", after["intro"])
    assert after == before
