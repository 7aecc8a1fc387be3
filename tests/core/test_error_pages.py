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


@pytest.mark.django_db
def test_400_is_chinese(client):
    # a host the site does not serve is a bad request (SuspiciousOperation)
    response = client.get("/", HTTP_HOST="evil.example.com:bad port")
    assert response.status_code == 400
    html = response.content.decode()
    assert "请求无法处理" in html and 'lang="zh-Hans"' in html and "Bad Request" not in html


@pytest.mark.django_db
def test_413_is_chinese_and_keeps_nothing(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/accounts/signup/", {"name": "陈" * 2000}, HTTP_HOST="127.0.0.1")
    assert response.status_code == 413
    html = response.content.decode()
    assert "提交的内容过大" in html and "没有保存" in html


def test_nginx_answers_413_with_the_chinese_page():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    conf = (root / "deploy" / "nginx.conf").read_text()
    assert "error_page 413 /static/errors/413.html;" in conf
    assert "提交的内容过大" in (root / "site" / "static" / "errors" / "413.html").read_text()
