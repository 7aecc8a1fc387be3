"""The forms an action screen shows when a transition asks for no form of its own."""

from django import forms


class ConfirmForm(forms.Form):
    """No input: the button is the confirmation."""

    def service_kwargs(self) -> dict:
        return {}


class ReasonForm(forms.Form):
    """One reason. Not `required` here: the service decides when one is needed and says
    so in the words the other side will also read."""

    reason = forms.CharField(label="理由", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, label: str = "", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["reason"].label = label
        if help_text:
            self.fields["reason"].help_text = help_text
