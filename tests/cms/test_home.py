"""The home page: navigation and chrome, the featured blocks editors arrange (cms/home.py) on
realistic data, nothing private, and the same few queries with 10 or 200 rows."""

import re
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from cms.blocks import DEFAULT_FEATURED
from cms.models import CallPage, HomePage, SectionPage
from cms.setup import SECTION_PAGE_TYPES, SECTIONS, ensure_site
from core.dates import chinese_date
from grants.models import Proposal, Tranche
from grants.rules import fmt_money
from incubator.models import IncubationStatus
from tests.cms.public_data import EMAIL, PHONE, add_news, copy_projects, with_private_contacts
from tests.grants.factories import make_call, make_publicity, proposal_at, signed_projects
from tests.incubator.factories import IncubationBaseFactory, incubation_at
from tests.queries import page_queries


@pytest.mark.django_db
def test_home_page_renders_in_chinese_with_navigation(client, site_pages):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    for label in ["首页", "项目申报", "孵化基地", "资助项目", "公示公告", "数据统计", "登录"]:
        assert f">{label}<" in html
    assert "公益创投" in html


@pytest.mark.django_db
def test_sections_show_a_real_empty_state(client, site_pages):
    response = client.get("/calls/")
    assert response.status_code == 200
    assert "当前没有正在征集的项目" in response.content.decode()


@pytest.mark.django_db
def test_ensure_site_is_idempotent(site_pages):
    ensure_site()
    ensure_site()
    assert HomePage.objects.count() == 1
    assert SectionPage.objects.count() == len(SECTIONS) - len(SECTION_PAGE_TYPES)
    assert [p.slug for p in HomePage.objects.get().get_children()] == [slug for slug, *_ in SECTIONS]


# ---- the featured blocks on realistic data (cms/home.py) ------------------------------------------


def figure(html: str, label: str) -> str:
    """The headline number of one of the year's figures, as the visitor reads it."""
    return re.search(rf"<dt>{label}</dt><dd><strong>([^<]+)</strong>", html).group(1)


def block_titles(html: str) -> list[str]:
    return re.findall(r'<h2 id="block-\d+">([^<]+?)\s*(?:<|$)', html)


@pytest.fixture
def public_site(site_pages, regions):
    """Two funded projects in progress (first tranche paid), a call open for applications
    with its page published, a 公示 open today, two organisations incubated this year (one
    graduated), and a news item."""
    call, projects, manager, finance = signed_projects(2)
    for p in projects:
        with_private_contacts(p.organisation)
    open_call = make_call(regions["fenghuang"], title="凤凰街道2026年“微公益”创投项目征集")
    CallPage.objects.get(call=open_call).save_revision().publish()
    shortlisted = proposal_at(make_call(regions["gulou"], title="古楼街道公益创投"), "eligible", title="古楼长者助餐")
    notice = make_publicity(shortlisted.call, proposals=[shortlisted], title="古楼街道公益创投拟立项项目公示")
    base = IncubationBaseFactory(region=regions["fenghuang"])
    incubation_at(base, status=IncubationStatus.IN_INCUBATION)
    incubation_at(base, status=IncubationStatus.GRADUATED)
    add_news(1, title="公益创投项目中期评估培训会召开")
    return {"call": call, "projects": projects, "open_call": open_call, "notice": notice}


def test_ensure_site_gives_the_home_page_the_default_blocks_once(site_pages):
    home = HomePage.objects.get()
    assert [(b.block_type, dict(b.value)) for b in home.featured] == [(k, v) for k, v in DEFAULT_FEATURED]
    assert home.get_latest_revision().content["featured"]  # the editor opens the page with them
    home.featured = [("news", {"title": "工作动态", "count": 3})]
    home.save_revision().publish()
    ensure_site()
    assert [b.block_type for b in HomePage.objects.get().featured] == ["news"]  # an arrangement is kept


def test_the_home_page_shows_each_block_on_live_data(client, public_site):
    html = client.get("/").content.decode()
    assert block_titles(html) == ["正在征集", "公示公告", "年度数据", "最新资助项目", "新闻动态"]

    # 正在征集: the open call, its deadline and how long is left, linked to its page
    call = public_site["open_call"]
    days = (call.apply_until - timezone.localdate()).days
    assert "凤凰街道2026年“微公益”创投项目征集" in html and f"还剩 {days} 天" in html
    assert f'申报截止 <time datetime="{call.apply_until.isoformat()}">{chinese_date(call.apply_until)}</time>' in html
    assert f'href="{CallPage.objects.get(call=call).url}"' in html

    # 公示公告: the 公示 open today first, with its window; the decided call's closed one after it
    notices = html[html.index(">公示公告<") : html.index(">年度数据")]
    assert notices.index("古楼街道公益创投拟立项项目公示") < notices.index(public_site["call"].title)
    assert "公示中" in notices and "公示已结束" in notices

    # 最新资助项目: linked to /projects/<pk>/, with organisation and award
    for p in public_site["projects"]:
        assert f'href="/projects/{p.pk}/"' in html and p.organisation.name in html
        assert f"¥{fmt_money(p.awarded_amount)}" in html

    # 年度数据: this year's figures, the money in 万元 and exactly
    funded = Proposal.objects.filter(pk__in=[p.pk for p in public_site["projects"]])
    awarded = funded.aggregate(s=Sum("awarded_amount"))["s"]
    released = Tranche.objects.filter(status="released").aggregate(s=Sum("amount"))["s"]
    assert released and released < awarded
    assert figure(html, "立项项目") == "2"
    assert figure(html, "资助金额") == f"{(awarded / 10000).quantize(Decimal('0.01')):,}"
    assert f"¥{fmt_money(awarded)}" in html and f"¥{fmt_money(released)}" in html
    assert figure(html, "直接受益") == str(funded.aggregate(s=Sum("beneficiaries_direct"))["s"])
    assert (figure(html, "新入驻孵化组织"), figure(html, "出壳组织")) == ("2", "1")
    assert f"{timezone.localdate().year}年</span>" in html

    # 新闻动态
    assert "公益创投项目中期评估培训会召开1" in html


def test_the_home_page_shows_nothing_private(client, public_site):
    html = client.get("/").content.decode()
    assert PHONE not in html and EMAIL not in html and "6222021102034567890" not in html
    assert "6222 0211" not in html and "评审专家" not in html


def test_editors_choose_the_blocks_their_order_and_the_year(client, public_site):
    home = HomePage.objects.get()
    last_year = timezone.localdate().year - 1
    home.featured = [
        ("news", {"title": "工作动态", "count": 2}),
        ("figures", {"title": "往年数据", "year": last_year}),
        ("links", [{"label": "开放数据", "url": "/opendata/"}]),
    ]
    home.save_revision().publish()
    html = client.get("/").content.decode()
    assert block_titles(html) == ["工作动态", "往年数据"]
    assert f"{last_year}年</span>" in html and figure(html, "立项项目") == "0"
    assert "正在征集" not in html and 'href="/opendata/">开放数据<' in html


def test_empty_blocks_say_so(client, site_pages):
    html = client.get("/").content.decode()
    assert "当前没有正在征集的项目" in html and "暂无公示公告" in html and "暂无资助项目" in html
    assert "暂无新闻" in html and figure(html, "立项项目") == "0"


def test_the_chrome_offers_the_needs_news_feeds_open_data_and_a_skip_link(client, site_pages):
    html = client.get("/").content.decode()
    assert '<a href="/needs/">社区需求</a>' in html and '<a href="/news/">新闻动态</a>' in html
    assert html.index('class="skip-link" href="#main"') < html.index("<header") and 'id="main"' in html
    for feed in ("calls", "notices", "news"):
        assert 'type="application/rss+xml" title="' in html and f'href="/feeds/{feed}.rss"' in html
        assert f'href="/feeds/{feed}.atom"' in html
    assert 'href="/opendata/"' in html and 'href="/feeds/"' in html
    assert html.count("<h1") == 1


def test_the_home_page_costs_the_same_queries_with_10_or_200_rows(client, public_site):
    template = public_site["projects"][0]
    copy_projects(template, 8)
    add_news(7, slug="more")
    few = page_queries(client, "/")
    copy_projects(template, 190, title="更多项目")
    add_news(20, slug="many")
    for i in range(5):
        call = make_call(title=f"第{i}批公益创投征集")
        CallPage.objects.get(call=call).save_revision().publish()
    assert page_queries(client, "/") == few <= 15
