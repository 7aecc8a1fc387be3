"""人民币大写 (core.numerals.capital_amount): the issue's edge cases, the zero rules of the
payment-settlement convention, and a table of hand-checked amounts."""

from decimal import Decimal

import pytest

from core.numerals import capital_amount

D = Decimal


@pytest.mark.parametrize(
    "amount, capitals",
    [
        # the issue's own
        ("0.01", "壹分"),
        ("10000", "壹万元整"),
        ("1000000.50", "壹佰万元伍角"),
        ("100000", "壹拾万元整"),
        ("0", "零元整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("120000.30", "壹拾贰万元叁角"),
    ],
)
def test_the_edge_cases_of_the_issue(amount, capitals):
    assert capital_amount(D(amount)) == capitals


# hand-checked against the convention (中国人民银行《正确填写票据和结算凭证的基本规定》)
TABLE = [
    ("0.50", "伍角"),  # under one yuan: no 零元
    ("0.05", "伍分"),
    ("0.15", "壹角伍分"),
    ("10", "壹拾元整"),  # a ten is always 壹拾
    ("15", "壹拾伍元整"),
    ("110", "壹佰壹拾元整"),
    ("1001", "壹仟零壹元整"),  # one 零 for a run of zeros
    ("1010", "壹仟零壹拾元整"),
    ("30010", "叁万零壹拾元整"),
    ("100010", "壹拾万零壹拾元整"),  # the lower group's missing thousands read as 零
    ("105000", "壹拾万伍仟元整"),  # 万位 zero before a full group: no 零
    ("107000.53", "壹拾万柒仟元伍角叁分"),  # the regulation's own example
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),  # 元位 zero, 角 not: no 零 (as 120000.30)
    ("10000001", "壹仟万零壹元整"),
    ("20000000", "贰仟万元整"),
    ("100001000", "壹亿零壹仟元整"),  # a whole empty 万 group: one 零
    ("100100000", "壹亿零壹拾万元整"),
    ("110000000", "壹亿壹仟万元整"),
    ("1000010000", "壹拾亿零壹万元整"),
    ("200000000.01", "贰亿元零壹分"),
    ("1000000.05", "壹佰万元零伍分"),
    ("1000000000000", "壹万亿元整"),
    ("1000100000000", "壹万零壹亿元整"),
    ("1000000000001", "壹万亿零壹元整"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),  # the largest award a row holds
]


@pytest.mark.parametrize("amount, capitals", TABLE)
def test_a_table_of_hand_checked_amounts(amount, capitals):
    assert capital_amount(D(amount)) == capitals


def test_the_table_is_at_least_twenty_amounts():
    assert len(TABLE) >= 20


def test_trailing_zeros_and_integers_are_the_same_amount():
    assert capital_amount(D("1.500")) == capital_amount(D("1.5")) == "壹元伍角"
    assert capital_amount(50000) == capital_amount(D("5E+4")) == "伍万元整"


@pytest.mark.parametrize(
    "amount, message",
    [
        (D("-0.01"), "不能为负数"),
        (D("-100"), "不能为负数"),
        (D("1.005"), "两位小数"),
        (D("0.001"), "两位小数"),
        (D("NaN"), "有限"),
        (D("Infinity"), "有限"),
        (D("1E+16"), "过大"),
    ],
)
def test_what_is_not_an_amount_is_refused(amount, message):
    with pytest.raises(ValueError, match=message):
        capital_amount(amount)


def test_a_float_is_refused():
    with pytest.raises(TypeError):
        capital_amount(0.1)
