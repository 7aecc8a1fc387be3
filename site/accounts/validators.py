import re

from django.core.exceptions import ValidationError

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalise_mobile(value: str) -> str:
    """Strip spaces, dashes and a leading +86 so '+86 138-0000-0000' is accepted."""
    value = re.sub(r"[\s-]", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.match(value or ""):
        raise ValidationError("请输入11位中国大陆手机号码，例如 13800138000。", code="invalid_mobile")


def validate_division_code(value: str) -> None:
    """Administrative division codes: 6 digits (市/区县), 9 (街道/镇) or 12 (社区/村)."""
    if not (value.isdigit() and len(value) in (6, 9, 12)):
        raise ValidationError("行政区划代码应为6位（市、区县）、9位（街道、镇）或12位（社区、村）数字。")
