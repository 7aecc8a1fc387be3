import pytest
from django.core import mail
from django.urls import reverse

from core.models import Notification
from core.services import notify
from tests.factories import UserFactory


@pytest.mark.django_db
def test_notify_fills_the_inbox_and_emails_after_commit(django_capture_on_commit_callbacks):
    a, b = UserFactory(name="甲"), UserFactory(name="乙", email="")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(recipients=[a, b, a], title="审核结果", body="已通过。", url="/me/")
        assert len(mail.outbox) == 0  # nothing is sent before the commit
    assert len(callbacks) == 1
    assert Notification.objects.filter(recipient=a).count() == 1  # duplicates collapse
    assert Notification.objects.filter(recipient=b).count() == 1
    assert len(mail.outbox) == 1  # b has no e-mail address
    message = mail.outbox[0]
    assert message.to == [a.email]
    assert "审核结果" in message.subject and "已通过。" in message.body and "/me/" in message.body
    assert Notification.objects.get(recipient=a).emailed_at is not None


@pytest.mark.django_db
def test_rolled_back_action_sends_nothing(django_capture_on_commit_callbacks):
    from django.db import transaction

    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify(recipients=[user], title="不会发送")
                raise RuntimeError("action failed")
        except RuntimeError:
            pass
    assert Notification.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_unread_badge_inbox_and_mark_read(client, site_pages):
    user = UserFactory()
    other = UserFactory()
    notify(recipients=[user], title="第一条", email=False)
    notify(recipients=[user], title="第二条", email=False)
    notify(recipients=[other], title="别人的通知", email=False)
    client.force_login(user)
    home = client.get("/").content.decode()
    assert 'title="未读通知">2<' in home
    inbox = client.get(reverse("core:notifications")).content.decode()
    assert "第一条" in inbox and "第二条" in inbox and "别人的通知" not in inbox
    first = Notification.objects.get(title="第一条")
    client.post(reverse("core:notification_read", args=[first.pk]))
    assert Notification.objects.get(pk=first.pk).read_at is not None
    assert 'title="未读通知">1<' in client.get("/").content.decode()
    # someone else's notification cannot be marked
    theirs = Notification.objects.get(title="别人的通知")
    client.post(reverse("core:notification_read", args=[theirs.pk]))
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    client.post(reverse("core:notifications_read_all"))
    assert 'title="未读通知"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_inbox_needs_login(client):
    assert client.get(reverse("core:notifications")).status_code == 302
