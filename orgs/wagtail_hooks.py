"""Staff screens for the registry inside the Wagtail admin: the "社会组织" menu and its
URLs under /admin/orgs/. Other orgs screens add items to the same submenu with
`@hooks.register("register_orgs_menu_item")`."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu, SubmenuMenuItem

from core.admin_ui import PermissionMenuItem

from . import page_hooks, views_admin  # noqa: F401  (page_hooks registers the dashboards' parts)
from .exchange_hooks import ORGS_MENU_HOOK  # importing it also registers import/export


@hooks.register("register_admin_urls")
def register_orgs_admin_urls():
    from .views_members_admin import urlpatterns as members  # before review/<pk>/<action>/, which would match it

    return [path("orgs/", include((members + views_admin.urlpatterns, "orgs_admin")))]


@hooks.register("register_admin_menu_item")
def register_orgs_menu():
    menu = Menu(register_hook_name=ORGS_MENU_HOOK, construct_hook_name="construct_orgs_menu")
    return SubmenuMenuItem("社会组织", menu, name="orgs", icon_name="group", order=200)


def _menu_item(label, url_name, *, name, icon_name, order):
    return PermissionMenuItem(
        label, reverse(url_name), name=name, icon_name=icon_name, order=order, permission=views_admin.VIEW_PERMISSION
    )


@hooks.register(ORGS_MENU_HOOK)
def registry_menu_item():
    return _menu_item("登记名录", "orgs_admin:registry", name="orgs-registry", icon_name="list-ul", order=100)


@hooks.register(ORGS_MENU_HOOK)
def queue_menu_item():
    return _menu_item("待审核", "orgs_admin:queue", name="orgs-queue", icon_name="tasks", order=110)
