import pytest

from tests.factories import UserFactory


@pytest.mark.django_db
def test_an_english_browser_still_gets_chinese(client, site_pages):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-Hans"' in html and ">项目申报<" in html


@pytest.mark.django_db
def test_the_language_switch_gives_english(client, site_pages):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert 'lang="en"' in html and ">Calls<" in html


@pytest.mark.django_db
def test_admin_is_chinese_for_an_english_browser(client):
    client.force_login(UserFactory(is_superuser=True))
    html = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html
