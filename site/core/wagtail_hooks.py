"""Admin screens every app shares: the user's background jobs (exports, imports, batch PDFs)."""

from django.urls import reverse
from wagtail import hooks

from . import admin_scope, dashboard, jobs  # noqa: F401  (admin_scope, dashboard: importing registers hooks)
from .admin_ui import PermissionMenuItem


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
