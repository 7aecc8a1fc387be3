"""Wagtail hooks for bulk data (imported by orgs/wagtail_hooks.py).

Registers /admin/orgs/import/, /admin/orgs/import/template/, /admin/orgs/export/ and the
generic background-job pages /admin/jobs/… (core.jobs, which has no hooks module of its
own), plus menu items shown only to users with the permission: 导入社会组织 and 导出社会组织名录
go into the "社会组织" submenu of orgs/wagtail_hooks.py (hook `register_orgs_menu_item`),
我的后台任务 into the main menu."""

from django.urls import include, path, reverse
from wagtail import hooks

from core.admin_ui import PermissionMenuItem

from . import views_exchange
from .exports import can_export
from .imports import can_import

ORGS_MENU_HOOK = "register_orgs_menu_item"  # the 社会组织 submenu built in orgs/wagtail_hooks.py


@hooks.register("register_admin_urls")
def register_exchange_urls():
    return [path("orgs/", include((views_exchange.urlpatterns, "orgs_exchange"), namespace="orgs_exchange"))]


@hooks.register(ORGS_MENU_HOOK)
def register_import_menu_item():
    return PermissionMenuItem(
        "导入社会组织",
        reverse("orgs_exchange:import"),
        name="orgs-import",
        icon_name="upload",
        order=310,
        check=can_import,
    )


@hooks.register(ORGS_MENU_HOOK)
def register_export_menu_item():
    return PermissionMenuItem(
        "导出社会组织名录",
        reverse("orgs_exchange:export"),
        name="orgs-export",
        icon_name="download",
        order=311,
        check=can_export,
    )
