"""The "公益创投" menu of the Wagtail admin and the admin URLs of grants (grants/staff/)."""

from django.urls import include, path
from wagtail import hooks

from .staff import urls as staff_urls


@hooks.register("register_admin_urls")
def register_grants_admin_urls():
    return [path("grants/", include((staff_urls.urlpatterns, "grants_admin")))]
