"""The forms of the call manager's review actions (grants.services.review / award)."""

import datetime

from django import forms
from django.utils import timezone

from ..services.award import DEFAULT_PUBLICITY_DAYS


class PitchForm(forms.Form):
    """路演答辩: the top N of the review ranking, one slot after another."""

    count = forms.IntegerField(
        label="入围路演的项目数",
        min_value=1,
        max_value=500,
        help_text="按专家评审排名依次入围（低于最低立项分数的不入围）。",
    )
    starts_at = forms.DateTimeField(
        label="第一场开始时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    minutes = forms.IntegerField(label="每个项目用时（分钟）", min_value=5, max_value=120, initial=15)
    place = forms.CharField(label="路演地点", max_length=100)
    panel_size = forms.IntegerField(label="路演评委人数", min_value=1, max_value=15, initial=5)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class PublishForm(forms.Form):
    opens_on = forms.DateField(
        label="公示开始日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )
    days = forms.IntegerField(label="公示天数", min_value=1, max_value=30, initial=DEFAULT_PUBLICITY_DAYS)

    def clean_opens_on(self):
        value = self.cleaned_data["opens_on"]
        if value < timezone.localdate() - datetime.timedelta(days=0):
            raise forms.ValidationError("公示开始日期不能早于今天。")
        return value

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class AdjustForm(forms.Form):
    amount = forms.DecimalField(
        label="调整后的资助金额（元）",
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text="留空则恢复为申请金额。",
    )
    reason = forms.CharField(label="调整理由", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)
