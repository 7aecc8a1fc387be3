"""{% latest_news page %}: the newest other news, for the side of a news page (one query)."""

from django import template

register = template.Library()


@register.inclusion_tag("cms/_latest_news.html", takes_context=True)
def latest_news(context, current=None, count: int = 5):
    from ..news import live_news

    news = live_news().prefetch_related(None).select_related(None)
    if current is not None:
        news = news.exclude(pk=current.pk)
    request = context.get("request")
    items = list(news.only("title", "date", "url_path", "path", "depth")[:count])
    for item in items:
        item.link = item.get_url(request)
    return {"items": items}
