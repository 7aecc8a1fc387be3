"""A call's rules applied to a proposal: the budget arithmetic and every check, as pure
functions over values, so the form, the submit service, the PDF and the tests use one
definition (the browser's live figures, grants/static/grants/proposal.js, compute the
same sums and are told the call's limits by `limits_json`).

Money is Decimal, rounded to the fen (0.01) half-up per line; shares are percentages of
the total budget with two decimals."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def money(value) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else 0)).quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:
        return Decimal("0.00")


def line_amount(quantity, unit_price) -> Decimal:
    return money(money(quantity) * money(unit_price))


def share(part, total) -> Decimal | None:
    """`part` as a percentage of `total` (two decimals), None when the total is zero."""
    total = Decimal(total or 0)
    if total <= 0:
        return None
    return (Decimal(part or 0) * 100 / total).quantize(CENT, ROUND_HALF_UP)


def fmt_money(value) -> str:
    """¥ amounts as Chinese documents write them: 12,345.60"""
    return f"{money(value):,.2f}"


def fmt_percent(value) -> str:
    return "—" if value is None else f"{Decimal(value).quantize(CENT):f}%"


def _get(line, name):
    return line.get(name) if isinstance(line, dict) else getattr(line, name, None)


@dataclass
class Totals:
    total: Decimal = Decimal("0.00")
    grant: Decimal = Decimal("0.00")
    self_funded: Decimal = Decimal("0.00")
    personnel: Decimal = Decimal("0.00")
    by_category: dict = field(default_factory=dict)

    @property
    def grant_share(self) -> Decimal | None:
        return share(self.grant, self.total)

    @property
    def personnel_share(self) -> Decimal | None:
        return share(self.personnel, self.total)

    @property
    def self_share(self) -> Decimal | None:
        return share(self.self_funded, self.total)


def budget_totals(lines: Iterable) -> Totals:
    """Sums over budget lines (model instances or dicts with category, source, quantity,
    unit_price)."""
    t = Totals()
    for line in lines:
        amount = line_amount(_get(line, "quantity"), _get(line, "unit_price"))
        category = _get(line, "category") or "other"
        t.total += amount
        if _get(line, "source") == "self":
            t.self_funded += amount
        else:
            t.grant += amount
        if category == "personnel":
            t.personnel += amount
        t.by_category[category] = t.by_category.get(category, Decimal("0.00")) + amount
    return t


def month_start(day: datetime.date | None) -> datetime.date | None:
    return day.replace(day=1) if day else None


def _ym(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月"


def budget_problems(call, totals: Totals, lines: Iterable) -> dict[str, list[str]]:
    """The budget against the call's money rules; keys are the fields the message belongs to."""
    errors: dict[str, list[str]] = {}

    def err(key, message):
        errors.setdefault(key, []).append(message)

    lines = list(lines)
    if not lines:
        err("budget", "请填写预算明细（至少一行）。")
        return errors
    if totals.grant < call.grant_min:
        err(
            "grant_amount",
            f"申请资助金额为{fmt_money(totals.grant)}元，低于本次征集的单个项目最低资助{fmt_money(call.grant_min)}元。",
        )
    if totals.grant > call.grant_max:
        err(
            "grant_amount",
            f"申请资助金额为{fmt_money(totals.grant)}元，超过本次征集的单个项目最高资助{fmt_money(call.grant_max)}元。",
        )
    gs = totals.grant_share
    if gs is not None and gs > call.max_grant_share:
        err(
            "grant_share",
            f"申请资助金额占总预算的{fmt_percent(gs)}，超过本次征集规定的{fmt_percent(call.max_grant_share)}；"
            f"请增加自筹资金或减少申请金额。",
        )
    ps = totals.personnel_share
    if ps is not None and ps > call.max_personnel_share:
        err(
            "personnel_share",
            f"人员费用占总预算的{fmt_percent(ps)}，超过本次征集规定的{fmt_percent(call.max_personnel_share)}。",
        )
    for i, line in enumerate(lines, start=1):
        nature = _get(line, "nature")
        item = _get(line, "item") or f"第{i}行"
        if nature == "fixed_asset" and call.forbid_fixed_assets:
            err("budget", f"预算第{i}行“{item}”属于固定资产购置，本次征集不得列支。")
        if nature == "cash" and call.forbid_cash_handouts:
            err("budget", f"预算第{i}行“{item}”属于现金或等价物发放，本次征集不得列支。")
    return errors


def plan_problems(call, *, category=None, start_month=None, end_month=None, places=()) -> dict[str, list[str]]:
    """Category, period and places against the call."""
    errors: dict[str, list[str]] = {}

    def err(key, message):
        errors.setdefault(key, []).append(message)

    if category is not None and category.pk not in {c.pk for c in call.categories.all()}:
        err("category", f"服务领域“{category.name}”不在本次征集范围内。")
    first, last = month_start(call.implement_from), month_start(call.implement_until)
    if start_month and first and month_start(start_month) < first:
        err("start_month", f"开始年月不能早于项目实施期（{_ym(call.implement_from)}起）。")
    if end_month and last and month_start(end_month) > last:
        err("end_month", f"结束年月不能晚于项目实施期（{_ym(call.implement_until)}止）。")
    if start_month and end_month and month_start(end_month) < month_start(start_month):
        err("end_month", "结束年月不能早于开始年月。")
    outside = [p.name for p in places if not call.region.contains(p)]
    if outside:
        err("places", f"实施地点“{'、'.join(outside)}”不在本次征集的区域（{call.region.name}）内。")
    return errors


def limits_json(call) -> dict:
    """What the browser needs to show the live figures and warn as the user types."""
    return {
        "grant_min": str(call.grant_min),
        "grant_max": str(call.grant_max),
        "max_grant_share": str(call.max_grant_share),
        "max_personnel_share": str(call.max_personnel_share),
        "forbid_fixed_assets": call.forbid_fixed_assets,
        "forbid_cash_handouts": call.forbid_cash_handouts,
    }
