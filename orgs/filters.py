"""The registry's filters, shared by the admin list and the Excel export so that an
export always contains exactly what the list shows."""

from django import forms
from django.db.models import Q, QuerySet

from accounts.models import Region

from .models import GRADES, AnnualInspection, OrganisationStatus, OrgType


class RegistryFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, widget=forms.TextInput(attrs={"placeholder": "名称或信用代码"}))
    org_type = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *OrgType.choices])
    status = forms.ChoiceField(
        label="登记状态", required=False, choices=[("", "全部状态"), *OrganisationStatus.choices]
    )
    region = forms.ModelChoiceField(
        label="区域", required=False, empty_label="全部区域", queryset=Region.objects.none()
    )
    grade = forms.ChoiceField(
        label="评估等级", required=False, choices=[("", "全部等级"), *[(g, g) for g in GRADES], ("none", "无等级")]
    )
    inspection = forms.ChoiceField(
        label="最近年检",
        required=False,
        choices=[("", "全部年检结果"), *AnnualInspection.Result.choices, ("none", "无年检记录")],
    )

    def __init__(self, *args, regions: QuerySet | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = (regions if regions is not None else Region.objects.all()).order_by("path")
        self.fields["region"].label_from_instance = lambda r: ("\u3000" * (r.depth - 1)) + r.name


def filter_registry(qs: QuerySet, data: dict) -> QuerySet:
    """Apply cleaned RegistryFilterForm data to an Organisation queryset."""
    if data.get("q"):
        q = data["q"].strip()
        qs = qs.filter(Q(name__icontains=q) | Q(uscc__iexact=q.upper()) | Q(filing_number__iexact=q))
    if data.get("org_type"):
        qs = qs.filter(org_type=data["org_type"])
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("region"):
        qs = qs.filter(region__path__startswith=data["region"].path)
    grade = data.get("grade")
    if grade:
        # the grade in force today: a 评估等级 expires after 5 years
        from .selectors import with_valid_grade

        qs = with_valid_grade(qs)
        qs = qs.filter(valid_grade__isnull=True) if grade == "none" else qs.filter(valid_grade=grade)
    inspection = data.get("inspection")
    if inspection == "none":
        qs = qs.filter(latest_inspection_result="")
    elif inspection:
        qs = qs.filter(latest_inspection_result=inspection)
    return qs
