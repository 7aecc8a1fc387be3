"""Forms of 三级联动: the call manager's recommendation (an action on the proposal's staff
page) and the organisation's answer on /me/proposals/recommendations/."""

from django import forms


class RecommendForm(forms.Form):
    reason = forms.CharField(
        label="推荐理由",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="申报单位和上一级征集的工作人员都会看到。",
        error_messages={
            "required": "请填写推荐理由，申报单位和上级征集都会看到。",
            "max_length": "推荐理由不能超过 500 个字。",
        },
    )

    def service_kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="不参加的原因（可不填）",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "说明不能超过 500 个字。"},
    )
