"""Admin screens every app shares: the user's background jobs (exports, imports, batch PDFs)."""

from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from wagtail import hooks

from . import admin_scope, dashboard, jobs  # noqa: F401  (admin_scope, dashboard: importing registers hooks)
from .admin_ui import PermissionMenuItem


@hooks.register("insert_global_admin_css")
def staff_screens_css():
    # the one stylesheet for what Wagtail's components do not style (no per-app CSS)
    return format_html('<link rel="stylesheet" href="{}">', static("core/admin.css"))


@hooks.register("register_admin_urls")
def register_job_urls():
    return jobs.urlpatterns


@hooks.register("register_admin_menu_item")
def register_jobs_menu_item():
    return PermissionMenuItem(
        "我的后台任务",
        reverse("jobs:list"),
        name="background-jobs",
        icon_name="time",
        order=9000,
        check=lambda user: getattr(user, "is_authenticated", False),
    )
