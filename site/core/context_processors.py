from functools import lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .selectors import unread_count

NAV = [
    (_("首页"), "/"),
    (_("项目申报"), "/calls/"),
    (_("孵化基地"), "/bases/"),
    (_("资助项目"), "/projects/"),
    (_("公示公告"), "/notices/"),
    (_("社区需求"), "/needs/"),
    (_("数据统计"), "/stats/"),
    (_("新闻动态"), "/news/"),
]


@lru_cache(maxsize=8)
def _nav(language: str) -> tuple:
    """NAV's labels in `language`, translated once (a label that is its own translation
    walks every catalog's fallbacks before it is found missing)."""
    with translation.override(language):
        return tuple((str(label), url) for label, url in NAV)


def site_chrome(request):
    """Header navigation and the unread-notification badge, on every public page."""
    path = request.path
    nav = [
        (label, url, url == path or (url != "/" and path.startswith(url)))
        for label, url in _nav(translation.get_language() or settings.LANGUAGE_CODE)
    ]
    user = getattr(request, "user", None)
    return {
        "site_name": settings.PLATFORM_NAME,
        "main_nav": nav,
        # a callable: the query runs only where a template shows the badge (not in the admin)
        "unread_notifications": lambda: unread_count(user),
    }
