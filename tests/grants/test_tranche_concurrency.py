"""Releasing a tranche from many sessions at the same moment (PostgreSQL: real concurrent
connections): it is paid once, every other session is told when and under which voucher,
and the project's released sum never exceeds its award."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.workflow import WorkflowError
from grants.models import Tranche, TrancheStatus
from grants.services import tranche_release
from tests.factories import staff
from tests.grants.test_concurrency import at_once
from tests.grants.test_tranches import signed

T = TrancheStatus
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"),
]


def test_ten_sessions_releasing_the_same_tranche_pay_it_once(regions):
    p, _, finance = signed()
    first = Tranche.objects.filter(proposal=p).order_by("position").first()
    clerks = [finance, *(staff(Role.FINANCE, p.call.region, name=f"财务{i}") for i in range(9))]

    def release(i):
        # each session its own copy, loaded before any of them has paid
        return tranche_release(
            tranche=Tranche.objects.get(pk=first.pk),
            by=clerks[i],
            paid_on=timezone.localdate(),
            voucher_no=f"记-{i:02d}",
        )

    outcomes = at_once(10, release)

    paid = [o for o in outcomes if isinstance(o, Tranche)]
    refused = [o for o in outcomes if not isinstance(o, Tranche)]
    assert len(paid) == 1 and len(refused) == 9, outcomes
    assert all(isinstance(o, WorkflowError) and "无需重复办理" in o.message for o in refused), refused
    winner = Tranche.objects.get(pk=first.pk)
    assert winner.status == T.RELEASED and winner.voucher_no == paid[0].voucher_no
    assert all(winner.voucher_no in o.message for o in refused)
    assert StateLog.objects.for_(winner).filter(transition="release").count() == 1
    released = Tranche.objects.filter(proposal=p, status=T.RELEASED).aggregate(s=Sum("amount"))["s"]
    assert released == first.amount <= p.awarded_amount


def test_two_tranches_released_at_once_never_pay_more_than_the_award(regions):
    """A plan of two tranches both paid on signing, the award cut after planning below
    their total: released at the same moment from many sessions, the project's row lock
    lets one through and refuses the other (its sum would pass the award)."""
    plan = [{"name": "首期", "percent": 50, "gate": "signed"}, {"name": "二期", "percent": 50, "gate": "signed"}]
    p, _, finance = signed(tranche_plan=plan)
    rows = list(Tranche.objects.filter(proposal=p).order_by("position"))
    assert len(rows) == 2
    type(p).objects.filter(pk=p.pk).update(awarded_amount=rows[0].amount + Decimal("1.00"))

    def release(i):
        t = rows[i % 2]
        return tranche_release(
            tranche=Tranche.objects.get(pk=t.pk), by=finance, paid_on=timezone.localdate(), voucher_no=f"记-{i}"
        )

    outcomes = at_once(8, release)
    assert sum(isinstance(o, Tranche) for o in outcomes) == 1, outcomes
    messages = " ".join(getattr(o, "message", "") for o in outcomes)
    assert "将超过资助金额" in messages and "无需重复办理" in messages
    released = Tranche.objects.filter(proposal=p, status=T.RELEASED).aggregate(s=Sum("amount"))["s"]
    assert released <= type(p).objects.get(pk=p.pk).awarded_amount
