"""统一社会信用代码 (GB 32100-2015) and other identifiers of organisations."""

import re

from django.core.exceptions import ValidationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_VALUES = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORGCODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Position 1 (registering department) -> allowed position-2 type codes.
USCC_DEPARTMENTS = {
    "1": ("机构编制", "1239"),
    "5": ("民政", "1239"),
    "9": ("工商", "123"),
    "Y": ("其他", "1"),
    "2": ("外交", "19"),
    "3": ("司法行政", "123459"),
    "4": ("文化", "19"),
    "6": ("旅游", "129"),
    "7": ("宗教", "129"),
    "8": ("工会", "19"),
    "A": ("中央军委改革和编制办公室", "19"),
    "N": ("农业", "1239"),
}


def normalise_uscc(value: str) -> str:
    return (value or "").strip().upper()


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_VALUES[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def orgcode_check_char(first8: str) -> str:
    # GB 11714: characters 0-9 are themselves, A-Z are 10-35.
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(first8, ORGCODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate_uscc(value: str) -> str:
    """Check a 统一社会信用代码 against every rule of GB 32100-2015; return it normalised.

    Raises ValidationError whose Chinese message names the rule that failed."""
    code = normalise_uscc(value)
    if len(code) != 18:
        raise ValidationError(f"统一社会信用代码应为18位，当前为{len(code)}位。", code="uscc_length")
    bad = sorted({c for c in code if c not in USCC_VALUES})
    if bad:
        raise ValidationError(
            f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（只能由数字和除 I、O、Z、S、V 以外的大写字母组成）。",
            code="uscc_charset",
        )
    dept, kind = code[0], code[1]
    if dept not in USCC_DEPARTMENTS:
        raise ValidationError(f"统一社会信用代码第1位（登记管理部门代码）“{dept}”无效。", code="uscc_department")
    dept_name, kinds = USCC_DEPARTMENTS[dept]
    if kind not in kinds:
        raise ValidationError(
            f"统一社会信用代码第2位（机构类别代码）“{kind}”不适用于{dept_name}登记的机构。", code="uscc_type"
        )
    if not code[2:8].isdigit():
        raise ValidationError("统一社会信用代码第3–8位（登记管理机关行政区划码）应为6位数字。", code="uscc_division")
    orgcode = code[8:17]
    if any(c not in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" for c in orgcode[:8]):
        raise ValidationError("统一社会信用代码第9–16位（组织机构代码本体）无效。", code="uscc_orgcode")
    if orgcode_check_char(orgcode[:8]) != orgcode[8]:
        raise ValidationError(
            "统一社会信用代码第17位（组织机构代码校验码）不正确，请核对第9–17位。", code="uscc_orgcode_check"
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError("统一社会信用代码第18位（校验码）不正确，请逐位核对。", code="uscc_check")
    return code


BANK_ACCOUNT_RE = re.compile(r"^\d{8,30}$")


def normalise_bank_account(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def validate_bank_account(value: str) -> None:
    v = normalise_bank_account(value)
    if not v.isdigit():
        raise ValidationError("银行账号只能包含数字（可用空格分隔）。", code="bank_digits")
    if not 8 <= len(v) <= 30:
        raise ValidationError(f"银行账号长度应为8–30位数字，当前为{len(v)}位，请核对。", code="bank_length")
