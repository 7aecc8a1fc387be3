"""The evaluator's forms (grants/staff/evaluations.py) and the closure and clawback forms
of the proposal page's actions.

`EvaluationForm` is the reviewer's `ScoreForm` (grants/forms/scoring.py) on the call's
evaluation rubric: one number per criterion with its guidance, the total as typed, the
service's errors back on the fields; without the per-criterion comments, and with the
bonus and deduction, the evaluation's evidence and what a failure needs (the deadline of
the rectification, or the eligible spending and a serious breach when the project would
be terminated). Every value goes to grants.services.evaluations as typed; the service
checks and rounds."""

import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone

from core.forms import DateInput

from ..models import EvaluationKind
from .scoring import ScoreForm, _comment_name, _points_name

EXTRA_ATTRS = {"min": "0", "max": "10", "step": "0.1", "inputmode": "decimal", "class": "gy-score-input"}


class EvaluationForm(ScoreForm):
    bonus = forms.CharField(
        label="加分（0–10）",
        required=False,
        max_length=20,
        widget=forms.NumberInput(attrs={**EXTRA_ATTRS, "data-bonus": ""}),
        help_text="如获得媒体报道、创新做法被推广等。",
    )
    deduction = forms.CharField(
        label="扣分（0–10）",
        required=False,
        max_length=20,
        widget=forms.NumberInput(attrs={**EXTRA_ATTRS, "data-deduction": ""}),
        help_text="如未按时报送进度报告、活动与计划不符等。",
    )
    evidence = forms.CharField(
        label="评估依据",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 5000}),
        help_text="引用的进度报告、现场查看、票据抽查等。",
        error_messages={"max_length": "评估依据最多5000字。"},
    )

    def __init__(self, rubric, *args, evaluation=None, **kwargs):
        if evaluation is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(rubric, evaluation)
        super().__init__(rubric, *args, **kwargs)
        for c in rubric:
            self.fields.pop(_comment_name(c["key"]))
        comment = self.fields.pop("comment")
        comment.label = "评估意见"
        comment.help_text = "必填。申报单位将看到评估意见。"
        comment.error_messages["max_length"] = "评估意见最多5000字。"
        self.evaluation = evaluation
        # the order on the screen: criteria, bonus, deduction, comment, evidence, the rest
        for name in ("bonus", "deduction"):
            self.fields[name] = self.fields.pop(name)
        self.fields["comment"] = comment
        self.fields["evidence"] = self.fields.pop("evidence")
        kind = getattr(evaluation, "kind", None)
        attempt = getattr(evaluation, "attempt", 1)
        if kind == EvaluationKind.MID_TERM and attempt == 1:
            self.fields["rectify_until"] = forms.DateField(
                label="整改期限（如不合格）",
                required=False,
                widget=DateInput,
                initial=timezone.localdate() + datetime.timedelta(days=30),
                help_text="评估不合格时项目暂停拨付，申报单位须在此日期前完成整改；默认30天。",
                error_messages={"invalid": "请填写有效的日期。"},
            )
        elif kind == EvaluationKind.MID_TERM:
            self.fields["eligible_spending"] = forms.CharField(
                label="认定的合规支出（元，如不合格）",
                required=False,
                max_length=20,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                help_text="复评不合格时项目终止，追回已拨付资金减去合规支出的部分；不填则按进度报告中的支出计算。",
            )
            self.fields["serious_breach"] = forms.BooleanField(
                label="存在严重违约（挪用资金、弄虚作假等）",
                required=False,
                help_text="勾选且复评不合格的，该组织三年内不得申报本平台公益创投项目。",
            )
            self.fields["reason"] = forms.CharField(
                label="终止理由（如不合格）",
                required=False,
                max_length=300,
                widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
                error_messages={"max_length": "终止理由最多300字。"},
            )

    @staticmethod
    def initial_from(rubric, evaluation) -> dict:
        initial = {
            "comment": evaluation.comment,
            "evidence": evaluation.evidence,
            "bonus": _plain(evaluation.bonus),
            "deduction": _plain(evaluation.deduction),
        }
        for c in rubric:
            initial[_points_name(c["key"])] = (evaluation.points or {}).get(c["key"], "")
        return initial

    def criteria(self) -> list[dict]:
        return [
            {
                "c": c,
                "weight": f"{Decimal(str(c['weight'])).normalize():f}",
                "points": self[_points_name(c["key"])],
            }
            for c in self.rubric
        ]

    def outcome_fields(self):
        return [
            self[name]
            for name in ("rectify_until", "eligible_spending", "serious_breach", "reason")
            if name in self.fields
        ]

    def _extra(self, name) -> Decimal:
        try:
            value = Decimal(str(self._value(name) or "").strip() or "0")
        except InvalidOperation:
            return Decimal(0)
        return value if value.is_finite() and 0 <= value <= 10 else Decimal(0)

    def points_total(self) -> Decimal:
        """The criteria as typed (what the page's script keeps up to date)."""
        return super().total()

    def total(self) -> Decimal:
        """Criteria + bonus − deduction as typed, kept within 0..100 (without JavaScript)."""
        value = super().total() + self._extra("bonus") - self._extra("deduction")
        return min(max(value, Decimal(0)), Decimal(100)).quantize(Decimal("0.1"))

    def score_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "points": {c["key"]: (data.get(_points_name(c["key"])) or "").strip() for c in self.rubric},
            "bonus": (data.get("bonus") or "").strip(),
            "deduction": (data.get("deduction") or "").strip(),
            "comment": data.get("comment") or "",
            "evidence": data.get("evidence") or "",
        }

    def service_kwargs(self) -> dict:
        """What evaluation_submit takes (evaluation_save takes `score_kwargs()`)."""
        data = self.cleaned_data
        kwargs = self.score_kwargs()
        for name in ("rectify_until", "eligible_spending", "serious_breach", "reason"):
            if name in self.fields:
                kwargs[name] = data.get(name)
        return kwargs


def _plain(value) -> str:
    if value in (None, ""):
        return ""
    value = Decimal(value)
    return "" if value == 0 else f"{value.normalize():f}"


class ClosureForm(forms.Form):
    returned_amount = forms.CharField(
        label="结余退回金额（元）",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="已退回的未使用资金；没有结余的填0。",
        error_messages={"required": "请填写结余退回金额，没有结余的填0。"},
    )


class ClawbackForm(forms.Form):
    amount = forms.CharField(
        label="追回金额（元）",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"required": "请填写本次追回的金额。"},
    )
    paid_on = forms.DateField(
        label="到账日期",
        widget=DateInput,
        error_messages={"required": "请填写到账日期。", "invalid": "请填写有效的日期。"},
    )
