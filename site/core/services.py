"""Cross-cutting actions: notifications."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .models import Notification
from .tasks import send_notification_emails


def notify(
    *, recipients: Iterable, title: str, body: str = "", url: str = "", email: bool = True
) -> list[Notification]:
    """Put a message in each recipient's inbox now; e-mail it after the surrounding
    transaction commits (so a rolled-back action never sends mail)."""
    seen, rows = set(), []
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(Notification(recipient=user, title=title[:200], body=body, url=url))
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created]  # SQLite ≥ 3.35 and PostgreSQL return the new keys
    if email and ids:
        transaction.on_commit(lambda: send_notification_emails.enqueue(ids))
    return created


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one (or, with no id, all) of the user's notifications read. Returns how many."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
