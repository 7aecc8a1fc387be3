"""The public objection form on a 公示 page (cms.NoticePage). The form only takes what was
typed; grants.services.publicity.file_objection decides (window, contact, length, the
project being on the list, the evidence's real type and size, the hourly limit)."""

from django import forms

from core.files import DOCUMENT_KINDS

REQUIRED = {
    "name": "请填写您的姓名。",
    "contact": "请留下手机号码或电子邮箱，方便工作人员反馈处理结果（不会公开）。",
    "reason": "请写明异议的事实和理由。",
}


def proposal_choices(publicity) -> list[tuple[str, str]]:
    choices = [("", "针对整个公示名单（不指定项目）")]
    for i, row in enumerate(publicity.rows or [], 1):
        if row.get("proposal") is None:
            continue
        number = row.get("rank") or i
        label = f"{number}. {row.get('title', '')}"
        if row.get("organisation"):
            label += f"（{row['organisation']}）"
        choices.append((str(row["proposal"]), label))
    return choices


class ObjectionForm(forms.Form):
    name = forms.CharField(label="您的姓名", max_length=30, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    contact = forms.CharField(
        label="联系方式（不公开）",
        max_length=60,
        help_text="手机号码或电子邮箱，仅工作人员核实和反馈处理结果时使用，不会在网站上显示。",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "email"}),
    )
    proposal = forms.ChoiceField(label="对应项目", required=False)
    reason = forms.CharField(
        label="异议内容",
        max_length=2000,
        help_text="请写明异议的事实和理由（至少10个字）。请勿填写他人的身份证号、住址等个人信息。",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    evidence = forms.FileField(
        label="证明材料（可选）",
        required=False,
        help_text="PDF、JPG 或 PNG 文件，不超过 10 MB，仅工作人员可见。",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(f".{k}" for k in (*DOCUMENT_KINDS, "jpeg"))}),
    )
    # a field people never see (hidden by the stylesheet): a form that fills it is a robot's
    website = forms.CharField(
        label="网址（请勿填写）",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, publicity, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposal"].choices = proposal_choices(publicity)
        for name, message in REQUIRED.items():
            self.fields[name].error_messages["required"] = message
        too_long = "不能超过 %(limit_value)d 个字（现在是 %(show_value)d 个字）。"
        for name in ("name", "contact", "reason"):
            self.fields[name].error_messages["max_length"] = too_long
        self.fields["proposal"].error_messages["invalid_choice"] = "所选项目不在本次公示名单中，请重新选择。"

    @property
    def is_robot(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    @property
    def visible(self):
        return [self[name] for name in ("name", "contact", "proposal", "reason", "evidence")]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "contact": data["contact"],
            "reason": data["reason"],
            "proposal": int(data["proposal"]) if data.get("proposal") else None,
            "evidence": data.get("evidence") or None,
        }
