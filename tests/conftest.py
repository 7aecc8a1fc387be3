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

    from core import public_cache

    cache.clear()
    public_cache.forget()  # what the public pages remembered under the content stamp
    yield


@pytest.fixture(autouse=True)
def _clear_sms_outbox():
    from accounts import sms

    sms.outbox.clear()
    yield


@pytest.fixture
def sent_code():
    """`sent_code(to)`: the one-time code in the last text message (or e-mail) sent to `to`."""
    import re

    from django.core import mail

    from accounts import sms

    def last(to: str) -> str:
        bodies = (
            [m.body for m in mail.outbox if to in m.to] if "@" in to else [m.body for m in sms.outbox if m.to == to]
        )
        assert bodies, f"nothing was sent to {to}"
        return re.search(r"验证码\s*(\d{6})", bodies[-1]).group(1)

    return last


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']}"
