"""Counting the SQL of one page, the way every query-count test does it."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def page_queries(client, url, data=None) -> int:
    """The queries of one GET of `url`, after a first GET has warmed the per-process
    caches (content types, Wagtail menus); the page must answer 200."""
    client.get(url, data)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, data)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)
