"""Chinese capital numerals for money (人民币大写金额), as cheques, receipts and agreements
write them (中国人民银行《支付结算办法》附件“正确填写票据和结算凭证的基本规定”):

- digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟, groups of four digits 万 / 亿 (万亿 above);
  a ten is always 壹拾 (100000 → 壹拾万元整, 10 → 壹拾元整);
- one 零 for each run of zeros between non-zero digits, also across an empty group
  (1005 → 壹仟零伍元, 100001000 → 壹亿零壹仟元, 100010 → 壹拾万零壹拾元), none for zeros at
  the end of a group followed by a full one (105000 → 壹拾万伍仟元);
- 元 then 整 when there are no 角 or 分 (10000 → 壹万元整, 0 → 零元整); 角 without 分 takes no
  整 (1000000.50 → 壹佰万元伍角); 分 after a zero 角 is preceded by 零 (1005.07 → 壹仟零伍元零柒分);
  the 元 digit being 0 adds no 零 before 角 (120000.30 → 壹拾贰万元叁角); under one 元 only the
  角 and 分 are written (0.01 → 壹分, 0.50 → 伍角).

Money is Decimal (an int is accepted); a float, a negative amount, one with more than two
decimals or beyond 万亿 is refused."""

from decimal import Decimal, InvalidOperation

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("", "拾", "佰", "仟")  # within a group of four, from the lowest digit
LIMIT = Decimal(10) ** 16  # 9999万亿 is the largest group this writes


def _group(n: int, *, leading_zero: bool) -> str:
    """One group of four digits (1..9999) in capitals; `leading_zero`: a lower group after
    a higher one, whose missing thousands are read as 零."""
    digits = f"{n:04d}"
    out, zero = [], leading_zero
    for i, ch in enumerate(digits):
        d = int(ch)
        if d == 0:
            zero = zero or bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[d] + UNITS[3 - i])
    return "".join(out)


def _integer(n: int) -> str:
    """The yuan part (n ≥ 1) in capitals, without 元."""
    groups = []
    while n:
        n, rest = divmod(n, 10000)
        groups.append(rest)  # lowest first
    out = []
    pending_zero = False
    top = len(groups) - 1
    for i in range(top, -1, -1):
        g = groups[i]
        if g == 0:
            pending_zero = pending_zero or i < top
            if i == 2 and groups[3:4] and groups[3]:
                out.append("亿")  # 壹万亿: the 万亿 group's 亿 when the 亿 group itself is empty
            continue
        lead = i < top and (pending_zero or g < 1000)
        out.append(_group(g, leading_zero=lead))
        out.append(("", "万", "亿", "万")[i])
        pending_zero = False
    return "".join(out)


def _as_decimal(value) -> Decimal:
    if isinstance(value, bool | float):
        raise TypeError("金额须为 Decimal（或整数），不能是浮点数。")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"“{value}”不是金额。") from None
    raise TypeError("金额须为 Decimal（或整数）。")


def capital_amount(value: Decimal) -> str:
    """人民币大写 of an amount in yuan: Decimal("100000") → "壹拾万元整"."""
    amount = _as_decimal(value)
    if not amount.is_finite():
        raise ValueError("金额须为有限的数字。")
    if amount < 0:
        raise ValueError("金额不能为负数。")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"金额最多保留两位小数（到分），“{amount}”有更多位小数。")
    if amount >= LIMIT:
        raise ValueError("金额过大（须小于一亿亿元）。")
    cents = int(cents)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return "零元整"
    out = _integer(yuan) + "元" if yuan else ""
    if rest == 0:
        return out + "整"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif yuan:
        out += "零"  # 元 followed by 分 with no 角: 壹仟零伍元零柒分
    if fen:
        out += DIGITS[fen] + "分"
    return out
