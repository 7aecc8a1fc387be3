"""Wagtail's page routing, remembered under the public content stamp.

Wagtail finds the page for a URL by walking the tree from the site's root, one query per
step and one more for each page's specific class, then two more for the view
restrictions of the page and its ancestors: six queries and as many page objects for
/projects/ before the page does anything. This module does the same walk in memory:

- what it remembers in each process (core.public_cache.remembered, so a publish, an
  unpublish, a move, a new site or a new view restriction anywhere makes every process
  read it again): every live page's url_path with its id and content type, the sites
  (matched to a host and port by Wagtail's own `get_site_for_hostname`, once per host),
  and the paths of the pages that carry a view restriction or are aliases;
- a request: the site for its host, then down the tree by slug through the live pages,
  stopping at a page whose class routes by itself (a RoutablePageMixin or any `route`
  override: it may claim the rest of the path before its children do) or where the next
  slug is no live page; that page is read with its specific class (one query) and its own
  `route()` is given the rest of the path, exactly as Wagtail would call it (the page
  is read once per stamp, and each request routes and serves a copy of its own). Anything
  Wagtail's walk would do differently (a draft page on the way, a child of a routing
  page) is then done by Wagtail's own code, from that page down;
- a page with no view restriction on it or its ancestors and no alias among them gets
  an empty restriction list, so Wagtail's `check_view_restrictions` hook asks nothing;
  otherwise the hook does its own queries, as always.

`serve` fills Wagtail's per-request slots (`request._wagtail_site`,
`request._wagtail_route_for_request`, which `Site.find_for_request` and
`Page.route_for_request` read) and hands over to Wagtail's own `serve` view, so the
`on_serve_page` and `before_serve_page` hooks, the 404s and page serving stay Wagtail's.
Inside a transaction (a request in a test, a view that opened one) nothing is
remembered and Wagtail routes as usual. With WAGTAIL_I18N_ENABLED (a root page localized
per language) Wagtail always routes."""

import copy

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import Http404
from django.http.request import split_domain_port
from django.urls import re_path
from wagtail import urls as wagtail_urls
from wagtail import views as wagtail_views
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.models.sites import get_site_for_hostname

from . import public_cache

MAX_HOSTS = 64  # host:port pairs remembered per process (ALLOWED_HOSTS bounds them anyway)


class Tree:
    """The live pages and sites as routing needs them, read in three queries (and each
    site and page where routing first needs it)."""

    def __init__(self):
        self.pages = {
            url_path: (pk, content_type_id)
            for pk, url_path, content_type_id in Page.objects.live().values_list("pk", "url_path", "content_type_id")
        }
        restricted = PageViewRestriction.objects.values_list("page__path", flat=True)
        aliases = Page.objects.filter(alias_of__isnull=False).values_list("path", flat=True)
        self.guarded = tuple({*restricted, *aliases})
        self.sites: dict[tuple[str, int], Site | None] = {}
        self.specific: dict[int, Page | None] = {}

    def site(self, hostname: str, port: int) -> Site | None:
        key = (hostname, port)
        if key not in self.sites:
            try:
                site = get_site_for_hostname(hostname, port)
            except Site.DoesNotExist:
                site = None
            if len(self.sites) >= MAX_HOSTS:
                return site
            self.sites[key] = site
        return self.sites[key]

    def page(self, pk: int, content_type_id: int) -> Page | None:
        """A copy of the live page `pk` as its specific class (read once; each request
        gets its own copy, so nothing one request sets on it reaches another)."""
        if pk not in self.specific:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
            self.specific[pk] = model.objects.filter(pk=pk).first() if model is not None else None
        found = self.specific[pk]
        return copy.copy(found) if found is not None else None

    def unguarded(self, page: Page) -> bool:
        """No view restriction on the page or an ancestor, and no alias among them."""
        return not page.path.startswith(self.guarded) if self.guarded else True


def _routes_itself(model) -> bool:
    return model.route is not Page.route


def route(request, path: str):
    """(site, RouteResult or None) as Wagtail's `Page.route_for_request` would find them,
    or None when Wagtail must route (inside a transaction, i18n on, no site)."""
    if transaction.get_connection().in_atomic_block or getattr(settings, "WAGTAIL_I18N_ENABLED", False):
        return None
    tree: Tree = public_cache.remembered("wagtail:page-tree", Tree)
    site = tree.site(split_domain_port(request._get_raw_host())[0], request.get_port())
    if site is None:
        return None
    url_path = site.root_page.url_path
    pk, content_type_id = site.root_page.pk, site.root_page.content_type_id
    components = [c for c in path.split("/") if c]
    walked = 0
    for slug in components:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        child = tree.pages.get(f"{url_path}{slug}/")
        if model is None or _routes_itself(model) or child is None:
            break
        url_path, (pk, content_type_id) = f"{url_path}{slug}/", child
        walked += 1
    page = tree.page(pk, content_type_id)
    if page is None:  # no model for its type, or deleted since the tree was read
        return None
    if tree.unguarded(page):
        page.get_view_restrictions = PageViewRestriction.objects.none
    try:
        return site, page.route(request, components[walked:])
    except Http404:
        return site, None


def serve(request, path):
    """Wagtail's `serve` view, given the site and the route found in memory."""
    if not hasattr(request, "_wagtail_route_for_request"):
        found = route(request, path)
        if found is not None:
            request._wagtail_site, request._wagtail_route_for_request = found
    return wagtail_views.serve(request, path)


# Wagtail's own URLs (the password and login helpers first) with this `serve` for pages
urlpatterns = [
    *(pattern for pattern in wagtail_urls.urlpatterns if getattr(pattern, "name", None) != "wagtail_serve"),
    re_path(wagtail_urls.serve_pattern, serve, name="wagtail_serve"),
]
