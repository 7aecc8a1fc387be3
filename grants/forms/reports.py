"""The organisation's progress report forms (grants/views/reports.py).

`ReportForm` is built for one report: its own fields, one amount per grant-funded budget
line (spent in this period), one value per KPI (reached by the end of the period), the
caption and 可以公开 of each photo already uploaded, and one new photo. The amounts are
checked with the service's own rules (grants.services.reports, which checks everything
again when saving), so one POST says every problem; the service's errors come back onto
these fields (`apply_service_errors`), so what was typed stays on the page."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from core.files import SafeFileField
from core.forms import DateInput

from ..services.reports import PHOTO_KINDS, PHOTO_MAX_BYTES, clean_kpi_progress, clean_spending, photo_limit_text

DATE_ERRORS = {"required": "请填写日期。", "invalid": "请填写有效的日期。"}


class ReportStartForm(forms.Form):
    period = forms.CharField(
        label="报告期",
        max_length=30,
        help_text="如“2027年3月”或“第一阶段”。",
        error_messages={"required": "请填写报告期，如“2027年3月”或“第一阶段”。", "max_length": "报告期最多30个字。"},
    )
    period_start = forms.DateField(label="报告期开始", widget=DateInput, error_messages=DATE_ERRORS)
    period_end = forms.DateField(label="报告期结束", widget=DateInput, error_messages=DATE_ERRORS)


def _plain(value) -> str:
    """A stored Decimal string as typed: "1200.00" → "1200", "12.50" → "12.5"."""
    if value in (None, ""):
        return ""
    d = Decimal(str(value))
    text = f"{d.normalize():f}"
    return text


def _amount_field(label, help_text=""):
    return forms.CharField(
        label=label,
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "pp-num"}),
        help_text=help_text,
    )


class ReportForm(forms.Form):
    period = ReportStartForm.base_fields["period"]
    period_start = ReportStartForm.base_fields["period_start"]
    period_end = ReportStartForm.base_fields["period_end"]
    activities_held = forms.IntegerField(
        label="开展活动（场次）",
        min_value=0,
        required=False,
        error_messages={"invalid": "请填写整数。", "min_value": "不能为负数。"},
    )
    participants = forms.IntegerField(
        label="参与人次",
        min_value=0,
        required=False,
        error_messages={"invalid": "请填写整数。", "min_value": "不能为负数。"},
    )
    beneficiaries = forms.IntegerField(
        label="服务对象（人）",
        min_value=0,
        required=False,
        error_messages={"invalid": "请填写整数。", "min_value": "不能为负数。"},
    )
    narrative = forms.CharField(
        label="工作情况",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": 5000}),
        help_text="本期开展的活动、服务对象的变化、遇到的问题和下一步计划。提交前必填。",
        error_messages={"max_length": "工作情况最多5000字。"},
    )
    public_text = forms.CharField(
        label="公开展示的内容",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        help_text="将显示在项目的公开页面上，请勿写入服务对象的姓名。",
        error_messages={"max_length": "公开展示的内容最多2000字。"},
    )
    photo = SafeFileField(
        label="上传照片",
        required=False,
        kinds=PHOTO_KINDS,
        max_bytes=PHOTO_MAX_BYTES,
        help_text=photo_limit_text(),
    )
    photo_caption = forms.CharField(label="照片说明", required=False, max_length=100)
    photo_public = forms.BooleanField(
        label="这张照片可以公开",
        required=False,
        help_text="仅当照片中的人已同意公开（或无法辨认）时勾选。",
    )

    def __init__(self, *args, report, lines, kpis, photos, **kwargs):
        if "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(report, lines, kpis, photos)
        super().__init__(*args, **kwargs)
        self.report, self.lines, self.kpis, self.photos = report, lines, kpis, photos
        for line in lines:
            self.fields[f"spending_{line.pk}"] = _amount_field(f"{line.item}本期支出（元）")
        for kpi in kpis:
            self.fields[f"kpi_{kpi.pk}"] = _amount_field(f"{kpi.indicator}完成值（{kpi.unit}）")
        for photo in photos:
            self.fields[f"photo_{photo.pk}_caption"] = forms.CharField(
                label="说明", required=False, max_length=100, error_messages={"max_length": "照片说明最多100个字。"}
            )
            self.fields[f"photo_{photo.pk}_public"] = forms.BooleanField(label="可以公开", required=False)

    @staticmethod
    def initial_from(report, lines, kpis, photos) -> dict:
        initial = {
            name: getattr(report, name)
            for name in (
                "period",
                "period_start",
                "period_end",
                "activities_held",
                "participants",
                "beneficiaries",
                "narrative",
                "public_text",
            )
        }
        for line in lines:
            initial[f"spending_{line.pk}"] = _plain((report.spending or {}).get(str(line.pk)))
        for kpi in kpis:
            initial[f"kpi_{kpi.pk}"] = _plain((report.kpi_progress or {}).get(str(kpi.pk)))
        for photo in photos:
            initial[f"photo_{photo.pk}_caption"] = photo.caption
            initial[f"photo_{photo.pk}_public"] = photo.public
        return initial

    # what the template lays out
    BASIC = (
        "period",
        "period_start",
        "period_end",
        "activities_held",
        "participants",
        "beneficiaries",
        "narrative",
        "public_text",
    )

    def basic_fields(self):
        return [self[name] for name in self.BASIC]

    def upload_fields(self):
        return [self[name] for name in ("photo", "photo_caption", "photo_public")]

    def spending_fields(self):
        return [(line, self[f"spending_{line.pk}"]) for line in self.lines]

    def kpi_fields(self):
        return [(kpi, self[f"kpi_{kpi.pk}"]) for kpi in self.kpis]

    def photo_fields(self):
        return [(p, self[f"photo_{p.pk}_caption"], self[f"photo_{p.pk}_public"]) for p in self.photos]

    def clean(self):
        """The amounts checked by the service's own rules as well, so one POST says every
        problem at once (the service checks them again when saving)."""
        data = super().clean()
        proposal = self.report.proposal
        for check, prefix, items in ((clean_spending, "spending", self.lines), (clean_kpi_progress, "kpi", self.kpis)):
            try:
                check(proposal, {str(i.pk): data.get(f"{prefix}_{i.pk}", "") for i in items})
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    if key in self.fields and key not in self._errors:
                        self.add_error(key, messages)
                    elif key not in self.fields:
                        self.add_error(None, messages)
        return data

    def service_kwargs(self) -> dict:
        """What grants.services.reports.report_save takes."""
        data = self.cleaned_data
        fields = {name: data.get(name) for name in ("period", "period_start", "period_end", "narrative", "public_text")}
        for name in ("activities_held", "participants", "beneficiaries"):
            fields[name] = data.get(name) or 0
        new = []
        if data.get("photo"):
            new.append(
                {"upload": data["photo"], "caption": data.get("photo_caption", ""), "public": data.get("photo_public")}
            )
        return {
            "fields": fields,
            "spending": {str(line.pk): data.get(f"spending_{line.pk}", "") for line in self.lines},
            "kpi_progress": {str(k.pk): data.get(f"kpi_{k.pk}", "") for k in self.kpis},
            "photos": {
                p.pk: {"caption": data.get(f"photo_{p.pk}_caption", ""), "public": data.get(f"photo_{p.pk}_public")}
                for p in self.photos
            },
            "new_photos": new,
        }

    def apply_service_errors(self, exc) -> None:
        """A service ValidationError onto the fields (spending_<id>, kpi_<id>, photo …)."""
        for key, messages in exc.message_dict.items():
            self.add_error(key if key in self.fields else None, messages)
