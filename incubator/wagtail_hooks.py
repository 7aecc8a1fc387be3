"""Staff screens of incubation inside the Wagtail admin: the "孵化基地" menu with the
operator's queue, the promotions inbox and base management. Other incubator screens (the
figures dashboards) add items to the same submenu with
`@hooks.register("register_incubator_menu_item")`."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu, SubmenuMenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column

from core.admin_ui import PermissionMenuItem
from core.viewsets import ScopedModelViewSet

from . import views_admin
from .forms import IncubationBaseForm
from .models import IncubationBase

INCUBATOR_MENU_HOOK = "register_incubator_menu_item"


# ---- base management: every screen scoped to the user's region (core.viewsets) -----------------


class IncubationBaseViewSet(ScopedModelViewSet):
    model = IncubationBase
    scope_region_field = "region"
    icon = "home"
    menu_label = "基地管理"
    add_to_admin_menu = False
    url_prefix = "incubator/bases"
    copy_view_enabled = False
    list_per_page = 50
    list_display = [
        "name",
        "level",
        "region",
        Column("desks", label="实体工位（已用/总数）", accessor=lambda b: f"{b.desks_used} / {b.desks}"),
        Column(
            "virtual_places", label="虚拟名额（已用/总数）", accessor=lambda b: f"{b.virtual_used} / {b.virtual_places}"
        ),
        BooleanColumn("is_active", label="开放入驻"),
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


@hooks.register("register_admin_viewset")
def register_base_viewset():
    return base_viewset


# ---- the menu and the other screens ----------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_incubator_admin_urls():
    return [path("incubator/", include((views_admin.urlpatterns, "incubator_admin")))]


@hooks.register("register_admin_menu_item")
def register_incubator_menu():
    menu = Menu(register_hook_name=INCUBATOR_MENU_HOOK, construct_hook_name="construct_incubator_menu")
    return SubmenuMenuItem("孵化基地", menu, name="incubator", icon_name="home", order=210)


@hooks.register(INCUBATOR_MENU_HOOK)
def queue_menu_item():
    return PermissionMenuItem(
        "入驻孵化",
        reverse("incubator_admin:queue"),
        name="incubator-queue",
        icon_name="tasks",
        order=100,
        permission=views_admin.VIEW_PERMISSION,
    )


@hooks.register(INCUBATOR_MENU_HOOK)
def promotions_menu_item():
    return PermissionMenuItem(
        "推荐晋级",
        reverse("incubator_admin:promotions"),
        name="incubator-promotions",
        icon_name="arrow-up",
        order=110,
        permission="incubator.view_promotion",
    )


@hooks.register(INCUBATOR_MENU_HOOK)
def bases_menu_item():
    return PermissionMenuItem(
        "基地管理",
        reverse(base_viewset.get_url_name("index")),
        name="incubator-bases",
        icon_name="home",
        order=120,
        permission="incubator.view_incubationbase",
    )


from . import figures_hooks, page_hooks  # noqa: E402, F401
