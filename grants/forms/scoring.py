"""The reviewer's forms on the scoring screen (grants/staff/reviews.py): the declaration
of a conflict of interest, and the scores of one round's rubric.

The score form only carries what was typed: every value goes to
grants.services.review (`save_draft`, `submit_scores`), which checks each criterion
against its weight and the comments; its errors come back onto these fields, so what was
typed is shown again beside the message."""

from decimal import Decimal, InvalidOperation

from django import forms

from ..models import ConflictKind

NOTE_NEEDED = "选择“其他利害关系”时，请说明与申报组织的关系。"


class DeclareConflictForm(forms.Form):
    kind = forms.ChoiceField(
        label="利益冲突类型",
        choices=[("", "请选择")] + list(ConflictKind.choices),
        error_messages={"required": "请选择利益冲突的类型。", "invalid_choice": "请选择列出的利益冲突类型。"},
    )
    note = forms.CharField(
        label="说明",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
        help_text="简要说明与申报组织的关系，仅业务主管和评审监督可见。",
        error_messages={"max_length": "说明最多300字。"},
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == ConflictKind.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", NOTE_NEEDED)
        return data


def _points_name(key: str) -> str:
    return f"points_{key}"


def _comment_name(key: str) -> str:
    return f"comment_{key}"


class ScoreForm(forms.Form):
    """One number and one optional comment per criterion of `rubric`, and the overall
    comment. Initial values come from a saved draft (`assignment`)."""

    comment = forms.CharField(
        label="总体评语",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
        help_text="必填，除非每一项评审标准都写了评语。申报单位未获资助时将看到匿名的评审意见。",
        error_messages={"max_length": "总体评语最多5000字。"},
    )

    def __init__(self, rubric: list[dict], *args, assignment=None, **kwargs):
        if assignment is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(rubric, assignment)
        super().__init__(*args, **kwargs)
        self.rubric = rubric
        comment = self.fields.pop("comment")
        for c in rubric:
            weight = Decimal(str(c["weight"]))
            self.fields[_points_name(c["key"])] = forms.CharField(
                label=f"{c['name']}（满分 {weight.normalize():f}）",
                required=False,
                max_length=20,
                widget=forms.NumberInput(
                    attrs={
                        "min": "0",
                        "max": f"{weight.normalize():f}",
                        "step": "0.1",
                        "inputmode": "decimal",
                        "data-score": "",
                        "class": "gy-score-input",
                    }
                ),
                help_text=c.get("guidance", ""),
            )
            self.fields[_comment_name(c["key"])] = forms.CharField(
                label=f"{c['name']}评语（选填）",
                required=False,
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000}),
                error_messages={"max_length": "每项评语最多1000字。"},
            )
        self.fields["comment"] = comment

    @staticmethod
    def initial_from(rubric, assignment) -> dict:
        initial = {"comment": assignment.comment}
        for c in rubric:
            initial[_points_name(c["key"])] = (assignment.points or {}).get(c["key"], "")
            initial[_comment_name(c["key"])] = (assignment.comments or {}).get(c["key"], "")
        return initial

    def criteria(self) -> list[dict]:
        """Each criterion with its two bound fields, in rubric order."""
        return [
            {
                "c": c,
                "weight": f"{Decimal(str(c['weight'])).normalize():f}",
                "points": self[_points_name(c["key"])],
                "comment": self[_comment_name(c["key"])],
            }
            for c in self.rubric
        ]

    def _value(self, name):
        if self.is_bound:
            return self.data.get(name, "")
        return self.initial.get(name, "")

    def total(self) -> Decimal:
        """What the numbers typed add up to (those in range), shown without JavaScript."""
        total = Decimal(0)
        for c in self.rubric:
            try:
                value = Decimal(str(self._value(_points_name(c["key"])) or "").strip())
            except InvalidOperation:
                continue
            if value.is_finite() and 0 <= value <= Decimal(str(c["weight"])):
                total += value
        return total.quantize(Decimal("0.1"))

    def max_total(self) -> str:
        return f"{sum((Decimal(str(c['weight'])) for c in self.rubric), Decimal(0)).normalize():f}"

    def service_kwargs(self) -> dict:
        """points, comments and comment as grants.services.review takes them (raw text:
        the service checks and rounds)."""
        data = self.cleaned_data
        return {
            "points": {c["key"]: (data.get(_points_name(c["key"])) or "").strip() for c in self.rubric},
            "comments": {c["key"]: data.get(_comment_name(c["key"])) or "" for c in self.rubric},
            "comment": data.get("comment") or "",
        }

    def apply_service_errors(self, exc) -> None:
        """The service's ValidationError (keyed by criterion key or "comment") onto the fields."""
        keys = {c["key"] for c in self.rubric}
        for key, messages in exc.message_dict.items():
            if key in keys:
                self.add_error(_points_name(key), messages)
            elif key in self.fields:
                self.add_error(key, messages)
            else:
                self.add_error(None, messages)
