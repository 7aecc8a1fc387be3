"""新闻动态 (/news/): the news index, newest first, by year, ten to a page. The home page's
news block and the news feeds read the same `live_news()`."""

from django.core.paginator import Paginator
from django.db.models.functions import ExtractYear

NEWS_PER_PAGE = 10


def live_news(*, private=None):
    """Published news, newest first, with its picture (and the picture's renditions, so a
    list of thumbnails costs one query more, not one per item). `private`: the Q of the
    private sections when the caller has read it already (cms.home.Reading)."""
    from .models import NewsPage

    news = NewsPage.objects.live()
    news = news.public() if private is None else news.exclude(private)
    return (
        news.select_related("image")
        .prefetch_related("image__renditions")
        .order_by("-date", "-first_published_at", "-pk")
    )


def index_context(request, page) -> dict:
    from .home import news_summary
    from .models import NewsPage

    news = live_news().child_of(page)
    years = list(
        NewsPage.objects.live()
        .public()
        .child_of(page)
        .annotate(year=ExtractYear("date"))
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )
    raw_year = request.GET.get("year", "")
    year, year_error = None, ""
    if raw_year:
        if raw_year.isdigit() and int(raw_year) in years:
            year = int(raw_year)
            news = news.filter(date__year=year)
        else:
            year_error = (
                f"没有{raw_year}年的新闻，已显示全部新闻。" if raw_year.isdigit() else "年份无效，已显示全部新闻。"
            )
    items = Paginator(news, NEWS_PER_PAGE).get_page(request.GET.get("page"))
    for item in items:
        item.summary_text = news_summary(item)
    return {
        "news": items,
        "years": years,
        "year": year,
        "year_error": year_error,
        "page_query": f"year={year}" if year else "",
        "index_url": page.get_url(request),
    }
