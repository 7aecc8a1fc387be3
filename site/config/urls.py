from django.conf import settings
from django.shortcuts import redirect
from django.templatetags.static import static as static_url
from django.urls import include, path
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from core import page_routes
from core.admin_scope import site_history_urlpatterns
from portal import views as portal_views

urlpatterns = [
    # Wagtail's site-history report, region-scoped (core.admin_scope): before the admin's own URLs
    path("admin/reports/site-history/", include(site_history_urlpatterns)),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("me/", portal_views.dashboard, name="dashboard"),
    path("me/", include("core.urls")),
    path("me/orgs/", include("orgs.urls")),
    path("me/incubation/", include("incubator.urls")),
    path("me/proposals/", include("grants.urls")),
    path("", include("grants.public_urls")),  # /needs/…, /opendata/…
    path("directory/", include("orgs.public_urls")),
    # browsers and crawlers that ask for /favicon.ico get the site's icon (pages link it)
    path("favicon.ico", lambda request: redirect(static_url("img/favicon.svg"), permanent=True)),
    path("feeds/", include("cms.feeds")),  # RSS and Atom: calls, 公示公告, news
    path("", include("cms.sitemaps")),  # /sitemap.xml
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's pages, routed from memory (core.page_routes) and served by Wagtail
urlpatterns.append(path("", include(page_routes.urlpatterns)))

# a request too large (413) or malformed (400): Chinese pages (config.errors)
handler400 = "config.errors.bad_request"
