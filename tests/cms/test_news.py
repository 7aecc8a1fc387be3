"""新闻动态 (/news/ and a news page): newest first, by year, paged; a summary or the start
of the text; drafts never shown; the same few queries however many news there are."""

import datetime

import pytest
from django.utils import timezone

from tests.cms.public_data import add_news
from tests.cms.public_data import write_news as write
from tests.queries import page_queries

pytestmark = pytest.mark.django_db


def _titles(html: str) -> list[str]:
    import re

    return re.findall(r'<h2><a href="/news/[^"]+">([^<]+)</a></h2>', html)


def test_the_index_lists_published_news_newest_first_with_their_summaries(client, site_pages):
    today = timezone.localdate()
    write(
        "市社会组织孵化基地举行出壳评估会",
        "<p>评估组从组织治理、财务规范四个方面评议。</p>",
        date=today - datetime.timedelta(days=9),
    )
    write(
        "公益创投项目征集正式启动",
        "<p>征集为老、助残领域的公益服务项目。</p>",
        summary="市民政局发布公益创投项目征集公告。",
        date=today,
    )
    write("尚未发布的稿件", "<p>草稿</p>", date=today, live=False, slug="draft")
    html = client.get("/news/").content.decode()
    assert _titles(html) == ["公益创投项目征集正式启动", "市社会组织孵化基地举行出壳评估会"]
    assert "市民政局发布公益创投项目征集公告。" in html  # the summary, not the text
    assert "评估组从组织治理、财务规范四个方面评议。" in html  # no summary: the start of the text
    assert "尚未发布的稿件" not in html and html.count("<h1") == 1
    assert f"{today.year}年{today.month}月{today.day}日" in html


def test_a_news_page_reads_as_an_article_with_the_latest_beside_it(client, site_pages):
    today = timezone.localdate()
    older = write("凤凰街道开展社区需求征集", "<p>网格员入户走访。</p>", date=today - datetime.timedelta(days=3))
    page = write("立项结果公布", "<p>5个项目获得资助。</p>", summary="经专家评审和公示。", date=today)
    html = client.get(page.url).content.decode()
    assert "<h1>立项结果公布</h1>" in html and "5个项目获得资助。" in html and "经专家评审和公示。" in html
    assert f'发布日期：<time datetime="{today.isoformat()}">' in html
    aside = html[html.index("最新动态") :]
    assert older.title in aside and f'href="{older.url}"' in aside and "立项结果公布" not in aside
    assert html.count("<h1") == 1 and 'href="/news/"' in html


def test_news_by_year_and_a_year_that_has_none_is_said(client, site_pages):
    today = timezone.localdate()
    write("今年的新闻", "<p>今年</p>", date=today)
    write("去年的新闻", "<p>去年</p>", date=today.replace(year=today.year - 1), slug="last-year")
    assert _titles(client.get(f"/news/?year={today.year - 1}").content.decode()) == ["去年的新闻"]
    html = client.get("/news/?year=1999").content.decode()
    assert "没有1999年的新闻，已显示全部新闻。" in html and _titles(html) == ["今年的新闻", "去年的新闻"]
    response = client.get("/news/?year=abc")
    assert response.status_code == 200 and "年份无效" in response.content.decode()


def test_pages_of_ten_and_a_bad_page_number_is_no_error(client, site_pages):
    add_news(12)
    first = client.get("/news/").content.decode()
    assert len(_titles(first)) == 10 and "第 1 / 2 页" in first
    assert _titles(client.get("/news/?page=2").content.decode()) == ["工作动态11", "工作动态12"]
    for bad in ("x", "99", "-1"):
        assert client.get(f"/news/?page={bad}").status_code == 200


def test_the_index_and_a_page_cost_the_same_queries_with_5_or_40_news(client, site_pages):
    news = add_news(5)
    few_index, few_page = page_queries(client, "/news/"), page_queries(client, news[0].url)
    add_news(35, slug="more")
    assert page_queries(client, "/news/") == few_index <= 12
    assert page_queries(client, news[0].url) == few_page <= 12
