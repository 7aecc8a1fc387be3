"""Working days as Chinese offices count them: weekends off, public holidays off, and the
swapped weekend working days (调休) on — from the chinese-calendar package for the years
it covers, weekends only beyond them."""

import datetime
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=4096)  # a day's answer never changes; bulk data asks about the same days often
def is_workday(day: datetime.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the package has no data for yet
        return day.weekday() < 5


def add_workdays(start: datetime.date, days: int) -> datetime.date:
    """The date `days` working days after `start` (start itself not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return day


def workdays_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    count, day = 0, start
    while day < end:
        day += datetime.timedelta(days=1)
        count += is_workday(day)
    return count
