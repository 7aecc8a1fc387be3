import pytest
from django.conf import settings


@pytest.fixture
def regions(db):
    from tests.factories import region_tree

    return region_tree()


@pytest.fixture
def site_pages(db):
    from cms.setup import ensure_site

    return ensure_site()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']}"
