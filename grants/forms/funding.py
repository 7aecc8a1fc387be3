"""Forms of the funding stage's staff actions (协议签订, 拨付): each form's cleaned data are
the keyword arguments of the service its action runs (core.admin_actions)."""

from django import forms
from django.utils import timezone

from core.forms import DateInput


class ReleaseForm(forms.Form):
    """拨付 (grants.services.tranches.tranche_release): when, under which voucher and into
    which account the money went. The rules (not in the future, not before the signing, an
    account on file) are the service's, its refusals shown at the field they concern."""

    paid_on = forms.DateField(
        label="拨付日期",
        widget=DateInput,
        error_messages={"required": "请填写拨付日期。", "invalid": "请填写有效的日期。"},
    )
    voucher_no = forms.CharField(
        label="记账凭证号",
        max_length=40,
        error_messages={"required": "请填写记账凭证号。", "max_length": "凭证号不能超过40个字符。"},
    )
    bank_account = forms.CharField(
        label="收款账号",
        max_length=60,
        required=False,
        help_text="默认为组织资料中登记的银行账号；改用其他账号时请填写。",
    )

    def __init__(self, *args, initial=None, **kwargs):
        super().__init__(*args, initial={"paid_on": timezone.localdate(), **(initial or {})}, **kwargs)
