"""The registry's filters (a Wagtail FilterSet), shared by the admin lists and the Excel
export so that an export always holds exactly what the list shows.

    RegistryFilterSet(request.GET, queryset=organisations_for_staff(user), user=user).qs

The region choices are the user's own subtree: another district's region is a form
error, never a way to see it."""

import django_filters
from django import forms
from django.db.models import Q
from wagtail.admin.filters import WagtailFilterSet

from accounts.models import Region
from accounts.selectors import regions_for
from core.forms import RadioSelect, Select

from .models import GRADES, AnnualInspection, Organisation, OrganisationStatus, OrgType


class RegionChoiceField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj):
        return "\u3000" * (obj.depth - 1) + obj.name  # the tree, indented


class RegionFilter(django_filters.ModelChoiceFilter):
    """A region and everything below it; the choices are the user's subtree."""

    field_class = RegionChoiceField

    def __init__(self, *args, region_field="region", **kwargs):
        kwargs.setdefault("queryset", Region.objects.none())
        kwargs.setdefault("empty_label", "全部区域")
        kwargs.setdefault("widget", Select)
        super().__init__(*args, **kwargs)
        self.region_field = region_field

    def filter(self, qs, value):
        return qs.filter(**{f"{self.region_field}__path__startswith": value.path}) if value else qs

    def choices_for(self, user):
        return (regions_for(user) if user is not None else Region.objects.all()).order_by("path")


class CheckboxFilter(django_filters.BooleanFilter):
    """A tick box: `?name=on` narrows (its method gets True), no value leaves the list alone."""

    field_class = forms.BooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.CheckboxInput)
        super().__init__(*args, **kwargs)


def radio_choice(label, choices, **kwargs):
    """A choice filter as Wagtail shows its own: radio buttons with 全部 first."""
    return django_filters.ChoiceFilter(label=label, choices=choices, widget=RadioSelect, empty_label="全部", **kwargs)


def search_organisations(queryset, name, value):
    """名称 (contains), 统一社会信用代码 or 备案编号 (exact, any case)."""
    q = (value or "").strip()
    if not q:
        return queryset
    return queryset.filter(Q(name__icontains=q) | Q(uscc__iexact=q.upper()) | Q(filing_number__iexact=q))


class ScopedFilterSet(WagtailFilterSet):
    """A FilterSet whose model-choice filters offer only what `user` may see: each filter
    with a `choices_for(user)` method (RegionFilter: the user's subtree) gets its choices
    from it; without a user (a background job's description) every region is offered."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = user or getattr(request, "user", None)
        for f in self.filters.values():
            if hasattr(f, "choices_for"):
                f.queryset = f.choices_for(user)  # read when the form field is built


class RegistryFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索", method=search_organisations, max_length=100)
    org_type = radio_choice("类型", OrgType.choices)
    status = radio_choice("登记状态", OrganisationStatus.choices)
    region = RegionFilter(label="区域")
    grade = radio_choice("评估等级", [*((g, g) for g in GRADES), ("none", "无等级")], method="filter_grade")
    inspection = radio_choice(
        "最近年检", [*AnnualInspection.Result.choices, ("none", "无年检记录")], method="filter_inspection"
    )

    class Meta:
        model = Organisation
        fields = []  # all declared above

    def filter_grade(self, queryset, name, value):
        # the grade in force today (a 评估等级 expires after 5 years), not latest_grade
        from .selectors import with_valid_grade

        queryset = with_valid_grade(queryset)  # kept if the list has annotated it already
        return queryset.filter(valid_grade__isnull=True) if value == "none" else queryset.filter(valid_grade=value)

    def filter_inspection(self, queryset, name, value):
        return queryset.filter(latest_inspection_result="" if value == "none" else value)

    def description(self) -> str:
        """The valid filters in words: 类型：社会团体，评估等级：3A."""
        if not self.is_valid():
            return ""
        parts = []
        for key, value in self.form.cleaned_data.items():
            if value in ("", None):
                continue
            field = self.form.fields[key]
            if key == "region":
                shown = value.name
            elif hasattr(field, "choices"):
                shown = dict(field.choices).get(value, value)
            else:
                shown = value
            parts.append(f"{field.label}：{shown}")
        return "，".join(parts)


class ReviewQueueFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索", method=search_organisations, max_length=100)
    org_type = radio_choice("类型", OrgType.choices)

    class Meta:
        model = Organisation
        fields = []


REGISTRY_FILTER_KEYS = tuple(RegistryFilterSet.base_filters)
