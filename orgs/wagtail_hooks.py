"""Staff screens for the registry inside the Wagtail admin: the "社会组织" menu (a Wagtail
ViewSetGroup) and its URLs under /admin/orgs/. The lists are viewsets (orgs/admin_lists.py);
the review page and its actions are views_admin.py, in the same `orgs_admin` namespace.
Other orgs screens add items to the same submenu with
`@hooks.register("register_orgs_menu_item")` (ORGS_MENU_HOOK)."""

from django.urls import include, path
from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup

from . import admin_lists, page_hooks, views_admin  # noqa: F401  (page_hooks registers the dashboards' parts)
from .exchange_hooks import ORGS_MENU_HOOK  # importing it also registers import/export


@hooks.register("register_admin_urls")
def register_orgs_admin_urls():
    from .views_members_admin import urlpatterns as members  # before review/<pk>/<action>/, which would match it

    return [path("orgs/", include((admin_lists.urlpatterns + members + views_admin.urlpatterns, "orgs_admin")))]


class OrgsMenu(ViewSetGroup):
    menu_label = "社会组织"
    menu_name = "orgs"
    menu_icon = "group"
    menu_order = 200
    submenu_hook = ORGS_MENU_HOOK  # 导入, 导出 … from exchange_hooks.py
    items = (admin_lists.registry_viewset, admin_lists.review_queue_viewset)


@hooks.register("register_admin_viewset")
def register_orgs_menu():
    return OrgsMenu()
