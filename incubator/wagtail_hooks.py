"""Staff screens of incubation inside the Wagtail admin: the "孵化基地" menu with the
operator's queue, the promotions inbox and base management. Other incubator screens (the
figures dashboards) add items to the same submenu with
`@hooks.register("register_incubator_menu_item")`."""

from django.urls import include, path
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.viewsets.base import ViewSetGroup

from core.admin_lists import LinkColumn, TextColumn, row_url
from core.viewsets import ScopedModelViewSet

from . import admin_lists, views_admin
from .forms import IncubationBaseForm
from .models import IncubationBase

INCUBATOR_MENU_HOOK = "register_incubator_menu_item"


# ---- base management: every screen scoped to the user's region (core.viewsets) -----------------


class IncubationBaseViewSet(ScopedModelViewSet):
    model = IncubationBase
    scope_region_field = "region"
    icon = "home"
    menu_label = "基地管理"
    menu_name = "incubator-bases"
    menu_order = 120
    add_to_admin_menu = False
    url_prefix = "incubator/bases"
    copy_view_enabled = False
    list_per_page = 50
    # cells built in Python (core.admin_lists), as on every staff list
    list_display = [
        LinkColumn("name", label="名称", get_url=lambda b: _edit_url(b), sort_key="name"),
        TextColumn("level", label="层级", accessor="get_level_display", sort_key="level"),
        TextColumn("region", label="所在区域", accessor="region.name", sort_key="region__path"),
        TextColumn("desks", label="实体工位（已用/总数）", accessor=lambda b: f"{b.desks_used} / {b.desks}"),
        TextColumn(
            "virtual_places", label="虚拟名额（已用/总数）", accessor=lambda b: f"{b.virtual_used} / {b.virtual_places}"
        ),
        TextColumn(
            "is_active", label="开放入驻", accessor=lambda b: "开放" if b.is_active else "暂停", sort_key="is_active"
        ),
    ]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "address"]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldPanel("name"),
                    FieldRowPanel([FieldPanel("level"), FieldPanel("region"), FieldPanel("parent")]),
                    FieldPanel("is_active"),
                ],
                heading="基本信息",
            ),
            MultiFieldPanel(
                [
                    FieldPanel("address"),
                    FieldRowPanel([FieldPanel("operator_org"), FieldPanel("operator_unit")]),
                    FieldRowPanel([FieldPanel("contact_name"), FieldPanel("contact_phone")]),
                    FieldPanel("opening_hours"),
                ],
                heading="地址、运营与联系方式",
            ),
            MultiFieldPanel(
                [FieldRowPanel([FieldPanel("desks"), FieldPanel("virtual_places")]), FieldPanel("services")],
                heading="容量与服务",
            ),
            MultiFieldPanel([FieldPanel("introduction"), FieldPanel("photo")], heading="介绍与照片"),
            MultiFieldPanel(
                [
                    FieldRowPanel(
                        [FieldPanel("screening_days"), FieldPanel("period_months"), FieldPanel("handback_days")]
                    ),
                    FieldPanel("graduation_min_score"),
                ],
                heading="规则（按本基地实际调整）",
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel(
                        [
                            FieldPanel("weight_governance"),
                            FieldPanel("weight_finance"),
                            FieldPanel("weight_projects"),
                            FieldPanel("weight_team"),
                            FieldPanel("weight_resources"),
                        ]
                    ),
                ],
                heading="能力评估权重（五项合计须为100）",
            ),
        ],
        base_form_class=IncubationBaseForm,
    )

    def scope_queryset(self, queryset, user):
        return super().scope_queryset(queryset, user).select_related("region", "parent")


base_viewset = IncubationBaseViewSet("incubation_bases")


def _edit_url(base) -> str:
    return row_url(base_viewset.get_url_name("edit"), base.pk)


# ---- the "孵化基地" menu: the lists, base management, and what other modules add ----------------


@hooks.register("register_admin_urls")
def register_incubator_admin_urls():
    return [path("incubator/", include((admin_lists.urlpatterns + views_admin.urlpatterns, "incubator_admin")))]


class IncubatorMenu(ViewSetGroup):
    menu_label = "孵化基地"
    menu_name = "incubator"
    menu_icon = "home"
    menu_order = 210
    submenu_hook = INCUBATOR_MENU_HOOK  # 孵化数据 (figures_hooks.py) …
    items = (admin_lists.queue_viewset, admin_lists.promotions_viewset, base_viewset)


@hooks.register("register_admin_viewset")
def register_incubator_menu():
    return IncubatorMenu()  # registers base_viewset too


from . import figures_hooks, page_hooks  # noqa: E402, F401
