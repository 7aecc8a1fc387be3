"""Staff lists on Wagtail's own building blocks: a `ScopedModelViewSet` (core.viewsets)
reduced to its index and results views, a `WagtailFilterSet`, `Column`s with `sort_key`
and Wagtail's status tags.

A list only shows and links: its rows open the app's own detail pages, where every change
goes through a service. So a `StaffListViewSet` has no add/edit/delete/history views, and
its URLs live in the app's admin namespace next to those detail pages
(`orgs_admin:registry` and `orgs_admin:registry_results`), mounted by the app's
`register_admin_urls` hook from `urlpatterns`.

Conventions every list keeps: 50 rows a page under `?p=`, Wagtail's `?ordering=`, the
header's search box feeding the FilterSet's `q` filter when it has one (so an export
built from the same FilterSet holds what the list shows), and a visible message when a
filter value is refused."""

from functools import cache

from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from wagtail.admin.forms.search import SearchForm
from wagtail.admin.ui.tables import Column, StatusTagColumn, TitleColumn
from wagtail.admin.views import generic

from .admin_tables import PythonTable
from .admin_tables import esc as _esc
from .admin_ui import PermissionMenuItem, admin_breadcrumbs
from .viewsets import ScopedModelViewSet

PAGE_SIZE = 50


class StaffIndexView(generic.IndexView):
    table_class = PythonTable
    permission_required = "view"
    any_permission_required = None
    #: shown under a list that fits on one page: "共 3 {count_unit}"
    count_unit = "条"
    #: a line of explanation above the list
    intro = ""
    empty_message = "没有记录。"
    filtered_empty_message = "没有符合筛选条件的记录。"
    search_placeholder = "搜索"
    #: the menu group the list belongs to, first in the breadcrumbs (e.g. "社会组织")
    section = ""
    #: sort the primary keys first, then load the page (for lists ordered over wide joins)
    keys_first = False
    #: sort key → order_by() fields, for keys that are not plain fields; "-key" reverses
    orderings: dict = {}

    def get_breadcrumbs_items(self):
        return admin_breadcrumbs(*([(self.section, None)] if self.section else []), (self.get_page_title(), None))

    # ---- search: the header's box feeds the FilterSet's own `q` filter ------------------------

    @cached_property
    def search_filter(self):
        fs = self.filterset_class
        return fs.base_filters.get(self.search_kwarg) if fs else None

    @cached_property
    def is_searchable(self):
        return bool(self.search_filter or self.search_fields) and bool(self.index_results_url)

    def get_search_form(self):
        if not self.is_searchable:
            return None
        return SearchForm(
            self.request.GET if self.search_kwarg in self.request.GET else None, placeholder=self.search_placeholder
        )

    @cached_property
    def filters(self):
        filters = super().filters
        if filters is not None and self.search_filter is not None:
            # shown as the header's search box, not a second input in the filter panel
            filters.form.fields.pop(self.search_kwarg, None)
        return filters

    def search_queryset(self, queryset):
        if self.search_filter is None or not self.is_searching:
            return super().search_queryset(queryset)
        return self.filters.filters[self.search_kwarg].filter(queryset, self.search_query)

    def get_filterset_kwargs(self):
        return {**super().get_filterset_kwargs(), "user": self.request.user}

    # ---- ordering -------------------------------------------------------------------------------

    def get_ordering(self):
        # `?order=` is the queue's older spelling of Wagtail's `?ordering=`
        wanted = self.request.GET.get("ordering") or self.request.GET.get("order")
        return wanted if wanted in self.get_valid_orderings() else self.default_ordering

    def order_queryset(self, queryset):
        key = self.ordering
        if not key:
            return queryset
        descending, name = key.startswith("-"), key.lstrip("-")
        fields = self.orderings.get(name, (name,))
        if descending:
            fields = tuple(_reverse(f) for f in fields)
        tie = "-pk" if descending else "pk"
        return queryset.order_by(*fields, tie)

    # ---- rows -----------------------------------------------------------------------------------

    def decorate_rows(self, rows: list) -> list:
        """Give the page's rows what their cells show (in bulk, once per page)."""
        return rows

    def paginate_queryset(self, queryset, page_size):
        if not self.keys_first:
            paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
            page.object_list = self.decorate_rows(list(object_list))
            return paginator, page, page.object_list, is_paginated
        # Sort and slice the primary keys alone, then load the page's 50 rows: the database
        # sorts narrow rows, not every joined row in scope. One query more, however many rows.
        keys = queryset.values_list("pk", flat=True)
        paginator, page, object_list, is_paginated = super().paginate_queryset(keys, page_size)
        pks = list(object_list)
        found = queryset.order_by().in_bulk(pks)
        page.object_list = self.decorate_rows([found[pk] for pk in pks if pk in found])
        return paginator, page, page.object_list, is_paginated

    @cached_property
    def no_results_message(self):
        return self.filtered_empty_message if (self.is_filtering or self.is_searching) else self.empty_message

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["count_unit"] = self.count_unit
        context["intro"] = self.intro
        if self.filters is not None and not self.filters.is_valid():
            context["filter_errors"] = [
                f"{self.filters.form.fields[name].label}：{'；'.join(errors)}"
                for name, errors in self.filters.form.errors.items()
                if name in self.filters.form.fields
            ]
        return context


def _reverse(field):
    if isinstance(field, str):
        return field[1:] if field.startswith("-") else f"-{field}"
    if hasattr(field, "reverse_ordering"):  # an OrderBy such as F("x").asc(nulls_last=True)
        return field.copy().reverse_ordering()
    return field.desc()


class StaffListViewSet(ScopedModelViewSet):
    """One staff list. Set `url_namespace` (the app's admin namespace), `index_name` (its
    URL name there), `index_path` (below the app's prefix) and `permission` (who sees it,
    in the menu too); a list several permissions open sets `menu_check(user)` instead,
    the same check its views make."""

    index_view_class = StaffIndexView
    index_template_name = "wagtailadmin/generic/index.html"
    index_results_template_name = "core/admin/list_results.html"
    index_name = ""
    index_path = ""
    permission = ""
    menu_check = None
    list_per_page = PAGE_SIZE
    add_to_admin_menu = False
    copy_view_enabled = False

    @cached_property
    def url_namespace(self):
        raise NotImplementedError("StaffListViewSet needs url_namespace (the app's admin namespace)")

    def get_url_name(self, view_name):
        names = {"index": self.index_name, "index_results": f"{self.index_name}_results"}
        return f"{self.url_namespace}:{names[view_name]}" if view_name in names else None

    def get_urlpatterns(self):
        return []  # mounted under the app's own namespace: see `urlpatterns`

    @cached_property
    def urlpatterns(self):
        return [
            path(self.index_path, self.index_view, name=self.index_name),
            path(f"{self.index_path}results/", self.index_results_view, name=f"{self.index_name}_results"),
        ]

    @cached_property
    def menu_url(self):
        return reverse(self.get_url_name("index"))

    def get_menu_item(self, order=None):
        return PermissionMenuItem(
            self.menu_label,
            self.menu_url,
            name=self.menu_name or self.name,
            icon_name=self.menu_icon,
            order=self.get_menu_item_order(order),
            permission=self.permission,
            check=type(self).menu_check,
        )

    def on_register(self):
        # the scope and the menu item; no admin URL finder, reference index or permission
        # panel for a screen that never edits (the model's own pages do that)
        self.register_scope()
        self.register_menu_item()


@cache
def _url_prefix(name: str) -> str:
    return reverse(name, args=[0])[: -len("0/")]


def row_url(name: str, pk) -> str:
    """The URL named `name` for object `pk` (a `<int:pk>/` URL), reversed once per name, not
    once per row of a list."""
    return f"{_url_prefix(name)}{pk}/"


# ---- cells and filter widgets rendered in Python ----------------------------------------------------
# A page of 50 rows has 400 cells and the filter panel a hundred options; a template
# render for each costs more than the rest of the page together. These keep Wagtail's
# classes (labels, sort keys, accessors, status tags) and its markup, built with format_html.


def _td(column, inner, extra_class=""):
    # 400 cells a page: an f-string and one escape, not format_html's two passes
    classes = " ".join(c for c in (column.classname, extra_class) if c)
    attr = f' class="{_esc(classes)}"' if classes else ""
    return mark_safe(f"<td{attr}>{conditional_escape(inner)}</td>")


class TextColumn(Column):
    """Wagtail's Column, its cell built in Python."""

    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        return _td(self, self.empty_value_display if value is None or not str(value).strip() else value)


class LinkColumn(TitleColumn):
    """Wagtail's TitleColumn (a link to the row's page), its cell built in Python."""

    def render_cell_html(self, instance, parent_context):
        link = format_html('<a href="{}">{}</a>', self.get_link_url(instance, parent_context), self.get_value(instance))
        return _td(self, format_html('<div class="title-wrapper">{}</div>', link), "title")


class StatusColumn(StatusTagColumn):
    """Wagtail's StatusTagColumn, its cell built in Python."""

    def render_cell_html(self, instance, parent_context):
        return _td(self, status_tag(self.get_value(instance), primary=bool(self.get_primary(instance))))


class HTMLColumn(Column):
    """A cell built in Python with format_html (`render(instance)` returns the inner HTML):
    for cells richer than a value, without a template render per cell."""

    def __init__(self, name, *, render, **kwargs):
        super().__init__(name, **kwargs)
        self.render = render

    def render_cell_html(self, instance, parent_context):
        return _td(self, self.render(instance))


def status_tag(label: str, *, primary: bool = False, title: str = ""):
    """Wagtail's status tag (`{% status %}`) as a string, for cells built in Python."""
    return format_html(
        '<span class="w-status{}"{}>{}</span>',
        " w-status--primary" if primary else "",
        format_html(' title="{}"', title) if title else "",
        label,
    )
