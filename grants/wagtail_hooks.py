"""The "公益创投" menu of the Wagtail admin and the admin URLs of grants (grants/staff/).

Each staff module registers its own viewset (`register_admin_viewset`) and its menu item
in this submenu (`@hooks.register(GRANTS_MENU_HOOK)`); its URLs are composed in
grants/staff/urls.py under /admin/grants/, namespace `grants_admin`."""

from django.urls import include, path
from wagtail import hooks
from wagtail.admin.menu import Menu, SubmenuMenuItem

from .staff import GRANTS_MENU_HOOK
from .staff import urls as staff_urls


@hooks.register("register_admin_urls")
def register_grants_admin_urls():
    return [path("grants/", include((staff_urls.urlpatterns, "grants_admin")))]


class GrantsMenuItem(SubmenuMenuItem):
    def is_shown(self, request):
        return any(item.is_shown(request) for item in self.menu.menu_items_for_request(request))


@hooks.register("register_admin_menu_item")
def register_grants_menu():
    return GrantsMenuItem(
        "公益创投", Menu(register_hook_name=GRANTS_MENU_HOOK), name="grants", icon_name="pick", order=220
    )


# the staff screens, each registering its viewset, menu item and hooks
# (add your module here: from .staff import calls, needs, proposals)
# figures_hooks: the incubator's and the organisation's figures from grants; public_hooks: an
# organisation's funded projects for the directory; the staff screens (agreements: the 项目协议
# panel; exports_funding: 导出; tranches: 拨付管理, 资金概览; reports, evaluations: their panels)
from . import figures_hooks, public_hooks  # noqa: E402, F401
from .staff import (  # noqa: E402, F401
    admin_lists,
    agreements,
    calls,
    dashboard,
    evaluations,
    experts,
    exports_funding,
    linkage,
    needs,
    objections,
    proposals,
    reports,
    tranches,
)
