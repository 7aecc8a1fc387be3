"""Forms of the staff eligibility check (资格审查)."""

import datetime

from django import forms
from django.utils import timezone

from core.forms import DateInput
from core.forms_actions import ReasonForm
from core.workdays import add_workdays

from ..services.checks import DEFAULT_CORRECTION_DAYS


class ReturnForm(ReasonForm):
    """退回修改: what to fix (the reason) and the last day to resubmit."""

    deadline = forms.DateField(
        label="补正截止日期",
        widget=DateInput,
        help_text=f"默认{DEFAULT_CORRECTION_DAYS}个工作日后；逾期未重新提交的，自动判定为资格审查未通过。",
    )

    def __init__(self, *args, initial=None, **kwargs):
        initial = {"deadline": add_workdays(timezone.localdate(), DEFAULT_CORRECTION_DAYS), **(initial or {})}
        kwargs.setdefault("label", "需要修改的内容")
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["reason"].required = True
        self.fields["reason"].error_messages["required"] = "请写明需要修改的内容，申报单位将看到这段说明。"

    def clean_deadline(self):
        day = self.cleaned_data["deadline"]
        if day < timezone.localdate():
            raise forms.ValidationError("补正截止日期不能早于今天。")
        if day > timezone.localdate() + datetime.timedelta(days=60):
            raise forms.ValidationError("补正期限不宜超过60天。")
        return day
