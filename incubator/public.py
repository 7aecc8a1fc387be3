"""The public face of the bases, served by cms.BaseIndexPage (/bases/ and /bases/<pk>/).

The directory loads every active base in one query (they are tens, not thousands, so it
is not paginated), the regions on their paths in one more, and filters by region in
Python; a base's page costs a fixed number of queries too, whatever the number of its
residents. Only public facts are shown (see selectors.public_*)."""

from dataclasses import dataclass, field
from datetime import date

from django import forms
from django.db.models import Exists, OuterRef
from django.urls import NoReverseMatch, reverse

from accounts.models import Region
from orgs.public_projects import public_projects
from orgs.selectors import public_organisations

from .figures import base_figures
from .models import RESIDENT_STATES, BaseLevel, Incubation, IncubationBase, IncubationStatus
from .selectors import public_base, public_bases, public_graduates, public_residents, region_label, regions_above

LEVEL_NOTES = {
    BaseLevel.CITY: "全市枢纽平台：孵化全市性社会组织，接收街道（镇）工作站推荐的优秀组织。",
    BaseLevel.STREET: "设在街道（镇）党群服务中心，孵化辖区社区社会组织，指导登记备案。",
    BaseLevel.COMMUNITY: "设在社区（村）党群服务中心，为居民团队、志愿服务队和互助小组提供场地和起步支持。",
}


class RegionFilterForm(forms.Form):
    region = forms.ChoiceField(label="所在区域", required=False)

    def __init__(self, *args, nodes: dict[str, Region], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "全部区域")]
        for node in nodes.values():  # in path order: each district followed by its streets
            if node.level == Region.Level.DISTRICT:
                choices.append((node.code, node.name))
            elif node.level == Region.Level.STREET:
                choices.append((node.code, f"\u3000{node.name}"))
        self.fields["region"].choices = choices
        self.fields["region"].widget.attrs["aria-label"] = "按区域筛选"


@dataclass
class LevelGroup:
    level: int
    label: str
    note: str
    bases: list = field(default_factory=list)


def _base_url(bases_url: str, pk: int) -> str:
    return f"{bases_url}{pk}/"


def directory_context(request, page) -> dict:
    """All active bases grouped by level (市级 / 街道（镇） / 社区（村）), optionally only
    those in a district's or street's subtree. Three queries."""
    bases = list(public_bases())
    nodes = regions_above([b.region for b in bases])
    form = RegionFilterForm(request.GET or None, nodes=nodes)
    chosen = None
    if form.is_valid() and form.cleaned_data["region"]:
        chosen = next(n for n in nodes.values() if n.code == form.cleaned_data["region"])
        bases = [b for b in bases if b.region.path.startswith(chosen.path)]
    bases_url = page.get_url(request)
    groups = {level: LevelGroup(level, label, LEVEL_NOTES[level]) for level, label in BaseLevel.choices}
    for b in bases:
        b.region_label = region_label(b.region, nodes)
        b.public_url = _base_url(bases_url, b.pk)
        groups[b.level].bases.append(b)
    return {
        "form": form,
        "chosen_region": chosen,
        "groups": [g for g in groups.values() if g.bases],
        "level_counts": [(g.label, len(g.bases)) for g in groups.values()],
        "base_count": len(bases),
        "bases_url": bases_url,
    }


def _directory_url(org_pk: int) -> str:
    try:
        return reverse("directory:detail", args=[org_pk])
    except NoReverseMatch:  # the public directory is not installed
        return ""


def _named_organisations(key: str, rows: list) -> dict:
    """The stays whose organisation the public directory shows (verified), each with the
    link to its directory entry, and how many others there are (counted, never named:
    drafts and organisations under review are not public)."""
    shown = [inc for inc in rows if inc.is_public]
    for inc in shown:
        inc.directory_url = _directory_url(inc.organisation_id)
    return {key: shown, f"{key}_unlisted": len(rows) - len(shown)}


def _stays(base: IncubationBase) -> dict:
    """The residents (oldest first) and the graduates (newest first), named or counted:
    the two public selectors read as one query."""
    rows = list(
        (public_residents(base) | public_graduates(base))
        .only(
            "base_id",
            "status",
            "organisation__name",
            "organisation__status",
            "starts_on",
            "residence",
            "graduated_on",
        )
        .annotate(is_public=Exists(public_organisations().filter(pk=OuterRef("organisation_id"))))
        .order_by("pk")
    )
    residents = sorted((r for r in rows if r.status in RESIDENT_STATES), key=lambda r: (r.starts_on or date.min, r.pk))
    graduates = sorted(
        (r for r in rows if r.status == IncubationStatus.GRADUATED),
        key=lambda r: (r.graduated_on or date.min, r.pk),
        reverse=True,
    )
    return {**_named_organisations("residents", residents), **_named_organisations("graduates", graduates)}


BASE_PROJECTS_SHOWN = 12


def _projects_of(base: IncubationBase) -> dict:
    """The funded projects of the organisations resident at or graduated from `base` that
    the directory names, newest first: the first BASE_PROJECTS_SHOWN and how many in all.
    One query (the organisations are a subquery of it), however many there are."""
    stays = Incubation.objects.filter(base=base, status__in=[*RESIDENT_STATES, IncubationStatus.GRADUATED])
    listed = stays.filter(Exists(public_organisations().filter(pk=OuterRef("organisation_id"))))
    projects = public_projects(listed.values("organisation_id"))
    return {"projects": projects[:BASE_PROJECTS_SHOWN], "projects_total": len(projects)}


def base_context(pk: int, *, bases_url: str) -> dict:
    """One base's public page: facts, services, capacity, residents, graduates and their
    funded projects, the bases above and below it, and its figures. A fixed number of
    queries (ten, the residents and graduates read together)."""
    base = public_base(pk)
    children = list(base.children.filter(is_active=True).select_related("region").order_by("region__path", "name"))
    nodes = regions_above([base.region, *(c.region for c in children)])
    for child in children:
        child.region_label = region_label(child.region, nodes)
        child.public_url = _base_url(bases_url, child.pk)
    try:
        apply_url = reverse("incubator:apply", args=[base.pk]) if base.is_active else ""
    except NoReverseMatch:  # the applicant screens are not installed
        apply_url = ""
    return {
        "base": base,
        "region_label": region_label(base.region, nodes),
        "level_label": BaseLevel(base.level).label,
        "parent_url": _base_url(bases_url, base.parent_id) if base.parent_id else "",
        "children": children,
        **_stays(base),
        **_projects_of(base),
        "figures": base_figures(IncubationBase.objects.filter(pk=base.pk), base.pk),
        "apply_url": apply_url,
        "bases_url": bases_url,
    }
