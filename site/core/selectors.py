from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog

from .models import Notification


def notifications_for(user):
    return Notification.objects.filter(recipient=user)


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def history_for(obj):
    """The audit trail of one object: every transition with who, when, from, to and why,
    oldest first, in one query."""
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return StateLog.objects.filter(content_type=ct, object_id=obj.pk).select_related("by").order_by("timestamp", "pk")
