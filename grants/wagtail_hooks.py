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
from . import figures_hooks  # noqa: E402, F401  (the incubator's and the organisation's figures from grants)
from .staff import (  # noqa: E402, F401  # noqa: E402, F401  # noqa: E402, F401  (the 进度报告 and 项目评估 panels)
    admin_lists,
    agreements,  # noqa: E402, F401  (the 项目协议 panel, its actions and downloads)
    calls,  # noqa: E402, F401
    dashboard,
    evaluations,
    experts,
    exports_funding,  # noqa: E402, F401  (导出 in the 公益创投 menu)
    linkage,
    needs,
    objections,
    proposals,
    reports,
    tranches,  # noqa: E402, F401  (拨付管理, 资金概览, the 资金拨付 panel)
)
