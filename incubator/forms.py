"""Forms of the incubation screens. They collect input only; the services validate the
rules (capacity, checklist, one open stay) and their messages are shown as they are."""

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html
from wagtail.admin.forms import WagtailAdminModelForm

from accounts.models import Region
from accounts.selectors import regions_for, scope_q, user_scope_region
from core.forms import DateInput, limit_text_fields
from core.forms_actions import ReasonForm
from orgs.models import REGISTERED_TYPES, Organisation, OrgType
from orgs.selectors import PUBLIC_Q

from .models import (
    ASSESSMENT_DIMENSIONS,
    AssessmentStage,
    BaseService,
    IncubationBase,
    Residence,
    ServiceLog,
)

DATE = DateInput()


class OrganisationChoiceField(forms.ModelChoiceField):
    """Each choice is a read-only summary of the organisation's profile: the profile is
    reused, never typed again."""

    def label_from_instance(self, org):
        facts = [org.get_org_type_display(), org.uscc or org.filing_number, org.region.name]
        facts += [f"负责人 {org.legal_representative}", f"联系人 {org.contact_name} {org.contact_phone}"]
        return format_html(
            "<strong>{}</strong> <span class='status status-{}'>{}</span><span class='muted org-summary'>{}</span>",
            org.name,
            org.status,
            org.get_status_display(),
            " · ".join(f for f in facts if f),
        )


class ApplicationForm(forms.Form):
    """入驻申请: which organisation, and what is not already in its profile."""

    organisation = OrganisationChoiceField(
        label="申请组织",
        queryset=None,
        widget=forms.RadioSelect,
        empty_label=None,
        help_text="组织的登记信息直接取自组织资料，无需重复填写。筹备中的团队也可以申请。",
    )
    plan = forms.CharField(
        label="入驻后想做什么",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="打算开展的服务、面向的人群、希望达成的目标。",
    )
    member_count = forms.IntegerField(label="团队成员人数", min_value=1, max_value=999, initial=1)
    needs = forms.CharField(
        label="希望基地提供的支持",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    requested_services = forms.MultipleChoiceField(
        label="申请的服务", required=False, widget=forms.CheckboxSelectMultiple
    )
    # no initial here: the view preselects only a kind of place the base still has free
    residence = forms.ChoiceField(
        label="入驻方式",
        choices=Residence.choices,
        widget=forms.RadioSelect,
        help_text="虚拟入驻不占用工位，可享受培训、督导等服务。",
    )

    def __init__(self, *args, base: IncubationBase, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if base.desks_free <= 0:
            self.fields["residence"].help_text = (
                "本基地目前没有空余工位：选择实体入驻需等有工位空出后才能入壳；"
                "虚拟入驻不占用工位，可享受培训、督导等服务。"
            )
        self.fields["requested_services"].choices = [(s, BaseService(s).label) for s in base.services]
        if not base.services:
            del self.fields["requested_services"]

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "organisation": d["organisation"],
            "plan": d["plan"],
            "member_count": d["member_count"],
            "needs": d["needs"],
            "requested_services": d.get("requested_services", []),
            "wants_desk": d["residence"] == Residence.DESK,
        }


class WithdrawForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(
            *args, label="退驻原因", help_text="基地运营人员会收到通知；实体工位须在规定时限内交还。", **kwargs
        )


class AdmitForm(forms.Form):
    residence = forms.ChoiceField(label="入驻方式", choices=Residence.choices, widget=forms.RadioSelect)
    desk_label = forms.CharField(label="工位/房间号", max_length=40, required=False, help_text="实体入驻必填。")
    starts_on = forms.DateField(label="入驻日期", required=False, widget=DATE, help_text="不填为今天。")


class ExtendForm(forms.Form):
    new_end = forms.DateField(label="续驻至", widget=DATE)
    reason = forms.CharField(label="续驻理由", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class GraduateForm(forms.Form):
    registered = forms.BooleanField(label="已完成登记或备案", required=False)
    governance = forms.BooleanField(label="治理结构健全（章程、理事会、财务制度）", required=False)
    project = forms.BooleanField(label="至少独立运作过一个项目", required=False)
    new_org_type = forms.ChoiceField(
        label="孵化期间登记为",
        required=False,
        choices=[("", "（未在孵化期间登记）")] + [(t.value, t.label) for t in OrgType if t in REGISTERED_TYPES],
    )
    new_uscc = forms.CharField(
        label="统一社会信用代码",
        max_length=18,
        required=False,
        help_text="孵化期间完成登记的，填写登记证书上的代码，组织资料会同步更新。",
    )
    reason = forms.CharField(label="出壳意见", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_new_uscc(self):
        return self.cleaned_data["new_uscc"].strip().upper()


class ServiceLogForm(forms.ModelForm):
    class Meta:
        model = ServiceLog
        fields = ["kind", "title", "date", "hours", "mentor", "participants", "notes"]
        widgets = {"date": DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate
        limit_text_fields(self)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class AssessmentForm(forms.Form):
    stage = forms.ChoiceField(label="评估阶段", choices=AssessmentStage.choices)
    assessed_on = forms.DateField(label="评估日期", required=False, widget=DATE, help_text="不填为今天。")
    comment = forms.CharField(
        label="评估意见", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in ASSESSMENT_DIMENSIONS.items():
            self.fields[key] = forms.DecimalField(
                label=f"{label}（0–100）", min_value=0, max_value=100, decimal_places=1, max_digits=4
            )

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "stage": d["stage"],
            "assessed_on": d["assessed_on"],
            "comment": d["comment"],
            "scores": {k: d[k] for k in ASSESSMENT_DIMENSIONS},
        }


class PromotionAcceptForm(forms.Form):
    residence = forms.ChoiceField(label="入驻方式", choices=Residence.choices, widget=forms.RadioSelect)
    desk_label = forms.CharField(label="工位/房间号", max_length=40, required=False, help_text="实体入驻必填。")
    starts_on = forms.DateField(label="入驻日期", required=False, widget=DATE, help_text="不填为今天。")


# ---- base management (ModelViewSet) ------------------------------------------------------------


def _weight_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(label=label, min_value=0, max_value=100, decimal_places=1, max_digits=4)


class IncubationBaseForm(WagtailAdminModelForm):
    """A base's profile and its editable rules. The services offered are checkboxes and the
    five assessment weights five number fields, stored in the model's JSON fields."""

    services = forms.MultipleChoiceField(
        label="提供的服务", choices=BaseService.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    weight_governance = _weight_field(ASSESSMENT_DIMENSIONS["governance"])
    weight_finance = _weight_field(ASSESSMENT_DIMENSIONS["finance"])
    weight_projects = _weight_field(ASSESSMENT_DIMENSIONS["projects"])
    weight_team = _weight_field(ASSESSMENT_DIMENSIONS["team"])
    weight_resources = _weight_field(ASSESSMENT_DIMENSIONS["resources"])

    class Meta(WagtailAdminModelForm.Meta):  # keeps Wagtail's widgets (the image chooser)
        model = IncubationBase
        fields = [
            "name",
            "level",
            "region",
            "parent",
            "address",
            "operator_org",
            "operator_unit",
            "contact_name",
            "contact_phone",
            "opening_hours",
            "desks",
            "virtual_places",
            "services",
            "introduction",
            "photo",
            "screening_days",
            "period_months",
            "handback_days",
            "graduation_min_score",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_text_fields(self)
        for key, value in (self.instance.assessment_weights or {}).items():
            self.initial.setdefault(f"weight_{key}", value)
        user = self.for_user
        if "region" in self.fields:
            if user is not None and not user.is_superuser:
                self.fields["region"].queryset = regions_for(user)
            self.fields["region"].error_messages |= {
                "required": "请选择基地所在区域。",
                "invalid_choice": "所选区域不在您的管辖范围内，请从列表中选择您所辖的区域。",
            }
        if "parent" in self.fields:
            parents = IncubationBase.objects.filter(self._parent_choices(user)).exclude(pk=self.instance.pk)
            self.fields["parent"].queryset = parents.order_by("level", "name")
        if "operator_org" in self.fields:
            choices = Organisation.objects.filter(self._operator_choices(user))
            self.fields["operator_org"].queryset = choices.order_by("name")
            self.fields["operator_org"].help_text = "只列出您辖区内已通过登记审核的社会组织。"

    def _parent_choices(self, user) -> Q:
        """Bases that can be the parent of a base in the user's scope: those in the scope and
        those above it (the city base for a district); never another district's. The saved
        parent stays a choice."""
        in_scope = scope_q(user) if user is not None else Q(pk__in=[])
        if in_scope is None:
            return Q()
        own = user_scope_region(user)
        step = Region.steplen
        above = [own.path[: i * step] for i in range(1, own.depth)] if own is not None else []
        allowed = in_scope | Q(region__path__in=above)
        if self.instance.parent_id:
            allowed |= Q(pk=self.instance.parent_id)
        return allowed

    def _operator_choices(self, user) -> Q:
        """Verified organisations in the user's scope (another district's drafts are not
        theirs to see), plus the one already saved, so saving unchanged loses nothing."""
        allowed = PUBLIC_Q
        in_scope = scope_q(user) if user is not None else Q(pk__in=[])
        if in_scope is not None:
            allowed &= in_scope
        if self.instance.operator_org_id:
            allowed |= Q(pk=self.instance.operator_org_id)
        return allowed

    def clean(self):
        data = super().clean()
        if "region" not in data:
            # no valid region (empty or outside the scope: its field says so): the parent
            # cannot be checked against it, and the model's check would fail on it
            data.pop("parent", None)
        weights = {k: data.get(f"weight_{k}") for k in ASSESSMENT_DIMENSIONS}
        if None not in weights.values():
            total = sum(weights.values())
            if total != 100:
                self.add_error("weight_governance", f"五个维度的权重合计须为100，现在是 {total:g}。")
            else:
                # set only when valid: the model's clean() checks the weights again
                self.instance.assessment_weights = {k: int(v) if v == int(v) else float(v) for k, v in weights.items()}
        return data
