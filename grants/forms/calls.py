"""The staff form of a call (项目征集) in the Wagtail admin.

The rubrics, the tranche plan and the grade bands are tables the user fills row by row (`RowsField`: one
input per cell, a 删除 box per row, a blank row to add one, the weights' sum shown and
kept up to date as they type by grants/static/grants/call_rows.js), stored as the model's
lists of dicts. Region, base and next-round choices are the user's own scope; the fields
the call's stage has locked (grants.services.calls.locked_fields) are shown disabled
with the reason."""

import datetime
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django import forms
from django.db.models import Q
from django.utils import timezone
from wagtail.admin.forms import WagtailAdminModelForm

from accounts.models import Region
from accounts.selectors import regions_for, scope, scope_q, user_scope_region
from core.forms import DateInput, limit_text_fields
from orgs.models import OrgType, ServiceArea

from ..models import Call, CallLevel
from ..models.calls import (
    DEFAULT_CATEGORY_CODES,
    TRANCHE_GATES,
    default_eligible_types,
    default_evaluation_rubric,
    default_grade_bands,
    default_pitch_rubric,
    default_rubric,
    default_tranches,
    placeholder_help,
)
from ..services.calls import EDITABLE_FIELDS, locked_fields

DATE_FIELDS = [f.name for f in Call._meta.fields if f.get_internal_type() == "DateField"]


# ---- a table of rows -----------------------------------------------------------------------------


class RowsWidget(forms.Widget):
    """A table with one input per cell. Posts `<name>-<i>-<column>`, `<name>-<i>-DELETE`
    and `<name>-ROWS` (how many rows were shown); renders `value`, a list of dicts."""

    template_name = "grants/widgets/rows.html"
    extra_rows = 1

    def __init__(self, columns, *, sum_column=None, sum_target=100, attrs=None):
        super().__init__(attrs)
        self.columns = columns  # [{"name", "label", "kind": text|number|textarea|select|hidden, "choices"}]
        self.sum_column = sum_column
        self.sum_target = sum_target

    class Media:
        js = ["grants/call_rows.js"]

    def value_from_datadict(self, data, files, name):
        try:
            count = min(int(data.get(f"{name}-ROWS", 0)), 100)
        except (TypeError, ValueError):
            count = 0
        rows = []
        for i in range(count):
            row = {c["name"]: (data.get(f"{name}-{i}-{c['name']}") or "").strip() for c in self.columns}
            if data.get(f"{name}-{i}-DELETE"):
                continue
            if not any(v for k, v in row.items() if k != "key"):
                continue  # a blank row: nothing was added there
            rows.append(row)
        return rows

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-ROWS" not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = [dict(r) for r in (value or []) if isinstance(r, dict)]
        blank = {c["name"]: "" for c in self.columns}
        shown = rows + [dict(blank) for _ in range(self.extra_rows)]
        total = Decimal(0)
        for r in rows if self.sum_column else []:
            try:
                total += Decimal(str(r.get(self.sum_column) or 0))
            except InvalidOperation:
                continue  # shown as typed; the field's error says what is wrong
        context["widget"].update(
            {
                "columns": self.columns,
                "rows": [
                    {"index": i, "cells": [{**c, "value": _shown(r.get(c["name"], ""))} for c in self.columns]}
                    for i, r in enumerate(shown)
                ],
                "template_cells": [{**c, "value": ""} for c in self.columns],
                "count": len(shown),
                "sum_column": self.sum_column,
                "sum": f"{total.normalize():f}" if self.sum_column else "",
                "sum_target": self.sum_target,
                "sum_ok": total == self.sum_target,
                "disabled": bool(attrs and attrs.get("disabled")) or self.attrs.get("disabled"),
            }
        )
        return context


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(text: str):
    """A weight or percentage as JSON keeps it: an int when whole, else a float of at most
    two decimals (never money)."""
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    value = value.quantize(Decimal("0.01"))
    return int(value) if value == value.to_integral_value() else float(value)


class RowsField(forms.Field):
    """A list of dicts edited as a table; subclasses say what each row holds."""

    columns: list[dict] = []
    sum_column = ""
    row_label = "第{n}行"

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", RowsWidget(self.columns, sum_column=self.sum_column or None))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value if isinstance(value, list) else []

    def to_python(self, value):
        return list(value or [])

    def clean_row(self, row: dict, n: int, errors: list) -> dict:
        raise NotImplementedError

    def clean(self, value):
        rows = self.to_python(value)
        if self.disabled:
            return rows
        if not rows and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        errors: list[str] = []
        cleaned = [self.clean_row(r, n, errors) for n, r in enumerate(rows, start=1)]
        if errors:
            raise forms.ValidationError(errors)
        return cleaned

    def has_changed(self, initial, data):
        return (initial or []) != (data or [])


class RubricField(RowsField):
    item_label = "评审指标"
    columns = [
        {"name": "key", "label": "", "kind": "hidden"},
        {"name": "name", "label": "评审指标", "kind": "text", "size": 12},
        {"name": "weight", "label": "分值", "kind": "number", "size": 5},
        {"name": "guidance", "label": "评分要点（给评审专家看）", "kind": "textarea"},
    ]
    sum_column = "weight"

    def clean(self, value):
        rows = super().clean(value)
        used = {r["key"] for r in rows if r.get("key")}
        n = 1
        for r in rows:
            if not r.get("key"):
                while f"c{n}" in used:
                    n += 1
                r["key"] = f"c{n}"
                used.add(r["key"])
        return rows

    def clean_row(self, row, n, errors):
        name, item = row.get("name", ""), self.item_label
        if not name:
            errors.append(f"第{n}行：请填写{item}的名称。")
        elif len(name) > 30:
            errors.append(f"第{n}行：{item}名称不能超过30个字。")
        weight = None
        try:
            weight = _number(row.get("weight", ""))
        except (InvalidOperation, ValueError):
            errors.append(f"第{n}行：“{name or item}”的分值须为数字（如 20）。")
        guidance = row.get("guidance", "")
        if len(guidance) > 500:
            errors.append(f"第{n}行：评分要点不能超过500个字。")
        return {"key": row.get("key", ""), "name": name, "weight": weight, "guidance": guidance}


class EvaluationRubricField(RubricField):
    """The mid-term and final evaluation's criteria: the rubric's table, for evaluators."""

    item_label = "评估指标"
    columns = [
        {"name": "key", "label": "", "kind": "hidden"},
        {"name": "name", "label": "评估指标", "kind": "text", "size": 12},
        {"name": "weight", "label": "分值", "kind": "number", "size": 5},
        {"name": "guidance", "label": "评估要点（给评估人员看）", "kind": "textarea"},
    ]


class GradeBandField(RowsField):
    """The final evaluation's grades, each from a score; their order and the last one's 0
    are checked with the pass score by Call.clean (grants.models.calls.grade_band_problems)."""

    columns = [
        {"name": "grade", "label": "等级", "kind": "text", "size": 8},
        {"name": "min", "label": "起点分数（≥）", "kind": "number", "size": 5},
    ]

    def clean_row(self, row, n, errors):
        grade = row.get("grade", "")
        if not grade:
            errors.append(f"第{n}行：请填写等级名称（如“优秀”）。")
        elif len(grade) > 10:
            errors.append(f"第{n}行：等级名称不能超过10个字。")
        low = None
        try:
            low = _number(row.get("min", ""))
        except (InvalidOperation, ValueError):
            errors.append(f"第{n}行：“{grade or '等级'}”的起点分数须为数字（如 90）。")
        else:
            if not (0 <= low <= 100):
                errors.append(f"第{n}行：“{grade or '等级'}”的起点分数须在0到100之间。")
        return {"grade": grade, "min": low}


class TrancheField(RowsField):
    columns = [
        {"name": "name", "label": "期次", "kind": "text", "size": 8},
        {"name": "percent", "label": "比例（%）", "kind": "number", "size": 5},
        {"name": "gate", "label": "拨付条件", "kind": "select", "choices": [("", "请选择"), *TRANCHE_GATES.items()]},
    ]
    sum_column = "percent"

    def clean_row(self, row, n, errors):
        name = row.get("name", "")
        if not name:
            errors.append(f"第{n}期：请填写期次名称（如“首期”）。")
        percent = None
        try:
            percent = _number(row.get("percent", ""))
        except (InvalidOperation, ValueError):
            errors.append(f"第{n}期：拨付比例须为数字（如 50）。")
        gate = row.get("gate", "")
        if gate not in TRANCHE_GATES:
            errors.append(f"第{n}期：请选择拨付条件。")
        return {"name": name, "percent": percent, "gate": gate}


# ---- the call form -------------------------------------------------------------------------------


def default_timeline(today: datetime.date) -> dict:
    """A new call's suggested dates from `today`: needs in a week for three weeks, a month
    of applications, ten days of eligibility checks, two weeks of review, a week's 公示,
    and a year's implementation from the first of the month after the 公示 closes."""
    d = datetime.timedelta
    publicity_until = today + d(days=89)
    after = publicity_until + d(days=1)
    implement_from = after if after.day == 1 else after.replace(day=1) + relativedelta(months=1)
    return {
        "needs_from": today + d(days=7),
        "needs_until": today + d(days=27),
        "apply_from": today + d(days=28),
        "apply_until": today + d(days=57),
        "eligibility_until": today + d(days=67),
        "review_from": today + d(days=68),
        "review_until": today + d(days=82),
        "publicity_from": today + d(days=83),
        "publicity_until": publicity_until,
        "implement_from": implement_from,
        "implement_until": implement_from.replace(year=implement_from.year + 1) - d(days=1),
    }


class RegionField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "\u3000" * (obj.depth - 1) + obj.name  # the tree, indented


class CallForm(WagtailAdminModelForm):
    eligible_types = forms.MultipleChoiceField(
        label="可申报的组织类型",
        choices=[c for c in OrgType.choices if c[0] != OrgType.PREPARING],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="社区社会组织（备案）须有挂靠/指导单位；筹备中的组织见下一项。",
    )
    rubric = RubricField(
        label="评审标准", help_text="每行一项评审指标，分值合计须为100。删除一行请勾选该行的“删除”，添加请填写空白行。"
    )
    pitch_rubric = RubricField(
        label="路演评分标准", required=False, help_text="设路演答辩环节时使用，分值合计须为100。"
    )
    tranche_plan = TrancheField(label="拨付计划", help_text="各期比例合计须为100%。")
    evaluation_rubric = EvaluationRubricField(
        label="评估指标", help_text="中期和末期评估按此打分，每行一项，分值合计须为100；加分和扣分项在评估时另行填写。"
    )
    grade_bands = GradeBandField(
        label="末期评估等级",
        help_text="从高到低，每行一个等级及其起点分数（得分不低于该分数即为该等级）；最后一个等级的起点须为0，"
        "评估合格分数须是某个等级的起点。",
    )

    class Meta(WagtailAdminModelForm.Meta):
        model = Call
        fields = [*EDITABLE_FIELDS, "categories"]
        widgets = {
            **{name: DateInput for name in DATE_FIELDS},
            "categories": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 2}),
            "agreement_template": forms.Textarea(attrs={"rows": 20}),
            "report_cadence": forms.RadioSelect,
        }
        help_texts = {
            "agreement_template": "生成每个项目的协议书时使用：占位符在生成时换成该项目的内容，签订前还可逐份修改。"
            "可用的占位符——" + placeholder_help() + "。",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_text_fields(self)
        user = self.for_user
        self.fields["region"] = RegionField(
            label="征集区域",
            queryset=(regions_for(user) if user is not None else Region.objects.all()).order_by("path"),
            help_text="市级征集选市或区，街道（镇）级选街道（镇），社区（村）级选社区（村）。",
            error_messages={
                "required": "请选择征集区域。",
                "invalid_choice": "所选区域不在您的管辖范围内，请从列表中选择您所辖的区域。",
            },
        )
        self.fields["base"].queryset = self._bases(user)
        self.fields["next_round"].queryset = self._upper_calls(user)
        self.fields["categories"].queryset = ServiceArea.objects.order_by("sort_order", "pk")
        self.fields["categories"].error_messages["required"] = "请至少选择一个服务领域。"
        self.fields["rubric"].error_messages["required"] = "请至少设置一项评审标准。"
        self.fields["tranche_plan"].error_messages["required"] = "请至少设置一期拨付。"
        self.fields["evaluation_rubric"].error_messages["required"] = "请至少设置一项评估指标。"
        self.fields["grade_bands"].error_messages["required"] = "请至少设置一个末期评估等级。"
        rows = ("rubric", "pitch_rubric", "tranche_plan", "evaluation_rubric", "grade_bands")
        for name, field in self.fields.items():
            if name not in ("region", "categories", *rows):
                verb = "选择" if isinstance(field, forms.ChoiceField | forms.ModelChoiceField) else "填写"
                field.error_messages["required"] = f"请{verb}{field.label}。"
        for name, why in locked_fields(self.instance).items():
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = why
        if self.instance.pk is None and not self.is_bound:
            self.initial.update(self._new_call_initial(user))

    # ---- choices in scope ----

    def _bases(self, user):
        from incubator.models import IncubationBase

        qs = scope(IncubationBase.objects.all(), user) if user is not None else IncubationBase.objects.all()
        if self.instance.base_id:
            qs = IncubationBase.objects.filter(Q(pk__in=qs.values("pk")) | Q(pk=self.instance.base_id))
        return qs.select_related("region").order_by("level", "name")

    def _upper_calls(self, user):
        """Calls a call of the user's scope may recommend to: in the scope, or run for a
        region above it (the district or city call); the one already chosen stays."""
        allowed = Q()
        in_scope = scope_q(user) if user is not None else None
        if in_scope is not None:
            own = user_scope_region(user)
            step = Region.steplen
            above = [own.path[: i * step] for i in range(1, own.depth)] if own is not None else []
            allowed = in_scope | Q(region__path__in=above)
        if self.instance.next_round_id:
            allowed |= Q(pk=self.instance.next_round_id)
        qs = Call.objects.filter(allowed).exclude(status=Call.Status.FINISHED)
        if self.instance.pk:
            qs = qs.exclude(pk=self.instance.pk)
        return qs.order_by("-year", "level", "title")

    def _new_call_initial(self, user) -> dict:
        """A new call starts from the usual: the user's region and unit, this year, the
        "6+1", and a timeline from today that the user adjusts."""
        today = timezone.localdate()
        region = user_scope_region(user) if user is not None else None
        level = {
            Region.Level.STREET: CallLevel.STREET,
            Region.Level.COMMUNITY: CallLevel.COMMUNITY,
        }.get(getattr(region, "level", None), CallLevel.CITY)
        initial = {
            "year": today.year if today.month < 10 else today.year + 1,
            "level": level,
            "region": region.pk if region else None,
            "organiser": getattr(user, "unit", "") or (f"{region.name}民政部门" if region else ""),
            "categories": list(
                ServiceArea.objects.filter(code__in=DEFAULT_CATEGORY_CODES).values_list("pk", flat=True)
            ),
            **default_timeline(today),
            # the declared fields have no model default of their own
            "eligible_types": default_eligible_types(),
            "rubric": default_rubric(),
            "pitch_rubric": default_pitch_rubric(),
            "tranche_plan": default_tranches(),
            "evaluation_rubric": default_evaluation_rubric(),
            "grade_bands": default_grade_bands(),
        }
        return initial

    # ---- what the service takes ----

    def clean_agreement_template(self):
        # browsers post a textarea's line ends as CRLF: keep the template's own "\n"
        return (self.cleaned_data.get("agreement_template") or "").replace("\r\n", "\n")

    def clean_eligible_types(self):
        chosen = self.cleaned_data["eligible_types"]
        stored = list(self.instance.eligible_types or [])
        return stored if set(chosen) == set(stored) else [t for t, _ in OrgType.choices if t in chosen]

    def service_data(self) -> dict:
        """The cleaned fields for grants.services.calls (locked ones left out)."""
        return {
            name: self.cleaned_data[name]
            for name in EDITABLE_FIELDS
            if name in self.cleaned_data and not self.fields[name].disabled
        }

    def service_categories(self):
        if self.fields["categories"].disabled:
            return None
        return list(self.cleaned_data["categories"])
