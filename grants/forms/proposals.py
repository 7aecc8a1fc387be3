"""The applicant's proposal page (grants.views.proposals), one form per section.

Each section saves on its own through `grants.services.proposals.proposal_save`: the plain
fields of a section are a ModelForm of `Proposal` (never `.save()`d: the service writes
them under the revision lock), a table (budget, activities, team, KPIs) a formset of row
forms the service replaces wholesale. Nothing the call's rules forbid is refused here: a
form refuses only what cannot be stored (a word where a number goes); the rules are shown
as warnings by `proposal_problems` and enforced at submission.

`SectionEditor(section, proposal, data)` is what a view holds: the bound or unbound forms
of one section, `is_valid()`, `service_kwargs()` for proposal_save and `error_map()` (the
HTML name of each field → its messages) for the page's script."""

import copy
import datetime
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from accounts.models import Region
from core.files import SafeFileField
from core.forms import limit_text_fields
from orgs.models import ServiceArea

from ..models import KPI, Activity, AttachmentKind, BudgetLine, Need, NeedStatus, Proposal, TeamMember
from ..services.proposals import ATTACHMENT_KINDS
from .places import PlacePicker, place_choices, place_tree

# ---- months: <input type="month">, stored as the first day of the month -----------------------------


class MonthInput(forms.TextInput):
    input_type = "month"

    def format_value(self, value):
        if isinstance(value, datetime.date):
            return f"{value.year:04d}-{value.month:02d}"
        return super().format_value(value)  # what was typed, shown again as typed


class MonthField(forms.Field):
    """A year and month ("2026-05"; "2026/5", "2026年5月" and a full date are read too);
    the value is the first day of that month."""

    widget = MonthInput
    default_error_messages = {"invalid": "请按“年-月”填写，例如 2026-05。"}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.date):
            return value.replace(day=1)
        text = str(value).strip().replace("/", "-").replace("年", "-").replace("月", "").rstrip("-")
        for fmt in ("%Y-%m", "%Y-%m-%d"):
            try:
                return datetime.datetime.strptime(text, fmt).date().replace(day=1)
            except ValueError:
                continue
        raise ValidationError(self.error_messages["invalid"], code="invalid")


def _month_bounds(widget, call) -> None:
    if call.implement_from and call.implement_until:
        widget.attrs.update(
            min=f"{call.implement_from:%Y-%m}", max=f"{call.implement_until:%Y-%m}", placeholder="2026-05"
        )


def _friendly_required(form) -> None:
    """“请填写支出项目。” rather than Django's generic sentence."""
    for field in form.fields.values():
        verb = "选择" if isinstance(field, forms.ChoiceField) else "填写"
        field.error_messages["required"] = f"请{verb}{field.label}。"


# ---- the plain fields of a section -------------------------------------------------------------------


class ProposalSectionForm(forms.ModelForm):
    """A section's own fields of a proposal. `proposal` is required; it is the instance."""

    def __init__(self, data=None, *, proposal: Proposal, **kwargs):
        super().__init__(data, instance=proposal, **kwargs)
        self.proposal, self.call = proposal, proposal.call
        limit_text_fields(self)
        for field in self.fields.values():
            field.widget.attrs.setdefault("autocomplete", "off")

    def service_kwargs(self) -> dict:
        fields, extra = {}, {}
        for name in self.Meta.fields:
            value = self.cleaned_data.get(name)
            if name in ("places", "cited_needs"):
                extra[name] = list(value or [])
            else:
                fields[name] = value
        return {"fields": fields, **extra}


class BasicForm(ProposalSectionForm):
    start_month = MonthField(label="开始年月", required=False)
    end_month = MonthField(label="结束年月", required=False)

    class Meta:
        model = Proposal
        fields = [
            "title",
            "category",
            "places",
            "start_month",
            "end_month",
            "beneficiaries_direct",
            "beneficiaries_indirect",
            "summary",
        ]
        widgets = {
            "places": PlacePicker,
            "summary": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"title": "不超过60个字，例如“老宝贝·社区长者助餐陪伴计划”。"}

    def __init__(self, data=None, *, proposal, **kwargs):
        super().__init__(data, proposal=proposal, **kwargs)
        call = self.call
        category = self.fields["category"]
        category.queryset = ServiceArea.objects.filter(
            Q(pk__in=call.categories.values("pk")) | Q(pk=proposal.category_id or 0)
        )
        category.empty_label = "请选择服务领域"
        category.error_messages["invalid_choice"] = "所选服务领域不在本次征集范围内，请重新选择。"
        places = self.fields["places"]
        saved = list(proposal.places.all()) if proposal.pk else []
        places.queryset = Region.objects.filter(Q(path__startswith=call.region.path) | Q(pk__in=[p.pk for p in saved]))
        # the choices are read only when the field is shown (a save that validates never does)
        places.choices = lambda: place_choices(call, saved)
        if call.region.level <= Region.Level.DISTRICT:
            places.widget.tree = lambda: place_tree(call, saved)
        places.help_text = f"可多选：{call.region.name}范围内的街道（镇）或社区（村）。"
        places.error_messages["invalid_choice"] = (
            f"所选的实施地点不在本次征集的区域（{call.region.name}）内，请重新选择。"
        )
        for name in ("start_month", "end_month"):
            _month_bounds(self.fields[name].widget, call)
        if call.implement_from and call.implement_until:
            self.fields["start_month"].help_text = (
                f"须在项目实施期（{call.implement_from.year}年{call.implement_from.month}月至"
                f"{call.implement_until.year}年{call.implement_until.month}月）内。"
            )
        for name in ("beneficiaries_direct", "beneficiaries_indirect"):
            self.fields[name].widget.attrs.update(min="0", inputmode="numeric")
            self.fields[name].error_messages["invalid"] = "请填写人数（整数）。"

    def _get_validation_exclusions(self):
        # the category field has already found the pick among the call's categories: the
        # model's own check that the row exists would be a second query for the same thing
        return {*super()._get_validation_exclusions(), "category"}


def offered_needs(call):
    """The accepted needs an applicant to `call` may cite (grants.selectors.needs)."""
    try:
        from ..selectors.needs import needs_for_citation
    except ImportError:  # pragma: no cover - the needs stage's selector not there yet
        return Need.objects.filter(status=NeedStatus.ACCEPTED).filter(
            Q(call=call) | Q(region__path__startswith=call.region.path)
        )
    return needs_for_citation(call)


class NeedsForm(ProposalSectionForm):
    class Meta:
        model = Proposal
        fields = ["need_analysis", "cited_needs"]
        widgets = {"need_analysis": forms.Textarea(attrs={"rows": 8}), "cited_needs": forms.CheckboxSelectMultiple}
        help_texts = {"need_analysis": "服务对象是谁、有多少人、面临什么问题、依据哪些调研。"}

    def __init__(self, data=None, *, proposal, **kwargs):
        super().__init__(data, proposal=proposal, **kwargs)
        field = self.fields["cited_needs"]
        cited = list(proposal.cited_needs.all()) if proposal.pk else []
        rows = list(offered_needs(self.call).select_related("region"))
        seen = {n.pk for n in rows}
        rows += [n for n in cited if n.pk not in seen]
        field.queryset = Need.objects.filter(pk__in=[n.pk for n in rows])
        field.choices = [(n.pk, f"{n.title}（{n.region.name}，约{n.people_count}人）") for n in rows]
        field.label = "回应的社区需求"
        field.help_text = "勾选本项目回应的、已公开的社区需求（可不选）。"
        self.offered_needs = rows


class ObjectivesForm(ProposalSectionForm):
    class Meta:
        model = Proposal
        fields = ["objectives"]
        widgets = {"objectives": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"objectives": "可衡量的目标：服务多少人、达到什么改变。"}


class ApproachForm(ProposalSectionForm):
    class Meta:
        model = Proposal
        fields = ["approach"]
        widgets = {"approach": forms.Textarea(attrs={"rows": 5})}
        labels = {"approach": "实施方案概述"}


class RisksForm(ProposalSectionForm):
    class Meta:
        model = Proposal
        fields = ["risks"]
        widgets = {"risks": forms.Textarea(attrs={"rows": 5})}
        help_texts = {"risks": "可能遇到的困难，以及准备怎样应对。"}


# ---- the tables: one row form each ---------------------------------------------------------------------


class RowForm(forms.ModelForm):
    """One row of a table. Never saved by itself: `row()` is the dict proposal_save takes."""

    def __init__(self, *args, call=None, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        _friendly_required(self)
        for name, field in self.fields.items():
            if isinstance(field, forms.DecimalField):
                field.widget.attrs.update(inputmode="decimal", step="0.01")
                field.error_messages.update(
                    invalid=f"{field.label}请填写数字。",
                    max_decimal_places=f"{field.label}最多保留两位小数。",
                    max_digits=f"{field.label}的数字太大，请检查。",
                    max_whole_digits=f"{field.label}的数字太大，请检查。",
                )
            field.widget.attrs.setdefault("autocomplete", "off")
            field.widget.attrs["data-col"] = name

    def row(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class BudgetLineForm(RowForm):
    class Meta:
        model = BudgetLine
        fields = ["category", "item", "unit", "quantity", "unit_price", "source", "nature", "note"]
        labels = {"item": "支出项目", "note": "测算说明"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "请选择"), *self.fields["category"].choices[1:]]
        self.fields["quantity"].widget.attrs["min"] = "0"
        self.fields["unit_price"].widget.attrs["min"] = "0"
        self.fields["note"].widget.attrs["placeholder"] = "如：200元/次 × 10次"


class ActivityForm(RowForm):
    month = MonthField(label="实施年月")

    class Meta:
        model = Activity
        fields = ["name", "month", "content", "sessions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.call is not None:
            _month_bounds(self.fields["month"].widget, self.call)
        self.fields["sessions"].widget.attrs.update(min="1", inputmode="numeric")
        self.fields["sessions"].error_messages["invalid"] = "场次请填写整数。"


class TeamMemberForm(RowForm):
    """A member of the organisation (picked: the name comes from the account) or a person
    named here (a social worker or volunteer without an account)."""

    member = forms.TypedChoiceField(label="组织成员", required=False, coerce=int, empty_value=None)

    class Meta:
        model = TeamMember
        fields = ["name", "role", "qualifications"]
        labels = {"name": "姓名（组织外人员）"}

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members = dict(members)
        self.fields["member"].choices = [("", "组织外人员（填写姓名）"), *self.members.items()]
        self.fields["member"].widget.attrs["data-col"] = "member"
        self.fields["name"].required = False
        self.order_fields(["member", "name", "role", "qualifications"])

    def clean(self):
        data = super().clean()
        if not data.get("member") and not (data.get("name") or "").strip():
            self.add_error("name", "请选择组织成员，或填写组织外人员的姓名。")
        return data

    def row(self) -> dict:
        row = super().row()
        row["user"] = self.cleaned_data.get("member")  # a pk: the formset turns it into the user
        return row


class KPIForm(RowForm):
    class Meta:
        model = KPI
        fields = ["indicator", "target", "unit", "method"]
        labels = {"method": "衡量方式"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].widget.attrs["min"] = "0"
        self.fields["indicator"].widget.attrs["placeholder"] = "如：服务老人"
        self.fields["method"].widget.attrs["placeholder"] = "如：签到表、回访记录"


class RowFormSet(forms.BaseFormSet):
    def __init__(self, *args, call=None, members=(), **kwargs):
        self.call, self.members = call, members
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"call": self.call, "members": self.members}

    def kept_forms(self) -> list:
        """The rows to store, in order: neither deleted nor left blank."""
        kept = []
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.empty_permitted and not form.has_changed():
                continue
            kept.append(form)
        return kept

    def rows(self) -> list[dict]:
        return [form.row() for form in self.kept_forms()]


def _formset(form, max_num):
    return forms.formset_factory(
        form, formset=RowFormSet, extra=1, can_delete=True, max_num=max_num, validate_max=True, absolute_max=max_num
    )


BudgetFormSet = _formset(BudgetLineForm, 100)
ActivityFormSet = _formset(ActivityForm, 60)
TeamFormSet = _formset(TeamMemberForm, 40)
KPIFormSet = _formset(KPIForm, 30)


def _initial_rows(proposal, table) -> list[dict]:
    if table == "budget_lines":
        return [
            {k: getattr(r, k) for k in BudgetLineForm.Meta.fields} | {"amount": r.amount}
            for r in proposal.budget_lines.all()
        ]
    if table == "activities":
        return [{k: getattr(r, k) for k in ActivityForm.Meta.fields} for r in proposal.activities.all()]
    if table == "team":
        return [
            {"member": r.user_id, **{k: getattr(r, k) for k in TeamMemberForm.Meta.fields}} for r in proposal.team.all()
        ]
    return [{k: getattr(r, k) for k in KPIForm.Meta.fields} for r in proposal.kpis.all()]


# ---- the sections -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    slug: str
    label: str
    form: type | None = None
    table: str | None = None  # the LINE_TABLES name the section's formset replaces
    formset: type | None = None
    prefix: str = ""
    problems: tuple = ()  # proposal_problems keys shown in this section


SECTIONS = {
    s.slug: s
    for s in [
        Section(
            "basic",
            "基本信息",
            form=BasicForm,
            problems=("title", "category", "places", "start_month", "end_month", "beneficiaries_direct"),
        ),
        Section("needs", "需求分析", form=NeedsForm, problems=("need_analysis", "cited_needs")),
        Section("objectives", "项目目标", form=ObjectivesForm, problems=("objectives",)),
        Section(
            "plan",
            "实施方案",
            form=ApproachForm,
            table="activities",
            formset=ActivityFormSet,
            prefix="activities",
            problems=("approach", "activities"),
        ),
        Section("risks", "风险与应对", form=RisksForm, problems=("risks",)),
        Section("team", "项目团队", table="team", formset=TeamFormSet, prefix="team", problems=("team",)),
        Section("kpis", "绩效指标", table="kpis", formset=KPIFormSet, prefix="kpis", problems=("kpis",)),
        Section(
            "budget",
            "项目预算",
            table="budget_lines",
            formset=BudgetFormSet,
            prefix="budget",
            problems=("budget", "grant_amount", "grant_share", "personnel_share"),
        ),
    ]
}


def team_member_choices(proposal) -> list[tuple[int, str]]:
    """The organisation's members (name from the account), and any user already on the
    team who has since left it. One query."""
    from django.contrib.auth import get_user_model

    from orgs.models import Membership

    rows = Membership.objects.filter(organisation_id=proposal.organisation_id).select_related("user")
    choices = [(m.user_id, f"{m.user}（{m.get_role_display()}）") for m in rows.order_by("pk")]
    known = {pk for pk, _ in choices}
    former = [r.user_id for r in proposal.team.all() if r.user_id and r.user_id not in known]
    for user in get_user_model().objects.filter(pk__in=former):
        choices.append((user.pk, f"{user}（已不是本组织成员）"))
    return choices


class SectionEditor:
    """The forms of one section of one proposal, bound to `data` or showing what is saved."""

    def __init__(self, section: Section, proposal: Proposal, data=None, *, members=None):
        self.section, self.proposal = section, proposal
        self.bound, self.data = data is not None, data
        # a bound form writes what was typed onto its instance: keep the page's proposal as saved
        instance = copy.copy(proposal) if self.bound else proposal
        self.form = section.form(data, proposal=instance) if section.form else None
        self.formset = None
        if section.formset:
            if section.table == "team" and members is None:
                members = team_member_choices(proposal)
            self.members = members or []
            kwargs = {"prefix": section.prefix, "call": proposal.call, "members": self.members}
            if data is None:
                kwargs["initial"] = _initial_rows(proposal, section.table)
            self.formset = section.formset(data, **kwargs)

    def form_revision(self) -> int:
        """The revision the section's form carries: the one it was posted with when bound
        (a page that was behind stays behind until reloaded), else the proposal's."""
        if self.bound:
            try:
                return int(self.data.get("revision", ""))
            except (TypeError, ValueError):
                pass
        return self.proposal.revision

    def is_valid(self) -> bool:
        ok = self.form.is_valid() if self.form else True
        if self.formset is not None:
            ok = self.formset.is_valid() and ok
        return ok

    def service_kwargs(self) -> dict:
        kwargs = self.form.service_kwargs() if self.form else {}
        if self.formset is not None:
            rows = self.formset.rows()
            if self.section.table == "team":
                rows = _with_users(rows)
            kwargs[self.section.table] = rows
        return kwargs

    def error_map(self) -> dict[str, list[str]]:
        """The HTML name of each field in error → its messages; "__all__" for the section."""
        errors: dict[str, list[str]] = {}
        forms_ = ([self.form] if self.form else []) + (list(self.formset.forms) if self.formset is not None else [])
        for form in forms_:
            for name, messages in form.errors.items():
                key = form.add_prefix(name) if form.prefix or name != "__all__" else "__all__"
                errors.setdefault(key, []).extend(messages)
        if self.formset is not None and self.formset.non_form_errors():
            errors.setdefault(f"{self.formset.prefix}-__all__", []).extend(self.formset.non_form_errors())
        return errors


def _with_users(rows: list[dict]) -> list[dict]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk([r["user"] for r in rows if r.get("user")])
    for r in rows:
        user = users.get(r.get("user"))
        r["user"] = user
        if user is not None:
            r["name"] = str(user)[:30]
    return rows


# ---- attachments -------------------------------------------------------------------------------------


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label="材料类型", choices=AttachmentKind.choices, initial=AttachmentKind.OTHER)
    file = SafeFileField(
        label="文件", kinds=ATTACHMENT_KINDS, help_text="PDF、JPG、PNG 或 Excel（.xlsx），每个不超过10 MB。"
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="撤回原因（可不填）", required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
