"""A visitor's journey through the public site in Chromium at 375 px, on projects taken
through the real services: the home page, the funded projects filtered by service area
and street, a two-character search, a project graded 优秀, the statistics with their
charts drawn, and an objection filed on an open 公示. A screenshot of each page is kept
under tests/e2e/screenshots/ (public-*.png)."""

import re

import pytest

from grants.models import Objection, ProposalStatus
from grants.search import index_now
from grants.services import evaluations
from grants.services.publicity import receipt_number
from orgs.models import ServiceArea
from tests.e2e.conftest import console_problems, screenshot
from tests.grants.factories import make_publicity, proposal_at, signed_projects
from tests.grants.funded import closed_with_grade, fresh, report

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 375


def _fits(page):
    """Nothing is wider than the phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH, page.url


def _retitle(pk, title, summary, code, place):
    p = fresh(pk)
    p.title, p.summary, p.category = title, summary, ServiceArea.objects.get(code=code)
    p.save(update_fields=["title", "summary", "category"])
    p.places.set([place])


@pytest.fixture
def projects(e2e_site):
    regions = e2e_site
    call, items, manager, finance = signed_projects(3, totals=(92, 88, 84))
    ours, elderly, elsewhere = (p.pk for p in items)
    gulou_c = regions["gulou"].get_children().get()
    _retitle(ours, "小候鸟·凤凰社区留守儿童周末课堂", "为留守儿童开设周末课堂。", "children", regions["fenghuang_c"])
    _retitle(elderly, "夕阳红·凤凰社区空巢老人探访", "志愿者定期探访空巢老人。", "elderly", regions["fenghuang_c"])
    _retitle(elsewhere, "书香·古楼社区留守儿童阅读角", "给留守儿童一个读书的地方。", "children", gulou_c)
    report(ours, public_text="周末课堂开课8次，孩子们在志愿者陪伴下完成作业。", photos=[("周末课堂", True)])
    closed_with_grade(ours, manager, finance)
    evaluations.publish_evaluation_results(call=call, by=manager)
    index_now([ours, elderly, elsewhere])
    waiting = proposal_at(status=ProposalStatus.ELIGIBLE, title="巾帼·古楼妈妈就业工坊")
    open_notice = make_publicity(waiting.call, proposals=[waiting], title="古楼街道公益创投拟立项项目公示")
    return {"ours": ours, "elderly": elderly, "elsewhere": elsewhere, "notice": open_notice, "regions": regions}


def test_a_visitor_on_a_phone_finds_a_graded_project_reads_the_figures_and_objects(phone, live_server, projects):
    problems = console_problems(phone)
    regions = projects["regions"]

    # the home page: the latest funded projects and the open 公示
    phone.goto(live_server.url + "/")
    assert phone.locator("html").get_attribute("lang") == "zh-Hans"
    assert "小候鸟·凤凰社区留守儿童周末课堂" in phone.locator("main").inner_text()
    assert "古楼街道公益创投拟立项项目公示" in phone.locator("main").inner_text()
    _fits(phone)
    screenshot(phone, "public-home-375")

    # 资助项目: filter by service area and street (the choices in the URL)
    phone.get_by_role("link", name=re.compile("全部项目")).click()
    phone.wait_for_url("**/projects/")
    assert phone.locator("h1").inner_text() == "资助项目"
    phone.get_by_label("服务领域").select_option(label="儿童青少年服务")
    phone.get_by_label("区域").select_option(value=str(regions["fenghuang"].pk))
    phone.get_by_role("button", name="筛选").click()
    phone.wait_for_url(re.compile(r"category=\d+"))
    assert f"region={regions['fenghuang'].pk}" in phone.url
    titles = phone.locator(".funded-list h2").all_inner_texts()
    assert titles == ["小候鸟·凤凰社区留守儿童周末课堂"]
    _fits(phone)
    screenshot(phone, "public-projects-filtered-375")

    # a two-character search over every project: both children's projects, not the elderly one
    phone.goto(live_server.url + "/projects/")
    phone.get_by_label("搜索").fill("留守")
    phone.get_by_role("button", name="搜索", exact=True).click()
    phone.wait_for_url(re.compile(r"q=%E7%95%99%E5%AE%88"))
    titles = set(phone.locator(".funded-list h2").all_inner_texts())
    assert titles == {"小候鸟·凤凰社区留守儿童周末课堂", "书香·古楼社区留守儿童阅读角"}
    assert "共 2 个项目" in phone.locator(".funded-totals").inner_text()

    # the project: its grade, its public update and photo
    phone.get_by_role("link", name="小候鸟·凤凰社区留守儿童周末课堂").click()
    phone.wait_for_url(f"**/projects/{projects['ours']}/")
    assert phone.locator("h1").inner_text() == "小候鸟·凤凰社区留守儿童周末课堂"
    assert "优秀" in phone.locator(".funded-hero").inner_text()
    assert "周末课堂开课8次" in phone.locator("main").inner_text()
    photo = phone.locator("main img").first
    photo.scroll_into_view_if_needed()
    assert phone.evaluate("(img) => img.complete && img.naturalWidth > 0", photo.element_handle())
    _fits(phone)
    screenshot(phone, "public-project-375")

    # 数据统计: the charts drawn (SVG), each with its table
    phone.goto(live_server.url + "/stats/")
    charts = phone.locator("[data-chart]")
    assert charts.count() >= 6
    for i in range(charts.count()):
        charts.nth(i).scroll_into_view_if_needed()
        charts.nth(i).locator("svg").first.wait_for()
    assert "优秀" in phone.locator("#table-grades").inner_text()
    _fits(phone)
    screenshot(phone, "public-stats-375")

    # 公示公告: the open 公示 takes an objection
    phone.goto(live_server.url + "/notices/")
    phone.get_by_role("link", name="古楼街道公益创投拟立项项目公示").click()
    assert "公示中" in phone.locator("main").inner_text()
    phone.get_by_label("您的姓名").fill("刘先生")
    phone.get_by_label("联系方式（不公开）").fill("13907110000")
    phone.get_by_label("异议内容").fill("该组织去年的同类项目没有按期结项，请核实其执行能力。")
    phone.get_by_role("button", name="提交异议").click()
    phone.get_by_text("您的异议已收到，异议编号").wait_for()
    objection = Objection.objects.get()
    assert objection.publicity_id == projects["notice"].pk and objection.name == "刘先生"
    assert receipt_number(objection) in phone.locator("main").inner_text()
    assert "13907110000" not in phone.content()  # the contact stays private
    _fits(phone)
    screenshot(phone, "public-objection-375")

    assert not problems, problems
