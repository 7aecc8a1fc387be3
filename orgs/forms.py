from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from accounts.validators import normalise_mobile
from core.files import DOCUMENT_KINDS, SafeFileField, human_size, validate_upload
from core.forms import DateInput, limit_text_fields

from .documents import upload_rule_for, uploadable_kinds
from .models import DocumentKind, Invitation, LegalChangeRequest, Membership, Organisation
from .validators import normalise_bank_account, normalise_uscc

PROFILE_FIELDS = [
    "name",
    "org_type",
    "uscc",
    "filing_number",
    "sponsor_name",
    "registration_authority",
    "supervisory_unit",
    "legal_representative",
    "founded_on",
    "registered_capital",
    "address",
    "region",
    "service_areas",
    "contact_name",
    "contact_phone",
    "email",
    "bank_name",
    "bank_account_name",
    "bank_account",
    "introduction",
    "logo",
]


def accept_separators(field, max_length=40):
    """Let people type '138 0000 0000' or '6222 0212 …': the model's own length check runs
    after the clean_<field> method has taken the spaces and dashes out."""
    field.max_length = max_length
    field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    field.widget.attrs["maxlength"] = str(max_length)


class OrganisationForm(forms.ModelForm):
    """The profile, typed once. Legal fields are locked once the organisation is verified."""

    class Meta:
        model = Organisation
        fields = PROFILE_FIELDS
        widgets = {
            "founded_on": DateInput(),
            "service_areas": forms.CheckboxSelectMultiple,
            "introduction": forms.Textarea(attrs={"rows": 5}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "inputmode": "numeric"}),
        }
        help_texts = {
            "uscc": "18位，登记证书上的统一社会信用代码；备案组织和筹备中的组织不填。",
            "region": "组织住所所在的街道（镇）或社区（村），由该区域民政部门审核。",
            "bank_account": "用于接收资助资金的对公账户。",
        }

    def __init__(self, *args, lock_legal=False, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import Region

        self.fields["region"].queryset = Region.objects.filter(level__gte=Region.Level.STREET).order_by("path")
        self.fields["region"].label_from_instance = lambda r: ("\u3000" * (r.depth - 3)) + r.name
        accept_separators(self.fields["contact_phone"])
        accept_separators(self.fields["bank_account"])
        limit_text_fields(self)
        if self.instance.pk is None:
            self.fields["bank_account_name"].help_text = "对公账户的户名，通常就是组织名称；不填则按组织名称保存。"
        if lock_legal:
            for name in ("name", "org_type", "uscc"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "已认证组织修改此项需提交“登记事项变更”申请。"

    def clean_uscc(self):
        return normalise_uscc(self.cleaned_data.get("uscc")) or None

    def clean_contact_phone(self):
        return normalise_mobile(self.cleaned_data.get("contact_phone", ""))

    def clean_bank_account(self):
        return normalise_bank_account(self.cleaned_data.get("bank_account", ""))

    def clean(self):
        cleaned = super().clean()
        # a new organisation's 对公账户 is in its own name: spare typing it twice
        has_bank = cleaned.get("bank_name") or cleaned.get("bank_account")
        if self.instance.pk is None and has_bank and cleaned.get("name") and not cleaned.get("bank_account_name"):
            cleaned["bank_account_name"] = cleaned["name"]
        return cleaned

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "content_type"):  # a new upload, not the stored file
            validate_upload(logo, kinds=("jpg", "png"), max_bytes=2 * 1024 * 1024)
        return logo

    def profile_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "service_areas" and not self.fields[k].disabled}
        if data.get("logo") is False:  # "clear" ticked
            data["logo"] = ""
        elif data.get("logo") is None:
            data.pop("logo", None)
        return data


class DocumentUploadForm(forms.Form):
    """Offers only the kinds the member's role may upload (orgs.documents), and says why."""

    kind = forms.ChoiceField(label="材料类型", choices=DocumentKind.choices)
    file = SafeFileField(label="文件", kinds=DOCUMENT_KINDS)

    def __init__(self, *args, role: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = uploadable_kinds(role)
        self.fields["kind"].choices = [c for c in DocumentKind.choices if c[0] in allowed]
        self.fields["kind"].help_text = upload_rule_for(role)
        # the limit is a setting: say what it is now, not what it was when this was written
        self.fields[
            "file"
        ].help_text = (
            f"PDF、JPG 或 PNG，不超过 {human_size(settings.UPLOAD_MAX_BYTES)}。上传新版本后，旧版本保留在历史中。"
        )


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["role", "mobile", "email"]
        help_texts = {"mobile": "手机号和电子邮箱填一项即可。"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [c for c in Membership.Role.choices if c[0] != Membership.Role.LEADER]
        accept_separators(self.fields["mobile"])

    def clean_mobile(self):
        return normalise_mobile(self.cleaned_data.get("mobile", ""))

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("mobile") and not cleaned.get("email"):
            raise forms.ValidationError("请填写被邀请人的手机号或电子邮箱。")
        return cleaned


class ChangeRequestForm(forms.ModelForm):
    class Meta:
        model = LegalChangeRequest
        fields = ["name", "org_type", "uscc", "reason"]
