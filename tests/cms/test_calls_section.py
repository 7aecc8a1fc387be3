"""项目申报 (/calls/): a call gets its page when it is created (a draft the editors write
and publish), the page follows the call's title, shows what the call knows (rules,
timeline with today's stage, the needs it answers, how many applied, 立即申报 while open),
and the index lists the published calls by status, level, region and year."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from wagtail.documents.models import Document
from wagtail.models import Page

from accounts.roles import Role
from cms import setup
from cms.models import CallIndexPage, CallPage, CallPageDocument, SectionPage
from grants.models import Call, CallLevel, CallStatus, Need, ProposalStatus
from grants.services import calls as call_services
from tests.factories import staff
from tests.grants.factories import make_call, proposal_at

pytestmark = pytest.mark.django_db
S = CallStatus
D = datetime.timedelta


def publish(call, **fields) -> CallPage:
    page = CallPage.objects.get(call=call)
    for name, value in fields.items():
        setattr(page, name, value)
    page.save_revision().publish()
    return CallPage.objects.get(pk=page.pk)


# ---- the section and the page made with the call -----------------------------------------------------


def test_the_calls_section_is_a_call_index(site_pages):
    index = CallIndexPage.objects.get()
    assert index.url == "/calls/" and index.live and index.title == "项目申报"
    assert not SectionPage.objects.filter(slug="calls").exists()


def test_an_old_calls_section_is_converted_in_place(client, db, monkeypatch):
    monkeypatch.setattr(setup, "SECTION_PAGE_TYPES", {})
    setup.ensure_site()
    monkeypatch.undo()
    old = SectionPage.objects.get(slug="calls")
    setup.ensure_site()
    index = CallIndexPage.objects.get()
    assert index.pk == old.pk and index.url == "/calls/"
    assert Page.objects.get(pk=index.pk).specific_class is CallIndexPage
    assert client.get("/calls/").status_code == 200


def test_a_new_call_gets_a_draft_page_under_the_index_titled_as_the_call(client, site_pages, regions):
    call = make_call(regions["fenghuang"])
    page = CallPage.objects.get(call=call)
    assert page.get_parent().specific_class is CallIndexPage
    assert (page.title, page.slug, page.live) == (call.title, f"{call.year}-{call.pk}", False)
    assert page.get_latest_revision() is not None
    assert client.get(f"/calls/{page.slug}/").status_code == 404  # not published yet
    assert call.get_absolute_url() == "/calls/"

    publish(call)
    call = Call.objects.get(pk=call.pk)
    assert call.get_absolute_url() == f"/calls/{page.slug}/"
    assert client.get(call.get_absolute_url()).status_code == 200


def test_the_page_follows_the_calls_title(client, site_pages, regions):
    call = make_call(regions["fenghuang"], status=S.DRAFT)
    publish(call)
    manager = staff(Role.CALL_MANAGER, regions["fenghuang"])
    call_services.call_update(call=call, by=manager, data={"title": "凤凰街道“海马爸比”亲子公益创投"})
    page = CallPage.objects.get(call=call)
    assert page.title == page.draft_title == "凤凰街道“海马爸比”亲子公益创投"
    assert "凤凰街道“海马爸比”亲子公益创投" in client.get(page.url).content.decode()
    # an editor publishing the announcement later cannot bring the old title back
    publish(call, announcement="<p>欢迎申报。</p>")
    assert CallPage.objects.get(call=call).title == "凤凰街道“海马爸比”亲子公益创投"


def test_calls_made_before_the_site_get_their_pages_when_it_is_built(regions):
    call = make_call(regions["fenghuang"])
    assert not CallPage.objects.exists()
    setup.ensure_site()
    assert CallPage.objects.get().call == call
    setup.ensure_site()
    assert CallPage.objects.count() == 1


def test_editors_cannot_add_a_call_page_by_hand(site_pages):
    assert not CallPage.is_creatable
    assert CallPage.allowed_parent_page_models() == [CallIndexPage]


def test_the_admin_links_the_call_to_its_page(client, site_pages, regions):
    call = make_call(regions["fenghuang"])
    page = CallPage.objects.get(call=call)
    client.force_login(staff(Role.CALL_MANAGER, regions["fenghuang"]))
    html = client.get(f"/admin/grants/calls/edit/{call.pk}/").content.decode()
    assert f'href="/admin/pages/{page.pk}/edit/"' in html and "编辑公告页面" in html and "尚未发布" in html
    publish(call)
    html = client.get(f"/admin/grants/calls/edit/{call.pk}/").content.decode()
    assert f'href="{page.url}"' in html and "查看公开页面" in html


# ---- one call's page ----------------------------------------------------------------------------------


def _need(call, title, status, people=30):
    need = Need.objects.create(
        title=title,
        description="需要有人陪伴。",
        affected="独居老人",
        people_count=people,
        region=call.region.get_children().first() or call.region,
        submitter_kind="committee",
        submitter_name="澜湖社区居委会",
        phone="13912345678",
        call=call,
    )
    Need.objects.filter(pk=need.pk).update(status=status)
    return need


def test_the_call_page_shows_the_rules_the_timeline_the_needs_and_the_applications(client, site_pages, regions):
    call = make_call(regions["fenghuang"], pool_total=Decimal("1234567.89"), max_applications_per_org=2)
    accepted = _need(call, "独居老人午餐没人送", "accepted", people=45)
    _need(call, "还没审核的需求", "submitted")
    for status in (ProposalStatus.SUBMITTED, ProposalStatus.ELIGIBLE, ProposalStatus.DRAFT):
        proposal_at(call, status)
    Call.objects.filter(pk=call.pk).update(min_grade="3A")  # after they applied: their orgs have no grade
    doc = Document.objects.create(title="申报指南2026", file=ContentFile(b"%PDF-1.4", name="guide.pdf"))
    page = publish(call, announcement="<p>现面向全街道征集公益创投项目。</p>")
    CallPageDocument.objects.create(page=page, document=doc, title="申报指南")

    html = client.get(page.url).content.decode()

    assert "现面向全街道征集公益创投项目。" in html
    assert '<th scope="row">资助总额</th><td>1,234,567.89 元</td>' in html
    assert "10,000.00 元至 100,000.00 元" in html and "不超过项目总预算的60.00%（自筹不少于40.00%）" in html
    assert "不超过项目总预算的30.00%" in html and "购置固定资产、发放现金或等价物" in html
    assert "3A及以上" in html and "每个组织最多申报2个项目" in html and "老年人" in html
    assert "社区社会组织（备案）" in html
    current = html[html.index('aria-current="step"') - 40 :]
    assert current.index("网上申报") < current.index("当前阶段") < 200
    assert html.count("当前阶段") == 1
    assert "已有 <strong>2</strong> 个项目提交申报" in html  # the draft is not counted
    assert accepted.title in html and f'href="{accepted.get_absolute_url()}"' in html and "涉及约 45 人" in html
    assert "还没审核的需求" not in html
    assert 'href="' + doc.url + '">申报指南</a>' in html
    assert "需求调研" in html and "首期 50%" in html


def test_apply_now_is_offered_only_while_applications_are_open(client, site_pages, regions):
    from django.urls import NoReverseMatch, reverse

    pages = {status: publish(make_call(regions["fenghuang"], status=status)) for status in (S.NEEDS, S.OPEN, S.CLOSED)}
    html = client.get(pages[S.OPEN].url).content.decode()
    try:
        start = reverse("grants:start", args=[pages[S.OPEN].call_id])
    except NoReverseMatch:
        start = reverse("dashboard")
    assert f'<a class="btn" href="{start}">立即申报</a>' in html and "申报截止：" in html
    needs = client.get(pages[S.NEEDS].url).content.decode()
    assert "立即申报" not in needs and "申报将于" in needs and "需求征集正在进行" in needs
    ask = f'href="/needs/new/?call={pages[S.NEEDS].call_id}">我要提需求</a>'
    assert ask in needs and "我要提需求" not in html  # residents are asked only while needs are collected
    closed = client.get(pages[S.CLOSED].url).content.decode()
    assert "立即申报" not in closed and "本次征集已截止申报" in closed
    # open, but its window not begun: not yet
    early = make_call(regions["gulou"], status=S.OPEN)
    Call.objects.filter(pk=early.pk).update(apply_from=datetime.date.today() + D(days=3))
    assert "立即申报" not in client.get(publish(early).url).content.decode()


# ---- the index ----------------------------------------------------------------------------------------


@pytest.fixture
def listed(site_pages, regions):
    """Published calls of each kind, and one draft page."""
    calls = {
        "fh_open": make_call(regions["fenghuang"], status=S.OPEN, title="凤凰街道2026年公益创投"),
        "gl_needs": make_call(regions["gulou"], status=S.NEEDS, title="古楼街道2026年公益创投"),
        "city_closed": make_call(regions["city"], status=S.CLOSED, title="鄂州市2026年公益创投", level=CallLevel.CITY),
        "hr_old": make_call(regions["huarong_town"], status=S.REVIEWING, title="华容镇2025年公益创投", year=2025),
        "community": make_call(regions["fenghuang_c"], status=S.OPEN, title="凤凰社区“小候鸟”微创投"),
    }
    for call in calls.values():
        publish(call)
    calls["unpublished"] = make_call(regions["fenghuang"], status=S.OPEN, title="尚未发布的征集")
    return calls


def shown(client, query=None) -> list[str]:
    return _titles(client.get("/calls/", query or {}).content.decode())


def _titles(html):
    import re

    return re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', html)


def test_the_index_lists_published_calls_open_ones_first(client, listed):
    titles = shown(client)
    assert set(titles) == {c.title for k, c in listed.items() if k != "unpublished"}
    assert titles.index("凤凰街道2026年公益创投") < titles.index("古楼街道2026年公益创投")
    assert titles.index("古楼街道2026年公益创投") < titles.index("鄂州市2026年公益创投")
    assert "尚未发布的征集" not in titles


def test_the_index_filters_combine_and_stay_in_the_url(client, listed, regions):
    assert shown(client, {"status": S.OPEN}) == ["凤凰街道2026年公益创投", "凤凰社区“小候鸟”微创投"]
    assert shown(client, {"level": CallLevel.CITY}) == ["鄂州市2026年公益创投"]
    assert shown(client, {"year": 2025}) == ["华容镇2025年公益创投"]
    # a district holds its streets and communities
    assert set(shown(client, {"region": regions["echeng"].pk})) == {
        "凤凰街道2026年公益创投",
        "古楼街道2026年公益创投",
        "凤凰社区“小候鸟”微创投",
    }
    both = {"region": regions["fenghuang"].pk, "level": CallLevel.COMMUNITY}
    assert shown(client, both) == ["凤凰社区“小候鸟”微创投"]
    html = client.get("/calls/", both | {"status": S.OPEN}).content.decode()
    assert f'<option value="{regions["fenghuang"].pk}" selected>' in html
    assert f'<option value="{CallLevel.COMMUNITY}" selected>' in html and "显示全部" in html
    assert shown(client, {"status": S.FINISHED}) == []
    assert "没有符合筛选条件的项目征集" in client.get("/calls/", {"status": S.FINISHED}).content.decode()


def test_a_filter_value_not_offered_is_ignored_aloud(client, listed):
    response = client.get("/calls/", {"year": "公元前", "level": CallLevel.CITY})
    html = response.content.decode()
    assert response.status_code == 200 and "筛选条件无效，已忽略：年度。" in html
    assert _titles(html) == ["鄂州市2026年公益创投"]


def test_the_index_takes_few_queries_however_many_calls(client, listed, regions):
    from tests.queries import page_queries

    few = page_queries(client, "/calls/")
    for region in ("fenghuang", "gulou", "city"):
        call = make_call(regions[region], status=S.OPEN)
        proposal_at(call)
        publish(call)
    assert page_queries(client, "/calls/") == few <= 15


def test_an_editor_writes_and_publishes_the_announcement_in_wagtail(client, site_pages, regions):
    from tests.factories import UserFactory
    from tests.html_forms import read_form

    call = make_call(regions["fenghuang"])
    page = CallPage.objects.get(call=call)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = f"/admin/pages/{page.pk}/edit/"
    html = client.get(url).content.decode()
    assert "修改这些内容请到" in html and f"/admin/grants/calls/edit/{call.pk}/" in html
    assert 'name="title"' not in html  # the title is the call's
    data = read_form(html, action=url).post_data()
    data["announcement"] = (
        '{"blocks": [{"key": "a", "type": "unstyled", "text": "欢迎申报。", "depth": 0, "inlineStyleRanges": [], "entityRanges": []}], "entityMap": {}}'
    )
    response = client.post(url, data | {"action-publish": "action-publish"})
    assert response.status_code == 302, response.content[:500]
    page = CallPage.objects.get(pk=page.pk)
    assert page.live and page.title == call.title and "欢迎申报。" in page.announcement
    assert "欢迎申报。" in client.get(page.url).content.decode()
