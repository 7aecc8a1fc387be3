"""Forms of the staff review page. They collect input only: the services decide what is
required and say so in the words the applicant also reads."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.forms import DateInput

from .models import GRADES, AnnualInspection, ListEntry


class ChangeDecisionForm(forms.Form):
    note = forms.CharField(
        label="审核意见",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="不同意时必填。",
    )


class InspectionForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=1990)
    result = forms.ChoiceField(label="年检结果", choices=AnnualInspection.Result.choices)
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year - 1  # 年检 covers the past year

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year > timezone.localdate().year:
            raise ValidationError("年检年度不能晚于今年。")
        return year


class GradeForm(forms.Form):
    grade = forms.ChoiceField(label="评估等级", choices=[(g, g) for g in GRADES])
    awarded_on = forms.DateField(label="评定日期", widget=DateInput())


class ListEntryForm(forms.Form):
    kind = forms.ChoiceField(label="类别", choices=ListEntry.Kind.choices)
    listed_on = forms.DateField(label="列入日期", widget=DateInput())
    removed_on = forms.DateField(label="移出日期", required=False, widget=DateInput(), help_text="尚未移出的不填。")
    reason = forms.CharField(label="原因", max_length=300, required=False)
