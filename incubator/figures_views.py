"""孵化数据: the figures dashboard in the Wagtail admin (/admin/incubator/figures/) and its
Excel download, for users with incubator.view_incubationbase. Both cover the bases in the
user's region subtree only (a street operator sees the street's workstation and the
community studios below it; the city sees everything)."""

from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.auth import permission_required

from accounts.selectors import scope
from core.excel import export_button, xlsx_response

from . import exports
from .figures import (
    SUMMARY_SHORT,
    as_records,
    gain_display,
    load_frames,
    share_display,
    summary,
    yearly,
    yearly_chart,
)
from .models import BaseLevel, IncubationBase

VIEW_PERMISSION = "incubator.view_incubationbase"
# The public site (cms, a layer above) says where the bases' public pages are:
#   @hooks.register("incubator_public_bases_url") def …() -> str  ("/bases/", or "" if none)
PUBLIC_BASES_URL_HOOK = "incubator_public_bases_url"


def public_bases_url() -> str:
    """The URL of the public bases directory (a base's page is <url><pk>/), "" if none."""
    return next((url for fn in hooks.get_hooks(PUBLIC_BASES_URL_HOOK) if (url := fn())), "")


def bases_in_scope(user):
    return scope(IncubationBase.objects.all(), user)


def _rows(df):
    rows = as_records(df)
    for row in rows:
        row["registered_share_display"] = share_display(row["registered_share"])
        row["avg_gain_display"] = gain_display(row["avg_gain"])
    return rows


@permission_required(VIEW_PERMISSION)
def dashboard(request):
    frames = load_frames(bases_in_scope(request.user))
    per_level = yearly(frames, "level")
    level_charts = [
        yearly_chart(
            per_level[per_level["level"] == level].tail(4),
            f"{BaseLevel(level).label}：近年入壳、出壳与退驻（家）",
            f"incubation-level-{level}",
        )
        for level in sorted(frames.bases["level"].unique())
    ]
    by_base = _rows(summary(frames, by="base"))
    for row in by_base:
        row["level_label"] = BaseLevel(row["level"]).label
    region = request.user.region
    context = {
        "header_title": "孵化数据",
        "header_icon": "table",
        "breadcrumbs_items": [
            {"url": reverse("wagtailadmin_home"), "label": "仪表板"},
            {"url": "", "label": "孵化基地"},
            {"url": "", "label": "孵化数据"},
        ],
        "header_buttons": [
            export_button(reverse("incubator_figures:export")),
        ],
        "scope_label": "全市" if request.user.is_superuser or region is None else region.full_name,
        "base_count": len(frames.bases),
        "total_chart": yearly_chart(yearly(frames).tail(4), "全部基地：近年入壳、出壳与退驻（家）", "incubation-all"),
        "level_charts": level_charts,
        "by_level": _rows(summary(frames, by="level")),
        "by_base": by_base,
        "columns": SUMMARY_SHORT,
        "bases_url": public_bases_url(),
    }
    return TemplateResponse(request, "incubator/figures/dashboard.html", context)


@require_POST  # a download, but never on a GET (links, prefetching, crawlers)
@permission_required(VIEW_PERMISSION)
def export(request):
    data = exports.figures_workbook(load_frames(bases_in_scope(request.user)))
    return xlsx_response(data, f"孵化基地数据-{timezone.localdate():%Y%m%d}.xlsx")


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("export.xlsx", export, name="export"),
]
