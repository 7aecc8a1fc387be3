"""Forms of 需求征集: the public submission (no account needed; every place a choice a phone
can make without scripts), the public list's filters, and the moderation actions the
need's state machine names (Need.accept → AcceptNeedForm, Need.merge → MergeNeedForm).

The action forms get the need (and the moderator) through `initial`: the staff page
passes them (grants.staff.needs), so the choices are the calls and needs that fit."""

from django import forms
from django.db.models import Q

from accounts.models import Region
from accounts.validators import normalise_mobile, validate_mobile
from core.forms import limit_text_fields
from orgs.models import ServiceArea

from ..models import Call, Need, NeedStatus, SubmitterKind
from ..selectors.needs import (
    calls_for_tagging,
    community_choices,
    merge_targets,
    needs_for_staff,
    region_heads,
    street_choices,
)

REQUIRED = {
    "region": "请选择需求所在的社区（村）。",
    "title": "请用一句话写下需求，例如“独居老人午餐没人做”。",
    "affected": "请填写受影响的人群。",
    "people_count": "请填写大约涉及多少人。",
    "description": "请写一写具体需要什么、现在有什么困难。",
    "submitter_kind": "请选择您的身份。",
    "submitter_name": "请填写您的称呼（可以只写姓氏）。",
    "phone": "请留下手机号码，方便工作人员核实（不会公开）。",
}
TOO_LONG = "不能超过 %(limit_value)d 个字（现在是 %(show_value)d 个字），请精简后再提交。"


class NeedForm(forms.ModelForm):
    """提交社区需求. The phone is taken in any common spelling (+86, spaces, dashes) and
    kept as 11 digits; the community is chosen from groups by street."""

    region = forms.ModelChoiceField(
        label="所在社区（村）", queryset=Region.objects.filter(level=Region.Level.COMMUNITY)
    )
    phone = forms.CharField(
        label="联系电话（不公开）",
        max_length=20,
        help_text="仅工作人员核实需求时使用，不会在网站上显示。",
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )

    class Meta:
        model = Need
        fields = [
            "region",
            "place",
            "title",
            "affected",
            "people_count",
            "description",
            "submitter_kind",
            "submitter_name",
            "phone",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "people_count": forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
            "submitter_kind": forms.RadioSelect,
        }
        labels = {"title": "需求（一句话）", "submitter_name": "您的称呼（可只写姓氏）"}
        help_texts = {
            "title": "例如：小区独居老人午餐没人做。",
            "description": "需要什么、现在有什么困难、持续多久了。请不要写他人的姓名、电话或门牌号。",
            "submitter_name": "网站上只显示姓氏（如“张*”）；居委会、社会组织显示名称。",
        }

    def __init__(self, *args, call: Call | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        within = call.region if call is not None else None
        region = self.fields["region"]
        if within is not None:
            region.queryset = region.queryset.filter(path__startswith=within.path)
        region.choices = community_choices(within)
        self.fields["submitter_kind"].choices = SubmitterKind.choices
        limit_text_fields(self)
        for name, message in REQUIRED.items():
            self.fields[name].error_messages["required"] = message
        for name in ("place", "title", "affected", "description", "submitter_name"):
            self.fields[name].error_messages["max_length"] = TOO_LONG
        self.fields["people_count"].error_messages["invalid"] = "涉及人数请填写数字，例如 30。"

    def clean_phone(self):
        phone = normalise_mobile(self.cleaned_data["phone"])
        validate_mobile(phone)
        return phone

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


# ---- the public list's filters (GET) -------------------------------------------------------------


def _place_filter(label: str) -> forms.TypedChoiceField:
    # the label is the select's accessible name: the filter row shows no labels
    return forms.TypedChoiceField(
        label=label, required=False, coerce=int, empty_value=None, widget=forms.Select(attrs={"aria-label": label})
    )


class PublicNeedFilter(forms.Form):
    q = forms.CharField(
        label="搜索",
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": "需求关键词", "aria-label": "搜索需求"}),
    )
    street = _place_filter("街道（镇）")
    community = _place_filter("社区（村）")
    category = forms.ModelChoiceField(
        label="服务领域",
        required=False,
        empty_label="全部领域",
        queryset=ServiceArea.objects.all(),
        widget=forms.Select(attrs={"aria-label": "服务领域"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        heads = region_heads()
        self.fields["street"].choices = street_choices(heads=heads)
        self.fields["community"].choices = community_choices(empty="全部社区（村）", heads=heads)

    def filter(self, qs):
        if not self.is_valid():
            return qs
        d = self.cleaned_data
        if d["q"]:
            qs = qs.filter(Q(title__icontains=d["q"]) | Q(description__icontains=d["q"]))
        place = d["community"] or d["street"]
        if place:
            region = Region.objects.filter(pk=place).only("path").first()
            qs = qs.filter(region__path__startswith=region.path) if region else qs.none()
        if d["category"]:
            qs = qs.filter(category=d["category"])
        return qs


# ---- moderation (core.admin_actions builds these from Need's transitions) -------------------------


def _context(initial) -> tuple[dict, Need | None, object]:
    initial = dict(initial or {})
    return initial, initial.pop("need", None), initial.pop("user", None)


NO_CALL = "暂不归入征集（只标注服务领域）"


class AcceptNeedForm(forms.Form):
    """采纳并公开: the service area (one of the call's when a call is chosen) and the call."""

    call = forms.ModelChoiceField(
        label="回应的征集",
        required=False,
        queryset=Call.objects.none(),
        blank=True,
        empty_label=NO_CALL,
        widget=forms.RadioSelect,
        help_text="只列出尚未截止申报、区域包含该社区的征集。",
    )
    category = forms.ModelChoiceField(
        label="服务领域",
        queryset=ServiceArea.objects.all(),
        empty_label="请选择服务领域",
        error_messages={"required": "请选择服务领域。"},
    )
    reason = forms.CharField(
        label="处理说明（可不填）", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data=None, *, initial=None, **kwargs):
        initial, need, user = _context(initial)
        if need is not None:
            initial.setdefault("call", need.call_id)
            initial.setdefault("category", need.category_id)
        super().__init__(data, initial=initial, **kwargs)
        if need is not None:
            calls = list(calls_for_tagging(need, user))
            self.fields["call"].queryset = Call.objects.filter(pk__in=[c.pk for c in calls])
            self.fields["call"].choices = [
                ("", NO_CALL),
                *((c.pk, str(c)) for c in calls),
            ]
            self.fields["category"].help_text = _categories_help(calls)
            if len(calls) == 1 and not initial.get("call"):
                self.initial["call"] = calls[0].pk

    def clean(self):
        data = super().clean()
        call, category = data.get("call"), data.get("category")
        if call and category and not call.categories.filter(pk=category.pk).exists():
            self.add_error("category", f"服务领域“{category.name}”不在“{call}”的服务领域内，请另选。")
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"call": d.get("call"), "category": d.get("category"), "reason": d.get("reason", "")}


MERGE_CHOICES = 20


class MergeNeedForm(forms.Form):
    """合并到已有需求: an accepted need of the same street, the likely duplicates first."""

    into = forms.ModelChoiceField(
        label="合并到",
        queryset=Need.objects.none(),
        widget=forms.RadioSelect,
        error_messages={"required": "请选择要合并到的已采纳需求。"},
    )

    def __init__(self, data=None, *, initial=None, **kwargs):
        initial, need, user = _context(initial)
        super().__init__(data, initial=initial, **kwargs)
        if need is None:
            return
        accepted = Need.objects.filter(status=NeedStatus.ACCEPTED)
        self.fields["into"].queryset = needs_for_staff(user).filter(status=NeedStatus.ACCEPTED) if user else accepted
        targets = merge_targets(need, user)[:MERGE_CHOICES] if user else []
        self.fields["into"].choices = [(n.pk, _target_label(n)) for n in targets]
        if targets:
            self.fields["into"].help_text = f"同一街道（镇）已采纳的需求，最相近的在前（最多{MERGE_CHOICES}条）。"
        elif user is not None:
            self.fields["into"].help_text = "同一街道（镇）还没有已采纳的需求；若不重复，请直接采纳。"

    def service_kwargs(self) -> dict:
        return {"into": self.cleaned_data["into"]}


def _categories_help(calls) -> str:
    """Each call's service areas, said once when the calls share them."""
    sets = {c.pk: [a.name for a in c.categories.all()] for c in calls}
    if not sets:
        return ""
    if len({tuple(v) for v in sets.values()}) == 1:
        return f"归入征集时须为征集的服务领域之一：{'、'.join(next(iter(sets.values())))}。"
    return "；".join(f"{c}：{'、'.join(sets[c.pk])}" for c in calls)


def _target_label(n: Need) -> str:
    hint = f"，疑似重复{n.similarity}%" if n.similarity >= 50 else ""
    return f"{n.title}（{n.region.name}，同类{n.supporters}条{hint}）"
