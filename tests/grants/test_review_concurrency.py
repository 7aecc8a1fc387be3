"""Twenty reviewers submitting at the same moment (PostgreSQL: real concurrent
connections): every submission counts, and closing the round while they submit never
loses one nor accepts one after it closed."""

from decimal import Decimal

import pytest
from django.db import connection

from grants.models import Assignment, AssignmentStatus, ReviewRound
from grants.services import review
from tests.grants.factories import call_in_review
from tests.grants.test_concurrency import at_once

A = AssignmentStatus
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"),
]


def _ready(rnd):
    items = list(rnd.assignments.select_related("expert__user", "round__call"))
    for a in items:
        review.declare(assignment=a, by=a.expert.user, conflict=False)
    return [Assignment.objects.select_related("expert__user", "round__call").get(pk=a.pk) for a in items]


def _points(rnd):
    return {c["key"]: Decimal(str(c["weight"])) * Decimal("0.8") for c in rnd.rubric()}


def test_twenty_reviewers_submitting_at_once_all_count(regions):
    call, proposals, experts, manager = call_in_review(4, 20, panel_size=5)
    rnd = review.draw_panels(call=call, by=manager)
    items = _ready(rnd)
    assert len(items) == 20
    points = _points(rnd)
    outcomes = at_once(
        20,
        lambda i: review.submit_scores(
            assignment=items[i], by=items[i].expert.user, points=points, comment="同意立项。"
        ),
    )
    assert all(isinstance(o, Assignment) for o in outcomes), outcomes
    assert Assignment.objects.filter(round=rnd, status=A.SUBMITTED).count() == 20
    assert set(Assignment.objects.filter(round=rnd).values_list("total", flat=True)) == {Decimal("80.00")}


def test_closing_while_reviewers_submit_keeps_one_story(regions):
    call, proposals, experts, manager = call_in_review(2, 10, panel_size=5)
    rnd = review.draw_panels(call=call, by=manager)
    items = _ready(rnd)
    points = _points(rnd)
    # one of each proposal submitted first, so the round may close
    first = {}
    for a in items:
        first.setdefault(a.proposal_id, a)
    for a in first.values():
        review.submit_scores(assignment=a, by=a.expert.user, points=points, comment="同意。")
    rest = [a for a in items if a not in first.values()]
    rest = [Assignment.objects.select_related("expert__user", "round__call").get(pk=a.pk) for a in rest]

    def work(i):
        if i == len(rest):
            return review.close_round(round=ReviewRound.objects.get(pk=rnd.pk), by=manager)
        return review.submit_scores(assignment=rest[i], by=rest[i].expert.user, points=points, comment="同意。")

    outcomes = at_once(len(rest) + 1, work)
    rnd.refresh_from_db()
    assert rnd.status == "closed"
    submitted_after = [o for o in outcomes if isinstance(o, Assignment)]
    # every submission that succeeded is stored as submitted; the refused ones changed nothing
    stored = Assignment.objects.filter(round=rnd, status=A.SUBMITTED).count()
    assert stored == 2 + len(submitted_after)
    assert not Assignment.objects.filter(round=rnd, submitted_at__gt=rnd.closed_at).exists()
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert all("不能执行" in str(o) or "刚被其他人处理" in str(o) for o in refused), refused
