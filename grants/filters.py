"""The staff proposal list's filters (a Wagtail FilterSet), every one a query parameter so
a filtered list can be bookmarked and linked from the dashboard:

    /admin/grants/proposals/?call=3&status=submitted&amount_min=50000&q=老宝贝

The call and region choices are the user's own scope: another district's call or street
is a form error, never a way to see it. 实施地点 (`region`) narrows by where a project is
carried out (its places, at or below the region chosen), not by the call's region: the
call filter already says whose call it is, and a city call's projects are spread over
its streets and communities."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from wagtail.admin.filters import DateRangePickerWidget

from accounts.models import Region
from accounts.selectors import scope
from core.forms import Select
from orgs.filters import CheckboxFilter, RegionChoiceField, RegionFilter, ScopedFilterSet, radio_choice
from orgs.models import OrgType, ServiceArea

from .models import Call, CallLevel, Proposal, ProposalStatus

P = ProposalStatus
# staff never see drafts (grants.selectors.proposals)
STAFF_STATUSES = [(value, label) for value, label in P.choices if value != P.DRAFT]


class _LoadedChoices(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.options:
            yield self.choice(obj)

    def __len__(self):
        return len(self.field.options) + (self.field.empty_label is not None)


class LoadedChoicesMixin:
    """A model choice field that reads its choices once: checking the value sent and
    rendering the options share one query (Django's field runs one for each)."""

    iterator = _LoadedChoices

    @property
    def options(self) -> list:
        if getattr(self, "_options_of", None) is not self.queryset:  # a copied field has a new queryset
            self._options, self._options_of = list(self.queryset), self.queryset
        return self._options

    def to_python(self, value):
        if value in self.empty_values:
            return None
        key = self.to_field_name or "pk"
        if isinstance(value, self.queryset.model):
            value = getattr(value, key)
        for obj in self.options:
            if str(getattr(obj, key)) == str(value):
                return obj
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})


class _CallOption:
    """A call as the filter offers it: its key and label, no model instance (a Call is
    an FSM model, costly to load by the hundred for a list of options)."""

    __slots__ = ("pk", "label")

    def __init__(self, pk, year, title):
        self.pk, self.label = pk, f"{year}年 · {title}"


class CallChoiceField(LoadedChoicesMixin, django_filters.fields.ModelChoiceField):
    @property
    def options(self) -> list:
        if getattr(self, "_options_of", None) is not self.queryset:
            rows = self.queryset.values_list("pk", "year", "title")
            self._options, self._options_of = [_CallOption(*row) for row in rows], self.queryset
        return self._options

    def label_from_instance(self, obj):
        return obj.label

    def prepare_value(self, value):
        return value.pk if isinstance(value, _CallOption) else super().prepare_value(value)


class CallFilter(django_filters.ModelChoiceFilter):
    """The calls in the user's scope, newest first."""

    field_class = CallChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Call.objects.none())
        kwargs.setdefault("empty_label", "全部征集")
        kwargs.setdefault("widget", Select)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return super().filter(qs, value.pk if isinstance(value, _CallOption) else value)

    def choices_for(self, user):
        calls = Call.objects.all()
        calls = scope(calls, user) if user is not None else calls
        return calls.order_by("-year", "level", "title", "pk")


class CategoryChoiceField(LoadedChoicesMixin, django_filters.fields.ModelChoiceField):
    pass


class CategoryFilter(django_filters.ModelChoiceFilter):
    field_class = CategoryChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", ServiceArea.objects.all())
        kwargs.setdefault("empty_label", "全部领域")
        kwargs.setdefault("widget", Select)
        super().__init__(*args, **kwargs)


class PlaceChoiceField(LoadedChoicesMixin, RegionChoiceField):
    pass


class PlaceFilter(RegionFilter):
    """Projects carried out at or below the street or community chosen (any of their
    places); the choices are the streets and communities in the user's scope."""

    field_class = PlaceChoiceField

    def choices_for(self, user):
        return super().choices_for(user).filter(level__in=[Region.Level.STREET, Region.Level.COMMUNITY])

    def filter(self, qs, value):
        if not value:
            return qs
        places = Proposal.places.through.objects.filter(proposal_id=OuterRef("pk"), region__path__startswith=value.path)
        return qs.filter(Exists(places))


def search_proposals(queryset, name, value):
    """项目名称 or 申报组织 (contains), 申报编号 (contains, any case), 统一社会信用代码 (exact)."""
    q = (value or "").strip()
    if not q:
        return queryset
    return queryset.filter(
        Q(title__icontains=q)
        | Q(number__icontains=q)
        | Q(organisation__name__icontains=q)
        | Q(organisation__uscc__iexact=q.upper())
    )


def _amount(label, lookup):
    return django_filters.NumberFilter(
        label=label,
        field_name="grant_amount",
        lookup_expr=lookup,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


class ProposalFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", "申请金额的上限不能低于下限。")
        return data


class ProposalFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索", method=search_proposals, max_length=100)
    call = CallFilter(label="征集")
    level = radio_choice("征集层级", CallLevel.choices, field_name="call__level")
    status = radio_choice("状态", STAFF_STATUSES)
    overdue = CheckboxFilter(label="只看补正逾期（退回修改且已过截止日期）", method="only_overdue")
    region = PlaceFilter(label="实施地点")
    category = CategoryFilter(label="服务领域")
    org_type = radio_choice("组织类型", OrgType.choices, field_name="organisation__org_type")
    amount_min = _amount("申请金额从（元）", "gte")
    amount_max = _amount("申请金额至（元）", "lte")
    submitted_at = django_filters.DateFromToRangeFilter(label="提交日期", widget=DateRangePickerWidget)

    class Meta:
        model = Proposal
        fields = []  # all declared above
        form = ProposalFilterForm

    def only_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(status=P.RETURNED, correction_deadline__lt=timezone.localdate())


PROPOSAL_FILTER_KEYS = tuple(ProposalFilterSet.base_filters)
