"""Background work of grants (django-tasks). `grants_daily` runs once a day (the
management command of the same name, for cron or a systemd timer, or enqueued): calls
follow their timelines (`advance_calls`) and proposals whose correction deadline passed
become ineligible (`expire_corrections`); tranches whose evaluation has passed get their
date and planned tranches whose date has come fall due (grants.services.tranches)."""

import datetime

from django.utils import timezone
from django_tasks import task


def run_daily(today: datetime.date | None = None) -> dict:
    """The day's work; returns what was done, for the log."""
    from .services.calls import advance_calls
    from .services.checks import expire_corrections
    from .services.tranches import run_daily as tranches_daily

    today = today or timezone.localdate()
    moved = advance_calls(today)
    expired = expire_corrections(today)
    return {
        "date": today.isoformat(),
        "calls_moved": [[call.pk, before, after] for call, before, after in moved],
        "corrections_expired": expired,
        **tranches_daily(today),  # 拨付: gated tranches get their date, planned ones fall due
    }


@task()
def grants_daily(day: str | None = None) -> dict:
    """`day` as YYYY-MM-DD (default today): a task's arguments must be JSON."""
    return run_daily(datetime.date.fromisoformat(day) if day else None)
