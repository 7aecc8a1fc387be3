import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.urls import path


def _forbidden(request):
    raise PermissionDenied("您不是该组织的成员，或您的角色无权进行此操作。")


from config.urls import urlpatterns as site_urlpatterns  # noqa: E402

urlpatterns = [path("forbidden/", _forbidden), *site_urlpatterns]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.core.test_error_pages")
def test_403_shows_the_chinese_reason(client):
    response = client.get("/forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html and "您不是该组织的成员" in html


@pytest.mark.django_db
def test_404_is_chinese(client, site_pages):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
