"""The 孵化基地 section is a BaseIndexPage. A site built before it existed has a SectionPage
at /bases/: ensure_site turns that page into a BaseIndexPage in place, once."""

import pytest
from wagtail.models import Page

from cms import setup
from cms.models import BaseIndexPage, HomePage, SectionPage


@pytest.fixture
def old_site(db, monkeypatch):
    """The page tree as ensure_site built it when every section was a SectionPage, with the
    section's intro edited since."""
    monkeypatch.setattr(setup, "SECTION_PAGE_TYPES", {})
    setup.ensure_site()
    monkeypatch.undo()
    bases = SectionPage.objects.get(slug="bases")
    bases.intro = "<p>本市三级孵化网络。</p>"
    bases.save_revision().publish()
    return bases


def test_a_fresh_site_gets_a_base_index_page(site_pages):
    page = BaseIndexPage.objects.get()
    assert page.slug == "bases" and page.url == "/bases/" and page.live
    assert not SectionPage.objects.filter(slug="bases").exists()


def test_an_old_section_page_is_converted_in_place(client, old_site):
    setup.ensure_site()
    page = BaseIndexPage.objects.get()
    assert page.pk == old_site.pk and page.url == "/bases/" and page.live
    assert page.title == "孵化基地" and page.intro == "<p>本市三级孵化网络。</p>"
    assert not SectionPage.objects.filter(pk=old_site.pk).exists()
    assert Page.objects.get(pk=page.pk).specific_class is BaseIndexPage
    assert page.get_latest_revision_as_object().intro == "<p>本市三级孵化网络。</p>"
    assert [p.slug for p in HomePage.objects.get().get_children()][:2] == ["calls", "bases"]
    response = client.get("/bases/")
    assert response.status_code == 200 and "本市三级孵化网络。" in response.content.decode()


def test_converting_twice_changes_nothing(old_site):
    setup.ensure_site()
    pages, revisions = Page.objects.count(), BaseIndexPage.objects.get().revisions.count()
    setup.ensure_site()
    assert Page.objects.count() == pages
    assert BaseIndexPage.objects.get().revisions.count() == revisions
    assert SectionPage.objects.count() == len(setup.SECTIONS) - len(setup.SECTION_PAGE_TYPES)


def test_the_editor_opens_it_as_its_new_type(admin_client, old_site):
    setup.ensure_site()
    response = admin_client.get(f"/admin/pages/{old_site.pk}/edit/")
    assert response.status_code == 200
    assert "孵化基地栏目" in response.content.decode()
