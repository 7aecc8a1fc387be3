"""The public content stamp (core.public_cache.ContentStamp) and what public pages
remember under it (`remembered`): counted up once per transaction that changes a public
row, when it commits, whether the page cache is on or off; something remembered is
computed again after a change commits (in any process: the stamp is in the database) or
when the date changes, and never remembered inside a transaction. The project list's
filter choices are remembered so, and a new project's call is offered at once."""

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import public_cache
from core.models import ContentStamp, Notification
from tests.factories import UserFactory
from tests.grants.factories import approved_call, make_call


def counter() -> int:
    return public_cache.stamp()[0]


@pytest.mark.django_db
def test_a_change_counts_the_stamp_up_once_when_its_transaction_commits(django_capture_on_commit_callbacks):
    before = counter()
    with django_capture_on_commit_callbacks(execute=True):
        make_call(title="凤凰街道2026年助老服务项目征集")  # many rows, one transaction
        assert counter() == before  # nothing committed yet: the other processes keep theirs
    assert counter() == before + 1
    assert ContentStamp.objects.get().changed_at is not None


class Computed:
    def __init__(self):
        self.times = 0

    def __call__(self):
        self.times += 1
        return {"value": self.times}


@pytest.mark.django_db(transaction=True)
def test_remembered_until_a_public_row_changes_or_the_date_does(monkeypatch):
    compute = Computed()
    first = public_cache.remembered("test", compute)
    with CaptureQueriesContext(connection) as queries:
        assert public_cache.remembered("test", compute) is first
    assert compute.times == 1 and len(queries) == 1  # the stamp, nothing else

    Notification.objects.create(recipient=UserFactory(), title="不公开的行")  # not a public model
    assert public_cache.remembered("test", compute) is first

    make_call(title="凤凰街道2026年助老服务项目征集")  # committed row by row (no transaction)
    assert public_cache.remembered("test", compute) == {"value": 2}

    ContentStamp.objects.update(counter=999)  # as another process's change would
    assert public_cache.remembered("test", compute) == {"value": 3}

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(public_cache.timezone, "localdate", lambda: tomorrow)
    assert public_cache.remembered("test", compute) == {"value": 4}
    assert public_cache.remembered("test", compute) == {"value": 4}


@pytest.mark.django_db(transaction=True)
def test_nothing_is_remembered_inside_a_transaction():
    compute = Computed()
    with transaction.atomic():
        public_cache.remembered("test", compute)
        public_cache.remembered("test", compute)
    assert compute.times == 2
    public_cache.remembered("test", compute)
    public_cache.remembered("test", compute)
    assert compute.times == 3


@pytest.mark.django_db(transaction=True)
def test_the_project_lists_choices_are_remembered_and_a_new_projects_call_is_offered_at_once(client, site_pages):
    first_call, _projects, _manager = approved_call(title="凤凰街道2026年助老服务项目征集")
    client.get("/projects/")
    with CaptureQueriesContext(connection) as cold:
        public_cache.forget()
        assert client.get("/projects/").status_code == 200
    with CaptureQueriesContext(connection) as warm:
        page = client.get("/projects/").content.decode()
    assert len(warm) <= len(cold) - 4  # the choices' five queries, for the stamp's one
    assert f'<option value="{first_call.pk}">' in page

    second_call, [second], _manager = approved_call(title="凤凰街道2026年儿童服务项目征集")
    page = client.get("/projects/").content.decode()
    assert f'<option value="{second_call.pk}">{second_call.year}年 {second_call.title}</option>' in page
    assert second.title in page
