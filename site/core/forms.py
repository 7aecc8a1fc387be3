"""Form pieces every app uses the same way.

Date inputs: a browser's `<input type="date">` only understands `YYYY-MM-DD` (and
`datetime-local` only `YYYY-MM-DDTHH:MM`). Django renders a date in the first of the
locale's DATE_INPUT_FORMATS, which for zh-hans is `2019/08/05`: the browser shows the
field blank and saving the form erases the date. These widgets always write the ISO form.

Text limits: a TextField has no length limit of its own, so every form that takes user
text says how much it takes (`TEXT_MAX_LENGTH`, with a Chinese message)."""

from django import forms
from django.core.validators import MaxLengthValidator
from django.db import models
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.safestring import mark_safe

from .admin_tables import esc as _esc

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

# The longest free text (简介, 计划, 记录 ...) any form accepts: several pages of Chinese.
TEXT_MAX_LENGTH = 2000


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format=format or DATE_FORMAT)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format=format or DATETIME_FORMAT)


class TextLengthValidator(MaxLengthValidator):
    """MaxLengthValidator with a message that says how long the text is now."""

    message = "内容不能超过 %(limit_value)d 个字（现在是 %(show_value)d 个字），请精简后再保存。"


def text_limit(max_length: int = TEXT_MAX_LENGTH) -> TextLengthValidator:
    return TextLengthValidator(max_length)


def date_widgets(form) -> None:
    """Give a form's date and datetime fields the ISO widgets (for ModelForms whose widgets
    come from the model fields)."""
    for field in form.fields.values():
        if isinstance(field, forms.DateTimeField) and not isinstance(field.widget, forms.HiddenInput):
            field.widget = DateTimeInput(attrs=field.widget.attrs)
        elif isinstance(field, forms.DateField) and not isinstance(field.widget, forms.HiddenInput):
            field.widget = DateInput(attrs=field.widget.attrs)


def limit_text_fields(form, max_length: int = TEXT_MAX_LENGTH) -> None:
    """Cap every field of a ModelForm that edits a TextField at `max_length` characters
    (model fields that already carry a limit keep theirs)."""
    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is None:
        return
    for name, field in form.fields.items():
        try:
            model_field = model._meta.get_field(name)
        except Exception:  # a form-only field
            continue
        if not isinstance(model_field, models.TextField) or not isinstance(field, forms.CharField):
            continue
        limit = min(
            [v.limit_value for v in model_field.validators if isinstance(v, MaxLengthValidator)] or [max_length]
        )
        if field.max_length is None or field.max_length > limit:
            field.max_length = limit
            field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
            field.validators.append(text_limit(limit))
            field.widget.attrs["maxlength"] = str(limit)


# ---- choices rendered in Python --------------------------------------------------------------------


def _chosen(value) -> set[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return {"" if v is None else str(v) for v in values}


class FixedChoices(BaseChoiceIterator):
    """A choice list made once and shared by many forms (a public list's filters, kept
    under the content stamp): its values as strings and its options already escaped, so
    that giving it to a field (`field.choices = fixed`) and rendering it (`Select`) cost
    no normalising and no escaping per request. Immutable: copies are itself."""

    def __init__(self, choices):
        self.pairs = tuple(("" if v is None else str(v), str(label)) for v, label in choices)
        self.options = tuple((v, f'<option value="{_esc(v)}"', f">{_esc(label)}</option>") for v, label in self.pairs)

    def __iter__(self):
        return iter(self.pairs)

    def __len__(self):
        return len(self.pairs)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


class Select(forms.Select):
    """Django's Select, rendered in Python (the region list has a hundred options, the
    call list hundreds): one escaped string per option, no template, no format_html."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        chosen = _chosen(value)
        fixed = self.choices if isinstance(self.choices, FixedChoices) else FixedChoices(self.choices)
        options = [f"{start}{' selected' if v in chosen else ''}{end}" for v, start, end in fixed.options]
        return mark_safe(f'<select name="{_esc(name)}"{flatatt(attrs)}>{"".join(options)}</select>')


class RadioSelect(forms.RadioSelect):
    """Django's RadioSelect, rendered in Python."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        base_id = _esc(attrs.get("id", f"id_{name}"))
        chosen, name = _chosen(value), _esc(name)
        items = []
        for i, (option, label) in enumerate(self.choices):
            option = "" if option is None else str(option)
            checked = " checked" if option in chosen else ""
            items.append(
                f'<div><label for="{base_id}_{i}"><input type="radio" name="{name}" value="{_esc(option)}"'
                f' id="{base_id}_{i}"{checked}> {_esc(label)}</label></div>'
            )
        return mark_safe(f'<div id="{base_id}">{"".join(items)}</div>')
