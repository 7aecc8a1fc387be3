"""Wagtail hooks of the figures dashboard (imported by incubator/wagtail_hooks.py):
/admin/incubator/figures/ and its Excel download, and a “孵化数据” item in the “孵化基地”
submenu, shown to users with incubator.view_incubationbase."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import figures_views

INCUBATOR_MENU_HOOK = "register_incubator_menu_item"  # the submenu of incubator/wagtail_hooks.py


class FiguresMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(figures_views.VIEW_PERMISSION)


@hooks.register("register_admin_urls")
def register_figures_urls():
    return [path("incubator/figures/", include((figures_views.urlpatterns, "incubator_figures")))]


@hooks.register(INCUBATOR_MENU_HOOK)
def figures_menu_item():
    return FiguresMenuItem(
        "孵化数据", reverse("incubator_figures:dashboard"), name="incubator-figures", icon_name="table", order=130
    )
