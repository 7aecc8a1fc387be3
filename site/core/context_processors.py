from django.conf import settings

from .selectors import unread_count

NAV = [
    ("首页", "/"),
    ("项目申报", "/calls/"),
    ("孵化基地", "/bases/"),
    ("资助项目", "/projects/"),
    ("公示公告", "/notices/"),
    ("数据统计", "/stats/"),
]


def site_chrome(request):
    """Header navigation and the unread-notification badge, on every public page."""
    path = request.path
    nav = [(label, url, url == path or (url != "/" and path.startswith(url))) for label, url in NAV]
    user = getattr(request, "user", None)
    return {
        "site_name": settings.WAGTAIL_SITE_NAME,
        "main_nav": nav,
        # a callable: the query runs only where a template shows the badge (not in the admin)
        "unread_notifications": lambda: unread_count(user),
    }
