"""core.forms.Select and FixedChoices: the same markup as Django's own Select (escaped
labels and values, the chosen option selected), a fixed choice list shared by many forms
without being copied, and a form given one still validates and refuses as Django's
ChoiceField does."""

import copy
import re

from django import forms

from core.forms import FixedChoices, Select

PAIRS = [("", "全部区域"), (3, "凤凰街道"), (7, '<b>"古楼"</b> & 西山')]


def options(html: str) -> list[tuple[str, bool, str]]:
    return [
        (value, bool(selected), label)
        for value, selected, label in re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html)
    ]


class RegionForm(forms.Form):
    region = forms.ChoiceField(widget=Select, label="区域", required=False)

    def __init__(self, data, choices):
        super().__init__(data)
        self.fields["region"].choices = choices


def test_a_fixed_list_renders_as_the_plain_list_does_with_the_chosen_option_selected():
    fixed = FixedChoices(PAIRS)
    for value in ("", "3", 7, None, "nothing"):
        plain = Select(choices=PAIRS).render("region", value)
        assert Select(choices=fixed).render("region", value) == plain, value
    html = Select(choices=fixed).render("region", "7")
    assert options(html) == [
        ("", False, "全部区域"),
        ("3", False, "凤凰街道"),
        ("7", True, "&lt;b&gt;&quot;古楼&quot;&lt;/b&gt; &amp; 西山"),
    ]
    assert "<b>" not in html


def test_a_fixed_list_is_shared_not_copied_and_reads_as_pairs_of_strings():
    fixed = FixedChoices(PAIRS)
    assert copy.copy(fixed) is fixed and copy.deepcopy(fixed) is fixed
    assert list(fixed) == [("", "全部区域"), ("3", "凤凰街道"), ("7", '<b>"古楼"</b> & 西山')]
    assert len(fixed) == 3
    form = RegionForm({"region": "3"}, fixed)
    assert form.fields["region"].choices is fixed and form.fields["region"].widget.choices is fixed


def test_a_form_with_a_fixed_list_keeps_a_valid_choice_and_refuses_another():
    fixed = FixedChoices(PAIRS)
    form = RegionForm({"region": "3"}, fixed)
    assert form.is_valid() and form.cleaned_data["region"] == "3"
    assert options(str(form["region"]))[1] == ("3", True, "凤凰街道")  # what was chosen stays chosen

    refused = RegionForm({"region": "99"}, fixed)
    assert not refused.is_valid()
    assert "region" in refused.errors
    assert fixed.pairs == tuple(FixedChoices(PAIRS).pairs)  # nothing a form did changed the shared list
