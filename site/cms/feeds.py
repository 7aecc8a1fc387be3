"""Subscriptions (RSS 2.0 and Atom) for the calls, the 公示公告 and the news:
/feeds/calls.rss, /feeds/calls.atom, /feeds/notices.rss … and /feeds/, a page that
lists them. Each feed holds the newest FEED_SIZE published pages, read in one query (two
for the news: their pictures are not read)."""

import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import strip_tags
from django.utils.text import Truncator

from core.dates import chinese_date

FEED_SIZE = 20
DESCRIPTION_CHARS = 200


def morning(day: datetime.date) -> datetime.datetime:
    """A day as a feed's moment: 9:00 local time (a date alone is not a timestamp)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))


def _plain(html: str, chars: int = DESCRIPTION_CHARS) -> str:
    return Truncator(" ".join(strip_tags(html or "").split())).chars(chars)


class PageFeed(Feed):
    """The newest published pages of one kind; `get_object` hands the request to `items`
    so each page's link is its own URL on this site."""

    language = "zh-cn"
    section = ""  # 项目征集
    index_url = ""  # /calls/
    about = ""

    def get_object(self, request, *args, **kwargs):
        return request

    def title(self):
        return f"{settings.PLATFORM_NAME}·{self.section}"

    def link(self):
        return self.index_url

    def description(self):
        return self.about

    subtitle = description  # Atom's

    def pages(self):
        raise NotImplementedError

    def items(self, request):
        rows = list(self.pages()[:FEED_SIZE])
        for page in rows:
            page.feed_link = page.get_url(request)
        return rows

    def item_title(self, item):
        return item.title

    def item_link(self, item):
        return item.feed_link

    def item_pubdate(self, item):
        return item.first_published_at

    def item_updateddate(self, item):
        # never before it was published (a page published again later was updated then)
        return max(d for d in (item.last_published_at, self.item_pubdate(item)) if d is not None)


class CallsFeed(PageFeed):
    section = "项目征集"
    index_url = "/calls/"
    about = "公益创投项目征集公告：征集区域、资助金额和申报时间。"

    def pages(self):
        from .models import CallPage

        return CallPage.objects.live().public().select_related("call__region").order_by("-first_published_at", "-pk")

    def item_description(self, item):
        from grants.rules import fmt_money

        call = item.call
        facts = (
            f"{call.region.full_name}（{call.get_level_display()}）；{call.get_status_display()}；"
            f"申报时间：{chinese_date(call.apply_from)}至{chinese_date(call.apply_until)}；"
            f"单个项目资助 {fmt_money(call.grant_min)} 元至 {fmt_money(call.grant_max)} 元。"
        )
        text = _plain(item.announcement)
        return f"{facts}{text}" if text else facts


class NoticesFeed(PageFeed):
    section = "公示公告"
    index_url = "/notices/"
    about = "立项公示、立项结果、评估结果公示及其他公告；公示期内可以在网站上提出异议。"

    def pages(self):
        from .models import NoticePage

        return (
            NoticePage.objects.live()
            .public()
            .select_related("publicity")
            .annotate(sort_at=Coalesce("publicity__published_at", "first_published_at"))
            .order_by("-sort_at", "-pk")
        )

    def item_description(self, item):
        from grants.services.publicity import window_text

        parts = []
        if item.publicity_id:
            parts.append(f"{item.publicity.get_kind_display()}，{window_text(item.publicity)}。")
        text = _plain(item.intro)
        if text:
            parts.append(text)
        return "".join(parts) or item.title

    def item_pubdate(self, item):
        # a 公示 is dated by its window's first day, as its page says
        if item.publicity_id:
            return morning(item.publicity.opens_on)
        return item.first_published_at


class NewsFeed(PageFeed):
    section = "新闻动态"
    index_url = "/news/"
    about = "公益创投和社会组织孵化的工作动态。"

    def pages(self):
        from .models import NewsPage

        return NewsPage.objects.live().public().order_by("-date", "-first_published_at", "-pk")

    def item_description(self, item):
        from .home import news_summary

        return news_summary(item, DESCRIPTION_CHARS)

    def item_pubdate(self, item):
        # the date the editor gave the item, at the hour it was first published that day
        published = item.first_published_at
        if published and timezone.localdate(published) == item.date:
            return published
        return morning(item.date)


def atom(feed_class: type[PageFeed]) -> type[PageFeed]:
    return type(f"{feed_class.__name__}Atom", (feed_class,), {"feed_type": Atom1Feed})


FEEDS = {"calls": CallsFeed, "notices": NoticesFeed, "news": NewsFeed}


def feeds_index(request):
    """/feeds/: what can be subscribed to, and how."""
    feeds = [(cls.section, cls.about, f"/feeds/{slug}.rss", f"/feeds/{slug}.atom") for slug, cls in FEEDS.items()]
    return render(request, "cms/feeds.html", {"feeds": feeds})


urlpatterns = [
    path("", feeds_index, name="feeds"),
    *(path(f"{slug}.rss", cls(), name=f"feed_{slug}_rss") for slug, cls in FEEDS.items()),
    *(path(f"{slug}.atom", atom(cls)(), name=f"feed_{slug}_atom") for slug, cls in FEEDS.items()),
]
