import pytest

from cms.models import HomePage, SectionPage
from cms.setup import SECTION_PAGE_TYPES, SECTIONS, ensure_site


@pytest.mark.django_db
def test_home_page_renders_in_chinese_with_navigation(client, site_pages):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    for label in ["首页", "项目申报", "孵化基地", "资助项目", "公示公告", "数据统计", "登录"]:
        assert f">{label}<" in html
    assert "公益创投" in html


@pytest.mark.django_db
def test_sections_show_a_real_empty_state(client, site_pages):
    response = client.get("/calls/")
    assert response.status_code == 200
    assert "当前没有正在征集的项目" in response.content.decode()


@pytest.mark.django_db
def test_ensure_site_is_idempotent(site_pages):
    ensure_site()
    ensure_site()
    assert HomePage.objects.count() == 1
    assert SectionPage.objects.count() == len(SECTIONS) - len(SECTION_PAGE_TYPES)
    assert [p.slug for p in HomePage.objects.get().get_children()] == [slug for slug, *_ in SECTIONS]
