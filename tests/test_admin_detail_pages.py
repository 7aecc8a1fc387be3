"""The staff detail pages are built from Wagtail's panels and the one shared stylesheet:
no per-app class names (orgs-*, inc-*) in the review and incubation pages."""

import re

import pytest

from accounts.roles import Role
from tests.factories import staff
from tests.incubator.factories import IncubationBaseFactory, base_operator, incubation_at
from tests.orgs.test_admin import review_url, submitted

pytestmark = pytest.mark.django_db


def _classes(html: str) -> set[str]:
    return {c for attr in re.findall(r'class="([^"]*)"', html) for c in attr.split()}


def _panel_ids(html: str) -> set[str]:
    return set(re.findall(r'<section class="w-panel[^"]*" id="([^"]+)-section"', html))


def test_the_review_page_is_wagtail_panels(client, regions):
    org, _ = submitted(regions["fenghuang"], name="凤凰街道海马爸比亲子成长服务中心")
    submitted(regions["fenghuang"], name="凤凰街道海马爸比亲子成长服务中心（筹）")  # a similar name
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    html = client.get(review_url(org)).content.decode()

    assert {"similar", "profile", "documents", "facts", "eligibility", "members", "history"} <= _panel_ids(html)
    assert 'id="similar-names"' in html and 'id="history"' in html  # the anchors stay
    assert not {c for c in _classes(html) if c.startswith(("orgs-", "inc-"))}
    assert 'class="gy-facts"' in html and 'class="listing"' in html


def test_the_incubation_page_is_wagtail_panels(client, regions):
    base = IncubationBaseFactory(name="凤凰街道社会组织共享工作站", region=regions["fenghuang"])
    operator = base_operator(base, name="凤凰站运营")
    inc = incubation_at(base, by=operator)
    client.force_login(operator)
    html = client.get(f"/admin/incubator/incubations/{inc.pk}/").content.decode()

    assert {"residence", "profile", "application", "assessments", "service-log", "history"} <= _panel_ids(html)
    assert "panel-action-screen" in " ".join(_panel_ids(html))  # the actions, Wagtail panels too
    assert not {c for c in _classes(html) if c.startswith(("orgs-", "inc-"))}
    assert 'class="gy-facts"' in html and 'class="gy-steps"' in html


def test_no_screen_carries_its_own_styles():
    """Staff screens share site/core/static/core/admin.css, public pages site.css; only the
    PDF templates (rendered by WeasyPrint, no stylesheet links) style themselves."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    inline = [
        str(t.relative_to(root))
        for app in ("orgs", "incubator", "grants", "site")
        for t in (root / app).rglob("*.html")
        if "pdf" not in t.parts and "<style" in t.read_text(encoding="utf-8")
    ]
    assert inline == []
