"""May an organisation apply on a given day? orgs.selectors.eligibility under EligibilityRules.

Facts are recorded through the services staff use; every refusal reason is Chinese."""

import datetime

import pytest

from accounts.roles import Role
from orgs import services
from orgs.models import AnnualInspection, ListEntry, Organisation, OrgType
from orgs.selectors import EligibilityRules, current_grade, eligibility
from tests.factories import OrganisationFactory, staff

ON = datetime.date(2026, 6, 1)
D = datetime.date
Status = Organisation.Status


@pytest.fixture
def manager(regions):
    return staff(Role.CALL_MANAGER, regions["echeng"])


@pytest.fixture
def org(regions, manager):
    """The baseline: verified, 2025 annual inspection passed."""
    org = OrganisationFactory(status=Status.VERIFIED, region=regions["fenghuang"])
    services.inspection_record(org=org, by=manager, year=2025, result=AnnualInspection.Result.PASSED)
    return org


def listed(org, manager, kind, listed_on, removed_on=None, reason=""):
    return services.list_entry_add(
        org=org, by=manager, kind=kind, listed_on=listed_on, removed_on=removed_on, reason=reason
    )


def check(org, rules=None, on=ON):
    result = eligibility(org, on=on, rules=rules or EligibilityRules())
    assert bool(result) == result.eligible == (not result.reasons)
    return result


def test_baseline_is_eligible(org):
    result = check(org)
    assert result.eligible
    assert result.reasons == []


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.SUSPENDED, Status.REVOKED])
def test_an_organisation_that_is_not_verified_is_not_eligible(status, manager, regions):
    org = OrganisationFactory(status=status, region=regions["fenghuang"])
    services.inspection_record(org=org, by=manager, year=2025, result=AnnualInspection.Result.PASSED)
    assert check(org).reasons == [f"组织登记信息尚未通过审核（当前状态：{status.label}）。"]


# ---- 活动异常名录: within the last year ---------------------------------------------------------


def test_listed_as_abnormal_within_the_last_year(org, manager):
    listed(org, manager, ListEntry.Kind.ABNORMAL, D(2025, 9, 1))
    assert check(org).reasons == ["2025年9月1日被列入活动异常名录，近1年内不得申报。"]


def test_removed_from_the_abnormal_list_but_within_the_last_year_still_counts(org, manager):
    listed(org, manager, ListEntry.Kind.ABNORMAL, D(2025, 3, 1), removed_on=D(2025, 8, 1))
    assert not check(org).eligible


def test_listed_long_ago_and_never_removed_still_counts(org, manager):
    listed(org, manager, ListEntry.Kind.ABNORMAL, D(2020, 3, 1))
    assert check(org).reasons == ["2020年3月1日被列入活动异常名录，近1年内不得申报。"]


def test_abnormal_listing_removed_more_than_a_year_ago_does_not_count(org, manager):
    listed(org, manager, ListEntry.Kind.ABNORMAL, D(2024, 1, 10), removed_on=D(2025, 5, 31))
    assert check(org).eligible


def test_a_listing_after_the_day_in_question_does_not_count(org, manager):
    listed(org, manager, ListEntry.Kind.ABNORMAL, D(2026, 6, 2))
    assert check(org).eligible
    assert not check(org, on=D(2026, 6, 2)).eligible


# ---- 严重违法失信: within the last two years ----------------------------------------------------


def test_dishonest_within_two_years(org, manager):
    listed(org, manager, ListEntry.Kind.DISHONEST, D(2024, 3, 1), removed_on=D(2024, 9, 1))
    assert check(org).reasons == ["2024年3月1日被列入严重违法失信名单，近2年内不得申报。"]


def test_dishonest_removed_more_than_two_years_ago_does_not_count(org, manager):
    listed(org, manager, ListEntry.Kind.DISHONEST, D(2023, 1, 1), removed_on=D(2024, 5, 31))
    assert check(org).eligible


# ---- 年检 --------------------------------------------------------------------------------


def test_failed_annual_inspection(org, manager):
    services.inspection_record(org=org, by=manager, year=2025, result=AnnualInspection.Result.FAILED)
    assert check(org).reasons == ["2025年度年检结果为“不合格”。"]


def test_basic_pass_is_accepted_unless_the_rules_say_otherwise(org, manager):
    services.inspection_record(org=org, by=manager, year=2025, result=AnnualInspection.Result.BASIC)
    assert check(org).eligible
    assert check(org, EligibilityRules(accept_basic_inspection=False)).reasons == ["2025年度年检结果为“基本合格”。"]


def test_the_latest_completed_year_decides_not_an_older_one(org, manager):
    services.inspection_record(org=org, by=manager, year=2024, result=AnnualInspection.Result.FAILED)
    assert check(org).eligible  # 2025 passed
    services.inspection_record(org=org, by=manager, year=2026, result=AnnualInspection.Result.FAILED)
    assert check(org).eligible  # the current year's inspection is not over yet on 1 June


def test_no_inspection_record(manager, regions):
    org = OrganisationFactory(status=Status.VERIFIED, region=regions["fenghuang"])
    assert check(org).reasons == ["没有年检记录。"]


def test_a_pass_many_years_ago_is_not_a_current_pass(manager, regions):
    org = OrganisationFactory(status=Status.VERIFIED, region=regions["fenghuang"])
    services.inspection_record(org=org, by=manager, year=2019, result=AnnualInspection.Result.PASSED)
    assert check(org).reasons == ["最近一次年检为2019年度，缺少2024年度以来的年检记录。"]
    services.inspection_record(org=org, by=manager, year=2024, result=AnnualInspection.Result.PASSED)
    assert check(org).eligible  # 2025's may still be under way
    assert check(org, EligibilityRules(inspection_max_age_years=1)).reasons == [
        "最近一次年检为2024年度，缺少2025年度以来的年检记录。"
    ]


def test_filed_community_groups_have_no_annual_inspection(regions):
    group = OrganisationFactory(
        status=Status.VERIFIED,
        org_type=OrgType.COMMUNITY_FILED,
        uscc=None,
        filing_number="鄂城民备2024-001",
        sponsor_name="凤凰街道办事处",
        region=regions["fenghuang"],
    )
    assert check(group).eligible


# ---- 评估等级 ----------------------------------------------------------------------------


def graded(org, manager, grade, awarded_on):
    services.grade_record(org=org, by=manager, grade=grade, awarded_on=awarded_on)


THREE_A = EligibilityRules(min_grade="3A")


def test_no_grade_when_one_is_required(org):
    assert check(org).eligible
    assert check(org, THREE_A).reasons == ["本次申报要求评估等级3A及以上，该组织没有有效的评估等级。"]


def test_a_lower_grade_is_not_enough(org, manager):
    graded(org, manager, "2A", D(2024, 1, 1))
    assert check(org, THREE_A).reasons == ["本次申报要求评估等级3A及以上，该组织为2A。"]


@pytest.mark.parametrize("grade", ["3A", "4A", "5A"])
def test_a_valid_grade_at_or_above_the_minimum(grade, org, manager):
    graded(org, manager, grade, D(2022, 1, 1))
    assert check(org, THREE_A).eligible


def test_a_grade_is_valid_for_five_years(org, manager):
    graded(org, manager, "4A", D(2021, 6, 1))
    assert check(org, THREE_A, on=D(2026, 5, 31)).eligible
    assert check(org, THREE_A, on=D(2026, 6, 1)).reasons == ["本次申报要求评估等级3A及以上，该组织没有有效的评估等级。"]


def test_an_expired_4a_does_not_count(org, manager):
    graded(org, manager, "4A", D(2020, 3, 1))
    assert current_grade(org, ON) is None
    assert not check(org, THREE_A).eligible


def test_the_latest_grade_replaces_an_older_higher_one(org, manager):
    graded(org, manager, "4A", D(2022, 1, 1))
    graded(org, manager, "2A", D(2025, 1, 1))
    assert current_grade(org, ON).grade == "2A"
    assert check(org, THREE_A).reasons == ["本次申报要求评估等级3A及以上，该组织为2A。"]


def test_a_grade_awarded_after_the_day_does_not_count(org, manager):
    graded(org, manager, "5A", D(2026, 7, 1))
    assert not check(org, THREE_A).eligible


# ---- bans imposed by this platform ---------------------------------------------------------


def test_an_active_ban(org, manager):
    listed(org, manager, ListEntry.Kind.BAN, D(2025, 1, 1), removed_on=D(2028, 1, 1), reason="项目结项评估不合格")
    assert check(org).reasons == ["因项目结项评估不合格被禁止申报至2028年1月1日。"]


def test_a_ban_without_an_end(org, manager):
    listed(org, manager, ListEntry.Kind.BAN, D(2025, 1, 1))
    assert check(org).reasons == ["因严重违约被禁止申报。"]


def test_an_expired_ban(org, manager):
    listed(org, manager, ListEntry.Kind.BAN, D(2022, 1, 1), removed_on=D(2025, 1, 1), reason="挪用资金")
    assert check(org).eligible
    assert not check(org, on=D(2024, 12, 31)).eligible


# ---- several reasons, and rules as parameters ------------------------------------------------


def test_every_reason_is_listed(manager, regions):
    org = OrganisationFactory(status=Status.SUSPENDED, region=regions["fenghuang"])
    services.inspection_record(org=org, by=manager, year=2025, result=AnnualInspection.Result.FAILED)
    listed(org, manager, ListEntry.Kind.ABNORMAL, D(2026, 1, 5))
    listed(org, manager, ListEntry.Kind.DISHONEST, D(2025, 2, 1))
    graded(org, manager, "1A", D(2023, 1, 1))

    assert check(org, THREE_A).reasons == [
        "组织登记信息尚未通过审核（当前状态：已暂停）。",
        "2026年1月5日被列入活动异常名录，近1年内不得申报。",
        "2025年2月1日被列入严重违法失信名单，近2年内不得申报。",
        "2025年度年检结果为“不合格”。",
        "本次申报要求评估等级3A及以上，该组织为1A。",
    ]


def test_the_abnormal_lookback_is_a_parameter(org, manager):
    listed(org, manager, ListEntry.Kind.ABNORMAL, D(2024, 9, 1), removed_on=D(2024, 12, 1))
    assert check(org).eligible
    assert check(org, EligibilityRules(abnormal_lookback_years=2)).reasons == [
        "2024年9月1日被列入活动异常名录，近2年内不得申报。"
    ]


def test_the_dishonest_lookback_is_a_parameter(org, manager):
    listed(org, manager, ListEntry.Kind.DISHONEST, D(2024, 3, 1), removed_on=D(2024, 9, 1))
    assert check(org, EligibilityRules(dishonest_lookback_years=1)).eligible


def test_other_rules_can_be_switched(manager, regions):
    org = OrganisationFactory(status=Status.DRAFT, org_type=OrgType.FOUNDATION, region=regions["fenghuang"])
    assert check(org, EligibilityRules(require_verified=False, require_inspection_passed=False)).eligible
    assert check(
        org, EligibilityRules(require_verified=False, require_inspection_passed=False, allowed_types=("service_org",))
    ).reasons == ["组织类型“基金会”不在本次申报范围内。"]


@pytest.mark.django_db
def test_an_organisation_founded_last_year_has_no_inspection_due_yet(regions):
    on = datetime.date(2026, 6, 1)
    org = OrganisationFactory(founded_on=datetime.date(2025, 3, 1))
    assert "没有年检记录。" not in eligibility(org, on=on).reasons
    older = OrganisationFactory(founded_on=datetime.date(2020, 3, 1))
    assert "没有年检记录。" in eligibility(older, on=on).reasons
