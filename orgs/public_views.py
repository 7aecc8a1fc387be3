"""The public directory of verified organisations. Only public facts: never phone, bank,
e-mail, documents or people's IDs."""

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from accounts.models import Region

from .models import GRADES, OrgType, ServiceArea
from .public_projects import public_projects
from .selectors import public_organisations, with_valid_grade


class DirectoryFilter(forms.Form):
    q = forms.CharField(label="搜索", required=False, widget=forms.TextInput(attrs={"placeholder": "组织名称或简介"}))
    type = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *OrgType.choices])
    district = forms.ModelChoiceField(
        label="区域",
        required=False,
        empty_label="全部区域",
        queryset=Region.objects.filter(level=Region.Level.DISTRICT).order_by("code"),
    )
    area = forms.ModelChoiceField(
        label="服务领域", required=False, empty_label="全部领域", queryset=ServiceArea.objects.all()
    )
    grade = forms.ChoiceField(label="评估等级", required=False, choices=[("", "全部等级"), *[(g, g) for g in GRADES]])


def directory(request):
    form = DirectoryFilter(request.GET or None)
    qs = (
        with_valid_grade(public_organisations())
        .select_related("region")
        .prefetch_related("service_areas")
        .order_by("name", "pk")
    )
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = qs.filter(Q(name__icontains=d["q"]) | Q(introduction__icontains=d["q"]))
        if d["type"]:
            qs = qs.filter(org_type=d["type"])
        if d["district"]:
            qs = qs.filter(region__path__startswith=d["district"].path)
        if d["area"]:
            qs = qs.filter(service_areas=d["area"])
        if d["grade"]:
            qs = qs.filter(valid_grade=d["grade"])
    # status too: the workflow mixin reads it on every instance (deferred, it costs a query per row)
    page = Paginator(
        qs.only("id", "name", "org_type", "status", "introduction", "logo", "region__name", "region__path"), 20
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "orgs/directory.html", {"form": form, "page": page, "query": query.urlencode()})


def directory_detail(request, pk):
    org = get_object_or_404(
        with_valid_grade(public_organisations()).select_related("region").prefetch_related("service_areas"), pk=pk
    )
    context = {"org": org, "projects": public_projects([org.pk])}
    return render(request, "orgs/directory_detail.html", context)
