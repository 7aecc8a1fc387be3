"""Subscriptions and the sitemap: RSS and Atom feeds of the calls, the 公示公告 and the news
(valid XML, newest first, published pages only), and /sitemap.xml with the Wagtail pages
and the routed pages of projects, bases, the directory and the needs."""

import xml.etree.ElementTree as ET

import pytest

from cms.models import CallPage
from grants.models import NeedStatus
from grants.services import needs as need_services
from orgs.models import ServiceArea
from tests.cms.public_data import add_news
from tests.factories import OrganisationFactory
from tests.grants.factories import make_call, make_publicity, proposal_at, signed_projects
from tests.incubator.factories import IncubationBaseFactory

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def xml(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response, ET.fromstring(response.content)


def rss_items(client, url) -> list[dict]:
    response, root = xml(client, url)
    assert response["Content-Type"].startswith("application/rss+xml") and root.tag == "rss"
    channel = root.find("channel")
    assert channel.findtext("language") == "zh-cn"
    return [{child.tag: (child.text or "") for child in item} for item in channel.findall("item")]


def atom_entries(client, url) -> list[dict]:
    response, root = xml(client, url)
    assert response["Content-Type"].startswith("application/atom+xml") and root.tag == f"{ATOM}feed"
    return [
        {
            "title": e.findtext(f"{ATOM}title"),
            "link": e.find(f"{ATOM}link").get("href"),
            "summary": e.findtext(f"{ATOM}summary"),
        }
        for e in root.findall(f"{ATOM}entry")
    ]


@pytest.fixture
def calls(site_pages, regions):
    published = make_call(regions["fenghuang"], title="凤凰街道公益创投项目征集")
    CallPage.objects.get(call=published).save_revision().publish()
    draft = make_call(regions["gulou"], title="古楼街道尚未发布的征集")  # its page is a draft
    return published, draft


def test_the_calls_feeds_hold_the_published_calls(client, calls):
    published, _ = calls
    items = rss_items(client, "/feeds/calls.rss")
    assert [i["title"] for i in items] == ["凤凰街道公益创投项目征集"]
    assert items[0]["link"].endswith(CallPage.objects.get(call=published).url)
    assert (
        "申报时间" in items[0]["description"] and "单个项目资助 10,000.00 元至 100,000.00 元" in items[0]["description"]
    )
    entries = atom_entries(client, "/feeds/calls.atom")
    assert [e["title"] for e in entries] == ["凤凰街道公益创投项目征集"]
    assert entries[0]["link"] == items[0]["link"]


def test_the_notice_feeds_hold_each_publicity_with_its_window(client, site_pages, regions):
    proposal = proposal_at(make_call(regions["fenghuang"]), "eligible", title="长者助餐")
    make_publicity(proposal.call, proposals=[proposal], title="凤凰街道拟立项项目公示")
    for url, read in (("/feeds/notices.rss", rss_items), ("/feeds/notices.atom", atom_entries)):
        entries = read(client, url)
        assert [e["title"] for e in entries] == ["凤凰街道拟立项项目公示"]
        text = entries[0].get("description") or entries[0].get("summary")
        assert text.startswith("立项公示，公示期：")


def test_the_news_feeds_hold_the_newest_news_first(client, site_pages):
    add_news(3)
    items = rss_items(client, "/feeds/news.rss")
    assert [i["title"] for i in items] == ["工作动态1", "工作动态2", "工作动态3"]
    assert items[0]["description"] == "工作动态1的摘要。" and "/news/news-0/" in items[0]["link"]
    assert [e["title"] for e in atom_entries(client, "/feeds/news.atom")] == ["工作动态1", "工作动态2", "工作动态3"]


def test_the_feeds_page_lists_every_feed(client, site_pages):
    html = client.get("/feeds/").content.decode()
    for slug in ("calls", "notices", "news"):
        assert f'href="/feeds/{slug}.rss"' in html and f'href="/feeds/{slug}.atom"' in html
    assert html.count("<h1") == 1 and 'href="/opendata/"' in html


def test_the_sitemap_is_valid_xml_with_pages_projects_bases_organisations_and_needs(client, calls, regions):
    _, projects, manager, _ = signed_projects(1)
    unfunded = proposal_at(calls[0], "submitted", title="尚在审查的申报")
    base = IncubationBaseFactory(region=regions["fenghuang"])
    closed_base = IncubationBaseFactory(region=regions["fenghuang"], is_active=False)
    hidden_org = OrganisationFactory(status="submitted")
    community = regions["fenghuang"].get_children().get()
    need, waiting = (
        need_services.need_submit(
            region=community,
            title=title,
            description="午饭没人做。",
            affected="独居老人",
            people_count=20,
            submitter_kind="resident",
            submitter_name="张阿姨",
            phone=phone,
        )
        for title, phone in (("独居老人助餐", "13912345678"), ("待审核的需求", "13912345679"))
    )
    need_services.need_accept(need=need, by=manager, category=ServiceArea.objects.get(code="elderly"))
    add_news(1)

    response, root = xml(client, "/sitemap.xml", HTTP_HOST="gongyi.example.cn:8000")
    assert root.tag == f"{SITEMAP}urlset"
    # every entry, page or record, at the address the sitemap was asked at
    origins = {loc.text.split("/", 3)[2] for loc in root.iter(f"{SITEMAP}loc")}
    assert origins == {"gongyi.example.cn:8000"}
    paths = {"/" + loc.text.split("//", 1)[1].split("/", 1)[1] for loc in root.iter(f"{SITEMAP}loc")}
    project = projects[0]
    assert {"/", "/calls/", "/news/", "/news/news-0/", "/projects/", "/bases/", "/notices/"} <= paths
    assert CallPage.objects.get(call=calls[0]).url in paths
    assert CallPage.objects.get(call=calls[1]).url not in paths  # a draft
    assert f"/projects/{project.pk}/" in paths and f"/projects/{unfunded.pk}/" not in paths
    assert f"/bases/{base.pk}/" in paths and f"/bases/{closed_base.pk}/" not in paths
    assert f"/directory/{project.organisation_id}/" in paths and f"/directory/{hidden_org.pk}/" not in paths
    assert f"/needs/{need.pk}/" in paths and f"/needs/{waiting.pk}/" not in paths
    assert waiting.status == NeedStatus.SUBMITTED


def test_every_public_page_names_the_feeds_in_its_head(client, site_pages):
    head = client.get("/news/").content.decode().split("</head>")[0]
    for slug in ("calls", "notices", "news"):
        assert '<link rel="alternate" type="application/rss+xml"' in head and f'href="/feeds/{slug}.rss"' in head
        assert f'href="/feeds/{slug}.atom"' in head
