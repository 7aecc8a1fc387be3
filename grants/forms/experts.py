"""The staff form of an expert of the pool (专家库) in the Wagtail admin: the login account
(姓名, 手机号 as the login name, 邮箱, and on a new account the initial password) and the
profile in one form, the declared affiliations as an inline table below it.

The form only reads and checks the input; grants.services.experts saves it
(`service_kwargs`). Region choices are the user's own subtree. The account fields of an
account that is not only an expert's (a staff member, an applicant) are shown disabled:
the pool does not edit other people's accounts."""

from django import forms
from wagtail.admin.forms import WagtailAdminModelForm

from accounts.models import Region
from accounts.selectors import regions_for, user_scope_region
from orgs.models import ServiceArea

from ..models import ExpertProfile
from ..services.experts import ACCOUNT_LOCKED, PROFILE_FIELDS, account_fields, account_is_own
from .calls import RegionField

ACCOUNT_FIELDS = ("name", "mobile", "email")
DUPLICATE_AFFILIATION = "同一组织的同一种关系只需填写一行，请删去重复的一行。"


class ExpertForm(WagtailAdminModelForm):
    name = forms.CharField(label="姓名", max_length=50, error_messages={"required": "请填写专家姓名。"})
    # wider than the 11 stored digits, so "+86 139-1234-5678" reaches the service
    mobile = forms.CharField(
        label="手机号",
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
        help_text="专家用手机号登录（也是登录名）。已有账号的手机号将直接关联该账号，并授予评审专家身份。",
        error_messages={"required": "请填写手机号（专家用它登录）。"},
    )
    email = forms.CharField(
        label="电子邮箱",
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text="选填。用于接收评审通知，也可用于找回密码。",
    )
    password = forms.CharField(
        label="初始密码",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="新建账号时必填：至少8位，不能全是数字。请告知专家，并提醒其首次登录后修改。关联已有账号时不用填写，原密码不变。",
    )

    class Meta(WagtailAdminModelForm.Meta):
        model = ExpertProfile
        fields = ["region", *PROFILE_FIELDS, "expertise"]
        widgets = {"expertise": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        self.fields["region"] = RegionField(
            label="所在区域",
            queryset=(regions_for(user) if user is not None else Region.objects.all()).order_by("path"),
            help_text=ExpertProfile._meta.get_field("region").help_text,
            error_messages={
                "required": "请选择专家所在区域。",
                "invalid_choice": "所选区域不在您的管辖范围内，请从列表中选择您所辖的区域。",
            },
        )
        self.fields["expertise"].queryset = ServiceArea.objects.order_by("sort_order", "pk")
        self.fields["expertise"].help_text = "抽取专家时优先抽取擅长申报项目所属领域的专家。"
        self.fields["employer"].error_messages["required"] = "请填写专家的工作单位。"
        self.fields["employer"].help_text = "与申报组织同一单位的专家会自动回避。"
        self.fields["max_per_call"].error_messages.update(
            {"required": "请填写每次征集最多评审的项目数。", "invalid": "请填写整数。"}
        )
        self.fields["unavailable_note"].help_text = "取消勾选“可参加评审”时必填；恢复评审后自动清空。"
        affiliations = self.formsets.get("affiliations")
        if affiliations is not None:
            # the formset's own check of the one-row-per-kind constraint, in words
            affiliations.get_unique_error_message = lambda check: DUPLICATE_AFFILIATION
        if self.instance.pk:
            del self.fields["password"]
            account = self.instance.user
            self.initial.update(account_fields(account))
            self.fields["mobile"].help_text = "专家用手机号登录（也是登录名）；修改后请告知专家用新号码登录。"
            if not account_is_own(account):
                for name in ACCOUNT_FIELDS:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = ACCOUNT_LOCKED
        elif not self.is_bound and user is not None:
            region = user_scope_region(user)
            if region is not None:
                self.initial.setdefault("region", region.pk)

    def affiliation_rows(self) -> list[dict]:
        """The inline rows kept (not deleted, not left blank), as the service takes them."""
        rows = []
        formset = self.formsets.get("affiliations")
        for form in formset.forms if formset is not None else []:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or not form.has_changed() and form.instance.pk is None:
                continue
            rows.append({"organisation": data.get("organisation"), "kind": data.get("kind"), "note": data.get("note")})
        return rows

    def service_kwargs(self) -> dict:
        cd = self.cleaned_data
        kwargs = {
            "name": cd.get("name", ""),
            "mobile": cd.get("mobile", ""),
            "email": cd.get("email", ""),
            "region": cd["region"],
            "expertise": list(cd.get("expertise") or []),
            "affiliations": self.affiliation_rows(),
            **{f: cd[f] for f in PROFILE_FIELDS},
        }
        if "password" in self.fields:
            kwargs["password"] = cd.get("password", "")
        return kwargs
