"""grants.rules: the budget arithmetic and every call rule's message, on plain values."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from grants import rules


def line(category="activity", source="grant", quantity="1", unit_price="0", nature="normal", item="物料"):
    return {
        "category": category,
        "source": source,
        "quantity": Decimal(quantity),
        "unit_price": Decimal(unit_price),
        "nature": nature,
        "item": item,
    }


class FakeCategories:
    def __init__(self, items):
        self.items = items

    def all(self):
        return self.items


def call(**kw):
    region = SimpleNamespace(name="凤凰街道", path="00010001", contains=lambda other: other.path.startswith("00010001"))
    values = {
        "grant_min": Decimal("10000"),
        "grant_max": Decimal("100000"),
        "max_grant_share": Decimal("60"),
        "max_personnel_share": Decimal("30"),
        "forbid_fixed_assets": True,
        "forbid_cash_handouts": True,
        "implement_from": datetime.date(2027, 3, 1),
        "implement_until": datetime.date(2027, 12, 31),
        "region": region,
        "categories": FakeCategories([SimpleNamespace(pk=1, name="老年人服务")]),
    }
    values.update(kw)
    return SimpleNamespace(**values)


def test_line_amount_rounds_each_line_to_the_fen_half_up():
    assert rules.line_amount(Decimal("3"), Decimal("0.335")) == Decimal("1.02")  # 0.34 × 3
    assert rules.line_amount(Decimal("2.5"), Decimal("100.10")) == Decimal("250.25")
    assert isinstance(rules.line_amount(1, 1), Decimal)


def test_totals_and_shares():
    t = rules.budget_totals(
        [
            line("personnel", "grant", "10", "2000"),
            line("activity", "grant", "20", "2000"),
            line("activity", "self", "1", "40000"),
        ]
    )
    assert (t.total, t.grant, t.self_funded, t.personnel) == (
        Decimal("100000.00"),
        Decimal("60000.00"),
        Decimal("40000.00"),
        Decimal("20000.00"),
    )
    assert t.grant_share == Decimal("60.00")
    assert t.personnel_share == Decimal("20.00")
    assert rules.budget_totals([]).grant_share is None


@pytest.mark.parametrize(
    ("lines", "key", "text"),
    [
        ([line(unit_price="5000")], "grant_amount", "低于本次征集的单个项目最低资助10,000.00元"),
        (
            [line(quantity="2", unit_price="60000"), line(source="self", unit_price="200000")],
            "grant_amount",
            "超过本次征集的单个项目最高资助100,000.00元",
        ),
        (
            [line(unit_price="70000"), line(source="self", unit_price="30000")],
            "grant_share",
            "占总预算的70.00%，超过本次征集规定的60.00%",
        ),
        (
            [line("personnel", unit_price="40000"), line(source="self", unit_price="60000")],
            "personnel_share",
            "人员费用占总预算的40.00%，超过本次征集规定的30.00%",
        ),
        (
            [line(unit_price="20000", nature="fixed_asset", item="电脑"), line(source="self", unit_price="20000")],
            "budget",
            "“电脑”属于固定资产购置",
        ),
        (
            [line(unit_price="20000", nature="cash", item="慰问金"), line(source="self", unit_price="20000")],
            "budget",
            "“慰问金”属于现金或等价物发放",
        ),
        ([], "budget", "请填写预算明细"),
    ],
)
def test_each_budget_rule_has_its_message_at_its_field(lines, key, text):
    errors = rules.budget_problems(call(), rules.budget_totals(lines), lines)
    assert key in errors, errors
    assert any(text in m for m in errors[key]), errors[key]


def test_a_budget_within_every_rule_has_no_problem():
    lines = [line("personnel", unit_price="20000"), line(unit_price="40000"), line(source="self", unit_price="40000")]
    assert rules.budget_problems(call(), rules.budget_totals(lines), lines) == {}


def test_forbidden_natures_are_allowed_where_the_call_allows_them():
    lines = [line(unit_price="20000", nature="fixed_asset"), line(source="self", unit_price="20000")]
    c = call(forbid_fixed_assets=False)
    assert rules.budget_problems(c, rules.budget_totals(lines), lines) == {}


def test_plan_rules():
    inside = SimpleNamespace(name="澜湖社区", path="000100010001")
    outside = SimpleNamespace(name="华容镇", path="00010002")
    errors = rules.plan_problems(
        call(),
        category=SimpleNamespace(pk=9, name="文化体育"),
        start_month=datetime.date(2027, 1, 1),
        end_month=datetime.date(2028, 2, 1),
        places=[inside, outside],
    )
    assert errors["category"] == ["服务领域“文化体育”不在本次征集范围内。"]
    assert errors["start_month"] == ["开始年月不能早于项目实施期（2027年3月起）。"]
    assert errors["end_month"] == ["结束年月不能晚于项目实施期（2027年12月止）。"]
    assert errors["places"] == ["实施地点“华容镇”不在本次征集的区域（凤凰街道）内。"]
    ok = rules.plan_problems(
        call(),
        category=SimpleNamespace(pk=1, name="老年人服务"),
        start_month=datetime.date(2027, 3, 1),
        end_month=datetime.date(2027, 12, 1),
        places=[inside],
    )
    assert ok == {}
