"""统一社会信用代码 (GB 32100-2015) and bank account validation.

The check characters are recomputed here from the definitions in DOMAIN.md, independently
of orgs.validators, so that a wrong weight or alphabet in the code cannot hide."""

import pytest
from django.core.exceptions import ValidationError

from orgs.validators import normalise_bank_account, validate_bank_account, validate_uscc
from tests.factories import make_uscc

# ---- an independent implementation of the two check characters -------------------------

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORGCODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def gb11714_check(body8: str) -> str:
    """Organisation-code check: digits are themselves, letters A=10 … Z=35; mod 11."""
    values = [int(c) if c.isdigit() else 10 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(c) for c in body8]
    check = 11 - sum(v * w for v, w in zip(values, ORGCODE_WEIGHTS, strict=True)) % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def gb32100_check(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    check = 31 - total % 31
    return ALPHABET[0 if check == 31 else check]


def build(dept="5", kind="1", division="420704", body="MA4C7Y0K") -> str:
    first17 = dept + kind + division + body + gb11714_check(body)
    return first17 + gb32100_check(first17)


def message(code: str) -> str:
    with pytest.raises(ValidationError) as exc:
        validate_uscc(code)
    return " ".join(exc.value.messages)


# ---- valid codes -----------------------------------------------------------------------


def test_the_domain_example_is_valid():
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


def test_independent_check_characters_match_the_domain_example():
    assert gb11714_check("M000100Y") == "4"
    assert gb32100_check("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("body", "orgcode_check"),
    [
        ("12345678", "8"),  # 1·3+2·7+3·9+4·10+5·5+6·8+7·4+8·2 = 201 ≡ 3 (mod 11) → 11 − 3 = 8
        ("00000000", "0"),  # sum 0 → 11 − 0 = 11, written "0"
        ("00000006", "X"),  # 6·2 = 12 ≡ 1 → 11 − 1 = 10, written "X"
        ("MA4C7Y0K", "X"),  # letters count A=10 … Z=35: 66+70+36+120+35+272+0+40 = 639 ≡ 1
    ],
)
def test_independently_built_codes_are_valid(body, orgcode_check):
    assert gb11714_check(body) == orgcode_check
    code = build(body=body)
    assert code[16] == orgcode_check
    assert validate_uscc(code) == code


def test_final_check_of_thirty_one_is_written_zero():
    # Find a body whose 17-character sum is ≡ 0 (mod 31): 31 − 0 = 31, written "0".
    for n in range(2000):
        body = f"MA{n:06d}"
        first17 = "52420704" + body + gb11714_check(body)
        if sum(ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True)) % 31 == 0:
            break
    else:
        pytest.fail("no such body in range")
    code = first17 + gb32100_check(first17)
    assert code.endswith("0")
    assert validate_uscc(code) == code


@pytest.mark.parametrize("seq", [1, 2, 42, 999, 123456, 999999])
def test_factory_codes_are_valid_and_agree_with_the_independent_checks(seq):
    code = make_uscc(seq)
    assert validate_uscc(code) == code
    assert code[16] == gb11714_check(code[8:16])
    assert code[17] == gb32100_check(code[:17])


@pytest.mark.parametrize(("dept", "kind"), [("5", "1"), ("5", "2"), ("5", "3"), ("5", "9"), ("9", "1"), ("1", "2")])
def test_every_civil_affairs_type_and_some_others_are_valid(dept, kind):
    code = build(dept=dept, kind=kind)
    assert validate_uscc(code) == code


def test_surrounding_spaces_and_lower_case_are_normalised():
    assert validate_uscc("  91350100m000100y43 \n") == "91350100M000100Y43"


# ---- one fault of each kind, each with a Chinese message naming the rule --------------------


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y431", ""])
def test_wrong_length(code):
    msg = message(code)
    assert "应为18位" in msg
    assert f"当前为{len(code)}位" in msg


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V"])
def test_forbidden_letters(bad):
    code = "91350100M000100Y43"
    msg = message(code[:10] + bad + code[11:])
    assert "不允许的字符" in msg
    assert bad in msg


@pytest.mark.parametrize("bad", ["-", "*", "，"])
def test_punctuation_is_forbidden(bad):
    code = "91350100M000100Y43"
    msg = message(code[:10] + bad + code[11:])
    assert "不允许的字符" in msg
    assert bad in msg


def test_bad_department_code():
    msg = message(build(dept="B"))
    assert "第1位" in msg
    assert "登记管理部门" in msg
    assert "“B”" in msg


@pytest.mark.parametrize(("dept", "kind", "dept_name"), [("5", "4", "民政"), ("9", "9", "工商"), ("Y", "2", "其他")])
def test_type_code_not_allowed_for_department(dept, kind, dept_name):
    msg = message(build(dept=dept, kind=kind))
    assert "第2位" in msg
    assert "机构类别" in msg
    assert f"“{kind}”" in msg
    assert dept_name in msg


def test_non_digit_division():
    msg = message(build(division="42A704"))
    assert "第3–8位" in msg
    assert "行政区划" in msg


def test_wrong_organisation_code_check_character():
    good = build()
    wrong17 = "1" if good[16] != "1" else "2"
    first17 = good[:16] + wrong17
    code = first17 + gb32100_check(first17)  # the final check is right, only pos 17 is wrong
    msg = message(code)
    assert "第17位" in msg
    assert "组织机构代码校验码" in msg


def test_wrong_final_check_character():
    good = build()
    wrong = "0" if good[17] != "0" else "1"
    msg = message(good[:17] + wrong)
    assert "第18位" in msg
    assert "校验码" in msg
    assert "第17位" not in msg


def test_a_single_mistyped_character_in_the_organisation_code_is_caught():
    good = "91350100M000100Y43"
    typo = good[:12] + "2" + good[13:]  # 13th character 1 → 2
    assert "第17位" in message(typo)


# ---- bank accounts -----------------------------------------------------------------------


@pytest.mark.parametrize("account", ["12345678", "6222 0212 3456 7890 123", "6222-0212-3456-7890", "1" * 30])
def test_bank_accounts_of_eight_to_thirty_digits_are_valid(account):
    validate_bank_account(account)


def test_bank_account_normalisation_removes_spaces_and_dashes():
    assert normalise_bank_account(" 6222 0212-3456 ") == "622202123456"


@pytest.mark.parametrize("account", ["1234567", "1" * 31])
def test_bank_account_of_wrong_length(account):
    with pytest.raises(ValidationError) as exc:
        validate_bank_account(account)
    assert "长度应为8–30位" in exc.value.messages[0]
    assert f"当前为{len(account)}位" in exc.value.messages[0]


@pytest.mark.parametrize("account", ["6222O2123456", "62220212345A", "6222.0212.3456"])
def test_bank_account_with_non_digits(account):
    with pytest.raises(ValidationError) as exc:
        validate_bank_account(account)
    assert exc.value.messages == ["银行账号只能包含数字（可用空格分隔）。"]
