"""Wagtail's page routing from memory (core.page_routes): the same page and route as
Wagtail's own walk for every kind of path (a section, a routable page's sub-routes, a
news page, a draft, a live page under a draft, an unknown slug, an unknown host), one
query when warm, a publish or a move routed at once, view restrictions still enforced,
and Wagtail's own routing inside a transaction. These tests commit (transaction=True):
nothing is remembered inside a transaction."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction

from cms.models import NewsIndexPage, SectionPage
from cms.setup import ensure_site
from core import page_routes
from tests.cms.public_data import write_news

pytestmark = pytest.mark.django_db(transaction=True)


def news(title, slug, *, parent=None, live=True) -> Page:
    return write_news(title, "<p>正文</p>", date=timezone.localdate(), slug=slug, parent=parent, live=live)


def request(path, host="127.0.0.1"):
    return RequestFactory().get(path, HTTP_HOST=host)


def wagtail_route(path, host="127.0.0.1"):
    """What Wagtail's own walk finds: (page pk, route args) or None."""
    found = Page.route_for_request(request(path, host), path)
    return None if found is None else (found[0].pk, _args(found))


def _args(found):
    page, args, kwargs = found
    view = args[0].__name__ if args and callable(args[0]) else None  # a routable page's view
    return (view, tuple(args[1:]) if view else tuple(args), kwargs)


def memory_route(path, host="127.0.0.1"):
    found = page_routes.route(request(path, host), path)
    assert found is not None, "routed by Wagtail, not from memory"
    _site, result = found
    return None if result is None else (result[0].pk, _args(result))


@pytest.fixture
def tree(settings):
    settings.ALLOWED_HOSTS = ["*"]
    ensure_site()
    draft_section = SectionPage(title="草稿栏目", slug="drafts", intro="", empty_text="暂无内容")
    Page.objects.get(depth=2).add_child(instance=draft_section)
    SectionPage.objects.filter(pk=draft_section.pk).update(live=False)
    return {
        "published": news("市社会组织孵化基地举行出壳评估会", "graduation"),
        "draft": news("尚未发布的新闻", "unpublished", live=False),
        "under_draft": news("草稿栏目下已发布的页面", "under", parent=draft_section),
    }


def test_every_path_routes_to_what_wagtail_finds(tree):
    paths = [
        "/",
        "/projects/",
        "/projects/12/",  # a routable page's sub-route, with its argument
        "/projects/12/photos/3/",
        "/stats/",
        "/stats/years/csv/",
        "/news/",
        "/news/graduation/",
        "/news/unpublished/",  # a draft: 404
        "/drafts/",  # a draft section
        "/drafts/under/",  # a live page under a draft: Wagtail serves it
        "/news/nothing-here/",
        "/projects/not-a-number/",
        "/calls/",
        "/notices/",
        "/bases/",
    ]
    for path in paths:
        assert memory_route(path) == wagtail_route(path), path
    assert memory_route("/news/graduation/")[0] == tree["published"].pk
    assert memory_route("/drafts/under/")[0] == tree["under_draft"].pk
    assert memory_route("/news/unpublished/") is None
    # a host no site names falls back to the default site, as Wagtail's lookup does
    assert memory_route("/news/", host="elsewhere.example") == wagtail_route("/news/", host="elsewhere.example")


def test_warm_routing_costs_one_query_and_a_page_is_served_by_wagtail(client, tree):
    page_routes.route(request("/news/graduation/"), "/news/graduation/")
    with CaptureQueriesContext(connection) as queries:
        site, found = page_routes.route(request("/news/graduation/"), "/news/graduation/")
    assert len(queries) == 1  # the content stamp
    assert found[0].pk == tree["published"].pk and site.is_default_site
    # each request gets a copy of the page: what one sets on it, another never sees
    again = page_routes.route(request("/news/graduation/"), "/news/graduation/")[1][0]
    assert again is not found[0] and again.pk == found[0].pk

    response = client.get("/news/graduation/")
    assert response.status_code == 200
    assert "市社会组织孵化基地举行出壳评估会" in response.content.decode()
    assert client.get("/news/unpublished/").status_code == 404
    assert client.get("/news/nothing-here/").status_code == 404


def test_a_publish_a_move_and_an_unpublish_are_routed_at_once(client, tree):
    assert client.get("/news/graduation/").status_code == 200  # the tree is remembered now
    fresh = news("新发布的新闻", "fresh")
    assert client.get("/news/fresh/").status_code == 200
    assert memory_route("/news/fresh/")[0] == fresh.pk

    tree["published"].unpublish()
    assert client.get("/news/graduation/").status_code == 404

    page = Page.objects.get(pk=fresh.pk)
    page.move(Page.objects.get(slug="drafts"), pos="last-child")
    moved = client.get("/news/fresh/")  # Wagtail's redirects app leaves a redirect behind
    assert moved.status_code == 301 and moved["Location"] == "/drafts/fresh/"
    assert client.get("/drafts/fresh/").status_code == 200
    assert memory_route("/drafts/fresh/") == wagtail_route("/drafts/fresh/")


def test_view_restrictions_are_still_enforced(client, tree):
    index = NewsIndexPage.objects.get()
    assert "市社会组织孵化基地" in client.get("/news/graduation/").content.decode()
    PageViewRestriction.objects.create(page=index, restriction_type=PageViewRestriction.PASSWORD, password="口令")
    for path in ("/news/", "/news/graduation/"):  # the page and the pages below it
        response = client.get(path)
        assert response.status_code == 200 and 'type="password"' in response.content.decode(), path
        assert "市社会组织孵化基地举行出壳评估会" not in response.content.decode()
    assert "孵化基地" in client.get("/bases/").content.decode()  # elsewhere, nothing asked

    # a page with no restriction above it asks nothing of the hook
    page_routes.route(request("/bases/"), "/bases/")  # this host's site, looked up once
    with CaptureQueriesContext(connection) as queries:
        site, found = page_routes.route(request("/bases/"), "/bases/")
        assert list(found[0].get_view_restrictions()) == []
    assert len(queries) == 1
    restricted = page_routes.route(request("/news/"), "/news/")[1][0]
    assert [r.page_id for r in restricted.get_view_restrictions()] == [index.pk]


def test_inside_a_transaction_wagtail_routes(tree):
    from django.db import transaction

    with transaction.atomic():
        assert page_routes.route(request("/news/"), "/news/") is None


def test_the_project_list_runs_five_queries_when_warm_however_many_projects(client, tree):
    """Outside a transaction, as in production: the content stamp (routing), the stamp
    (the filter choices), the page of ids with the count and the sum, the cards, their
    places. The routing and the choices are not read again."""
    from tests.grants.factories import signed_projects

    def warm_queries(url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    _call, projects, _m, _f = signed_projects(2)
    count, page = warm_queries("/projects/")
    assert count == 5 and "共 <strong>2</strong> 个项目" in page
    assert all(f'href="/projects/{p.pk}/"' in page for p in projects)
    _call, more, _m, _f = signed_projects(3)
    count, page = warm_queries(f"/projects/?sort=amount&level={more[0].call.level}")
    assert count == 5 and "共 <strong>5</strong> 个项目" in page  # a new call's projects, at once
