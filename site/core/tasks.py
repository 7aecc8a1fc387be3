from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django_tasks import task


@task()
def send_notification_emails(notification_ids: list[int]) -> int:
    """E-mail each notification once (emailed_at guards against a retried task)."""
    from .models import Notification

    sent = 0
    pending = Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related("recipient")
    for n in pending:
        if not n.recipient.email:
            continue
        link = f"\n\n查看详情：{settings.WAGTAILADMIN_BASE_URL}{n.url}" if n.url else ""
        send_mail(
            subject=f"【{settings.WAGTAIL_SITE_NAME}】{n.title}",
            message=f"{n.recipient.get_full_name()}，您好：\n\n{n.body}{link}\n\n（本邮件由系统自动发送，请勿回复）",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[n.recipient.email],
        )
        Notification.objects.filter(pk=n.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent
