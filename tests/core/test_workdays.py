"""Working days as Chinese offices count them, and the 5-working-day screening deadline
that depends on them."""

import datetime

import chinese_calendar
import pytest

from core.workdays import add_workdays, is_workday, workdays_between
from incubator import services
from tests.incubator.factories import IncubationBaseFactory, base_operator, incubation_at

D = datetime.date


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        pytest.param(D(2026, 3, 12), 1, D(2026, 3, 13), id="thursday-to-friday"),
        pytest.param(D(2026, 3, 13), 1, D(2026, 3, 16), id="friday-over-the-weekend"),
        pytest.param(D(2026, 3, 14), 1, D(2026, 3, 16), id="from-a-saturday"),
        pytest.param(D(2026, 3, 13), 5, D(2026, 3, 20), id="friday-plus-five"),
        pytest.param(D(2026, 9, 30), 1, D(2026, 10, 8), id="over-national-day"),
        pytest.param(D(2026, 10, 9), 1, D(2026, 10, 10), id="to-the-swapped-working-saturday"),
        pytest.param(D(2026, 9, 18), 1, D(2026, 9, 20), id="to-the-swapped-working-sunday"),
        pytest.param(D(2026, 3, 13), 0, D(2026, 3, 13), id="zero-days"),
    ],
)
def test_add_workdays(start, days, expected):
    assert add_workdays(start, days) == expected


def test_the_2026_calendar_the_cases_above_rely_on():
    assert [d for d in (D(2026, 10, 1) + datetime.timedelta(n) for n in range(7)) if is_workday(d)] == []
    assert is_workday(D(2026, 10, 10)) and D(2026, 10, 10).weekday() == 5  # 调休: a working Saturday
    assert not is_workday(D(2026, 10, 11))


def test_beyond_the_years_the_package_knows_only_weekends_are_off():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2099, 10, 1))
    assert is_workday(D(2099, 10, 1))  # a Thursday: National Day is not known that far ahead
    assert not is_workday(D(2099, 10, 3))  # Saturday
    assert add_workdays(D(2099, 10, 2), 1) == D(2099, 10, 5)  # Friday → Monday
    assert add_workdays(D(2099, 9, 30), 5) == D(2099, 10, 7)


def test_workdays_between_counts_after_the_start_up_to_the_end():
    assert workdays_between(D(2026, 9, 30), D(2026, 10, 8)) == 1
    assert workdays_between(D(2026, 3, 13), D(2026, 3, 20)) == 5
    assert workdays_between(D(2026, 3, 20), D(2026, 3, 13)) == 0


@pytest.mark.django_db
def test_an_application_made_on_a_friday_is_overdue_only_after_five_working_days(regions, monkeypatch):
    base = IncubationBaseFactory()
    monkeypatch.setattr(services, "_today", lambda: D(2026, 3, 13))  # a Friday
    inc = incubation_at(base)
    assert (inc.applied_on, inc.screening_due) == (D(2026, 3, 13), D(2026, 3, 20))

    assert not inc.screening_overdue(today=D(2026, 3, 16))  # Monday: 1 working day
    assert not inc.screening_overdue(today=D(2026, 3, 20))  # Friday: the 5th, still on time
    assert inc.screening_overdue(today=D(2026, 3, 23))  # Monday after: overdue
    # screened, it is no longer waiting
    services.incubation_screen(incubation=inc, by=base_operator(base), accept=True)
    assert not inc.screening_overdue(today=D(2026, 3, 23))


@pytest.mark.django_db
def test_an_application_before_national_day_is_due_after_the_holiday(regions, monkeypatch):
    monkeypatch.setattr(services, "_today", lambda: D(2026, 9, 29))
    inc = incubation_at(IncubationBaseFactory())
    # 9-30, then the holiday, then 10-8, 10-9, Saturday 10-10 (调休), 10-12
    assert inc.screening_due == D(2026, 10, 12)
    assert not inc.screening_overdue(today=D(2026, 10, 9))
    assert inc.screening_overdue(today=D(2026, 10, 13))
