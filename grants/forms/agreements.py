"""Forms of the agreement's staff actions (项目协议): each form's cleaned data are the keyword
arguments of the service its action runs (grants.services.agreements). The rules (a file
type read from its bytes, a date not in the future) are the service's, its refusals shown
at the field they concern."""

from django import forms
from django.utils import timezone

from core.files import DOCUMENT_KINDS, SafeFileField
from core.forms import DateInput


class SignedScanForm(forms.Form):
    """上传签字盖章件 (agreement_record_scan): the scan of the agreement both sides signed and
    stamped on paper, and the day they signed it."""

    scan = SafeFileField(
        label="签字盖章的协议扫描件",
        kinds=DOCUMENT_KINDS,
        help_text="双方签字盖章后的协议书扫描件，PDF、JPG 或 PNG。",
    )
    signed_on = forms.DateField(
        label="签订日期",
        widget=DateInput,
        error_messages={"required": "请填写签订日期。", "invalid": "请填写有效的日期。"},
    )

    def __init__(self, *args, initial=None, **kwargs):
        super().__init__(*args, initial={"signed_on": timezone.localdate(), **(initial or {})}, **kwargs)


class ClausesForm(forms.Form):
    """修改协议条款 (agreement_update_clauses), before the organisation has confirmed."""

    clauses = forms.CharField(
        label="协议条款",
        widget=forms.Textarea(attrs={"rows": 24}),
        max_length=20000,
        error_messages={"required": "协议条款不能为空。", "max_length": "协议条款不能超过20000字。"},
        help_text="修改后申报单位负责人会收到通知，并按修改后的条款确认。",
    )

    def clean_clauses(self):
        return self.cleaned_data["clauses"].replace("\r\n", "\n")
