"""What changed between two submitted versions of a proposal (`ProposalVersion.data`, the
snapshot grants.services.proposals writes at each submission), field by field, in words
staff read: after a return and resubmission they check only what the applicant changed.

    changes = diff_versions(old.data, new.data)
    for section in changes.sections: section.heading, section.fields, section.rows …

Plain fields give old → new; lists (places, cited needs, attachments) what was added and
removed; the tables (budget lines, activities, team, KPIs) rows added, removed and changed,
each changed row with its own old → new values. Table rows carry no identity (a section is
saved as a whole), so a row is matched by what names it: a budget line by its category and
item, an activity by its name, a team member by name, a KPI by its indicator; rows with
the same name pair in order."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from orgs.models import Organisation

from .models import KPI, Activity, BudgetLine, Proposal, TeamMember
from .rules import fmt_money, money

EMPTY = "（空）"


def _label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _month(value) -> str:
    if not value:
        return EMPTY
    day = datetime.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月"


def _yuan(value) -> str:
    return EMPTY if value in (None, "") else f"¥{fmt_money(value)}"


def _number(value) -> str:
    if value in (None, ""):
        return EMPTY
    return f"{money(value).normalize():f}"  # 10.00 → 10, 2.50 → 2.5


def _text(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return EMPTY
    return str(value)


def _choice(model, name: str) -> Callable:
    labels = dict(model._meta.get_field(name).flatchoices)
    return lambda value: labels.get(value, _text(value))


# ---- what is compared, and how each value reads --------------------------------------------------

ORGANISATION_FACTS = [
    ("name", "组织名称"),
    ("uscc", "统一社会信用代码"),
    ("org_type", "组织类型"),
    ("region", "所属区域"),
    ("address", _label(Organisation, "address")),
    ("legal_representative", _label(Organisation, "legal_representative")),
    ("contact_name", _label(Organisation, "contact_name")),
    ("contact_phone", _label(Organisation, "contact_phone")),
    ("bank_name", _label(Organisation, "bank_name")),
    ("bank_account_name", _label(Organisation, "bank_account_name")),
    ("bank_account", _label(Organisation, "bank_account")),
    ("grade", "评估等级"),
]

# (key, label, how the value reads)
PLAIN_FIELDS = [
    ("title", _label(Proposal, "title"), _text),
    ("category", _label(Proposal, "category"), _text),
    ("start_month", _label(Proposal, "start_month"), _month),
    ("end_month", _label(Proposal, "end_month"), _month),
    ("beneficiaries_direct", _label(Proposal, "beneficiaries_direct"), _text),
    ("beneficiaries_indirect", _label(Proposal, "beneficiaries_indirect"), _text),
    ("summary", _label(Proposal, "summary"), _text),
    ("need_analysis", _label(Proposal, "need_analysis"), _text),
    ("objectives", _label(Proposal, "objectives"), _text),
    ("approach", _label(Proposal, "approach"), _text),
    ("risks", _label(Proposal, "risks"), _text),
    ("budget_total", _label(Proposal, "budget_total"), _yuan),
    ("grant_amount", _label(Proposal, "grant_amount"), _yuan),
    ("self_funded", _label(Proposal, "self_funded"), _yuan),
    ("personnel_amount", _label(Proposal, "personnel_amount"), _yuan),
]
LIST_FIELDS = [
    ("places", _label(Proposal, "places")),
    ("cited_needs", _label(Proposal, "cited_needs")),
]


@dataclass(frozen=True)
class Table:
    key: str
    heading: str
    name: Callable[[dict], str]  # what a row is called (and matched by)
    columns: list  # (key, label, how the value reads)


def _columns(model, spec) -> list:
    return [(name, _label(model, name), reader) for name, reader in spec]


TABLES = [
    Table(
        "budget_lines",
        "预算明细",
        lambda r: f"{_choice(BudgetLine, 'category')(r.get('category'))} · {r.get('item') or ''}",
        _columns(
            BudgetLine,
            [
                ("category", _choice(BudgetLine, "category")),
                ("item", _text),
                ("unit", _text),
                ("quantity", _number),
                ("unit_price", _yuan),
                ("source", _choice(BudgetLine, "source")),
                ("nature", _choice(BudgetLine, "nature")),
                ("note", _text),
            ],
        ),
    ),
    Table(
        "activities",
        "活动安排",
        lambda r: r.get("name") or "",
        _columns(Activity, [("name", _text), ("month", _month), ("content", _text), ("sessions", _text)]),
    ),
    Table(
        "team",
        "项目团队",
        lambda r: r.get("name") or "",
        _columns(TeamMember, [("name", _text), ("role", _text), ("qualifications", _text)]),
    ),
    Table(
        "kpis",
        "绩效指标",
        lambda r: r.get("indicator") or "",
        _columns(KPI, [("indicator", _text), ("target", _number), ("unit", _text), ("method", _text)]),
    ),
]


# ---- the result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass
class RowChange:
    kind: str  # "added" | "removed" | "changed"
    name: str
    changes: list[Change] = field(default_factory=list)  # changed: each column that differs
    values: list[tuple[str, str]] = field(default_factory=list)  # added/removed: the row's values

    @property
    def kind_label(self) -> str:
        return {"added": "新增", "removed": "删除", "changed": "修改"}[self.kind]


@dataclass
class ListChange:
    label: str
    added: list[str]
    removed: list[str]


@dataclass
class Section:
    key: str
    heading: str
    fields: list[Change] = field(default_factory=list)
    lists: list[ListChange] = field(default_factory=list)
    rows: list[RowChange] = field(default_factory=list)

    def __bool__(self):
        return bool(self.fields or self.lists or self.rows)

    @property
    def count(self) -> int:
        return len(self.fields) + len(self.lists) + len(self.rows)


@dataclass
class VersionDiff:
    sections: list[Section]

    def __bool__(self):
        return any(self.sections)

    @property
    def count(self) -> int:
        return sum(s.count for s in self.sections)


# ---- comparing ------------------------------------------------------------------------------


def _plain(old: dict, new: dict, spec) -> list[Change]:
    changes = []
    for key, label, reader in spec:
        a, b = reader(old.get(key)), reader(new.get(key))
        if a != b:
            changes.append(Change(label, a, b))
    return changes


def _list(label: str, old, new) -> ListChange | None:
    old, new = list(old or []), list(new or [])
    added = [x for x in new if x not in old]
    removed = [x for x in old if x not in new]
    return ListChange(label, added, removed) if added or removed else None


def _rows(table: Table, old_rows, new_rows) -> list[RowChange]:
    old_rows, new_rows = list(old_rows or []), list(new_rows or [])
    unmatched = list(range(len(old_rows)))
    result = []
    for row in new_rows:
        name = table.name(row)
        match = next((i for i in unmatched if table.name(old_rows[i]) == name), None)
        if match is None:
            values = [(label, reader(row.get(key))) for key, label, reader in table.columns]
            result.append(RowChange("added", name, values=values))
            continue
        unmatched.remove(match)
        changes = _plain(old_rows[match], row, table.columns)
        if changes:
            result.append(RowChange("changed", name, changes=changes))
    for i in unmatched:
        row = old_rows[i]
        values = [(label, reader(row.get(key))) for key, label, reader in table.columns]
        result.append(RowChange("removed", table.name(row), values=values))
    return result


def diff_versions(old: dict, new: dict) -> VersionDiff:
    """Every difference from snapshot `old` to snapshot `new`, by section of the proposal."""
    old_fields, new_fields = old.get("fields", {}), new.get("fields", {})
    org = Section("organisation", "申报单位信息")
    org.fields = _plain(
        old.get("organisation", {}), new.get("organisation", {}), [(k, label, _text) for k, label in ORGANISATION_FACTS]
    )
    basic = Section("fields", "申报内容")
    basic.fields = _plain(old_fields, new_fields, PLAIN_FIELDS)
    basic.lists = [c for key, label in LIST_FIELDS if (c := _list(label, old_fields.get(key), new_fields.get(key)))]
    sections = [org, basic]
    for table in TABLES:
        section = Section(table.key, table.heading)
        section.rows = _rows(table, old.get(table.key), new.get(table.key))
        sections.append(section)
    files = Section("attachments", "附件")
    files.lists = [c for c in [_list("附件", old.get("attachments"), new.get("attachments"))] if c]
    sections.append(files)
    return VersionDiff(sections)
