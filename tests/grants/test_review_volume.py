"""`seed_volume`'s review step (grants/volume/reviews.py): the calls under review or past it get
an expert pool, panels and scores shaped as the review services leave them, statuses by
legal paths with their audit rows, the ranking store_ranking would store and, in past calls,
an award list within the pool; a top-up reviews only what is new; the reviewer's queue and
the ranking page cost the same queries at two volumes."""

from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django_fsm_log.models import StateLog

from accounts.models import Region
from accounts.roles import Role
from grants import ranking as rk
from grants.models import (
    FUNDED_STATES,
    Assignment,
    AssignmentStatus,
    Call,
    ExpertProfile,
    Proposal,
    ProposalStatus,
    ReviewRound,
    RoundStatus,
)
from grants.selectors.review import call_ranking
from grants.services.award import decline_reason, store_ranking
from grants.volume import VOLUME_SUMMARY, seed_volume
from grants.volume.calls import CONTEST
from grants.volume.reviews import EXPERT_LOAD, volume_experts
from tests.factories import staff
from tests.queries import page_queries

A, P = AssignmentStatus, ProposalStatus
pytestmark = pytest.mark.django_db
FUNDED = (P.APPROVED, *FUNDED_STATES)  # approved, and on through the funding (grants/volume/funding.py)
LATER = (P.UNDER_REVIEW, P.REVIEWED, P.NOT_FUNDED, *FUNDED)


def _volume_calls():
    return Call.objects.filter(summary=VOLUME_SUMMARY)


def _chain(obj) -> list:
    logs = list(StateLog.objects.for_(obj).order_by("timestamp", "pk"))
    assert all(a.state == b.source_state for a, b in zip(logs, logs[1:], strict=False)), obj
    return logs


def test_the_calls_under_review_or_past_it_are_reviewed_by_legal_paths():
    seed_volume(400)
    calls = _volume_calls()
    contest = calls.get(title__contains=CONTEST)
    assert contest.status == "reviewing" and contest.rounds.get().status == RoundStatus.CLOSED
    assert contest.proposals.count() >= 80  # a quarter of the volume, as organisations allow
    # nobody past the eligibility check is left without a panel where the review has begun
    begun = calls.filter(status__in=("reviewing", "finished"))
    assert not Proposal.objects.filter(call__in=begun, status=P.ELIGIBLE).exists()
    by_stage = defaultdict(set)
    for status, call_status, title in Proposal.objects.filter(call__in=begun, status__in=LATER).values_list(
        "status", "call__status", "call__title"
    ):
        by_stage["contest" if CONTEST in title else call_status].add(status)
    finished = by_stage.pop("finished")
    assert by_stage == {"contest": {P.REVIEWED}, "reviewing": {P.UNDER_REVIEW}}
    assert {P.NOT_FUNDED, P.CLOSED} <= finished <= {P.NOT_FUNDED, *FUNDED}

    experts = volume_experts()
    assert experts.count() >= 40
    assert all(e.user.groups.filter(name="评审专家").exists() for e in experts.select_related("user")[:5])
    load = Assignment.objects.values("round", "expert").annotate(n=Count("pk")).order_by("-n").first()
    assert load["n"] <= EXPERT_LOAD

    for rnd in ReviewRound.objects.filter(call__in=begun).select_related("call"):
        call, weights = rnd.call, {c["key"]: Decimal(str(c["weight"])) for c in rnd.call.rubric}
        panels = defaultdict(Counter)
        for a in rnd.assignments.select_related("expert__user"):
            panels[a.proposal_id][a.status] += 1
            if a.status == A.SUBMITTED:
                points = a.points_decimal()
                assert set(points) == set(weights) and all(0 <= points[k] <= weights[k] for k in points), a
                assert a.total == sum(points.values()) and a.comment and a.declared_at <= a.submitted_at
            elif a.status == A.SCORING:
                assert a.total is None and set(a.points) < set(weights)
            elif a.status == A.RECUSED:
                assert a.conflict_kind and a.declared_at
        for counts in panels.values():
            if rnd.status == RoundStatus.CLOSED:
                assert counts[A.SUBMITTED] == call.panel_size and counts[A.RECUSED] <= 1, counts
            else:
                assert sum(counts.values()) - counts[A.RECUSED] == call.panel_size, counts

    # the audit rows: every proposal's path ends where it stands; an assignment's steps by its expert
    for p in Proposal.objects.filter(call__in=begun, status__in=LATER).order_by("?")[:60]:
        logs = _chain(p)
        assert logs[-1].state == p.status and "begin_review" in [log.transition for log in logs], p
    for a in Assignment.objects.filter(status=A.SUBMITTED).select_related("expert").order_by("?")[:60]:
        logs = _chain(a)
        assert [(log.transition, log.by_id) for log in logs] == [
            ("declare_none", a.expert.user_id),
            ("submit", a.expert.user_id),
        ]
        assert (logs[0].timestamp, logs[1].timestamp) == (a.declared_at, a.submitted_at)
    for rnd in ReviewRound.objects.filter(status=RoundStatus.CLOSED):
        assert _chain(rnd)[-1].transition == "close"


def test_stored_ranking_and_award_are_what_the_services_give():
    seed_volume(300)
    for call in _volume_calls().filter(status__in=("reviewing", "finished")).exclude(rounds=None).order_by("pk")[:12]:
        stored = dict(call.proposals.exclude(rank=None).values_list("pk", "score"))
        ranking = store_ranking(call)  # the service writes what the volume wrote
        assert dict(call.proposals.exclude(rank=None).values_list("pk", "score")) == stored
        assert {r.proposal for r in ranking.rows} == set(stored)
        if call.status != "finished":
            continue
        approved = call.proposals.filter(status__in=FUNDED)
        assert (approved.aggregate(s=Sum("awarded_amount"))["s"] or 0) <= call.pool_total
        result = call_ranking(call)
        award = rk.award_list(
            result.ranking,
            result.proposals,
            pool=call.pool_total,
            min_score=call.min_fundable_score,
            skip_to_cheaper=call.fund_cheaper_after_skip,
        )
        assert {r.proposal: r.awarded for r in award.rows if r.funded} == dict(
            approved.values_list("pk", "awarded_amount")
        )
        assert not call.proposals.filter(status__in=FUNDED, decided_at=None).exists()
        for p in call.proposals.filter(status=P.NOT_FUNDED):  # with the reason approve_call would give
            assert p.status_reason == decline_reason(call, p.score, p.rank, None), p


def test_a_top_up_reviews_only_what_is_new():
    seed_volume(200)
    before = dict(Assignment.objects.values_list("pk", "status"))
    experts = ExpertProfile.objects.count()
    seed_volume(200)
    assert dict(Assignment.objects.values_list("pk", "status")) == before  # the same N adds nothing
    seed_volume(320)
    assert {pk: s for pk, s in Assignment.objects.values_list("pk", "status") if pk in before} == before
    assert Assignment.objects.count() > len(before) and ExpertProfile.objects.count() >= experts
    begun = _volume_calls().filter(status__in=("reviewing", "finished"))
    assert not Proposal.objects.filter(call__in=begun, status=P.ELIGIBLE).exists()
    assert not Assignment.objects.values("round", "proposal", "expert").annotate(n=Count("pk")).filter(n__gt=1)


def test_the_queue_and_the_ranking_cost_the_same_queries_at_two_volumes(client):
    def costs():
        contest = _volume_calls().get(title__contains=CONTEST)
        busiest = (
            Assignment.objects.filter(round__call=contest)
            .values("expert__user")
            .annotate(n=Count("pk"))
            .order_by("-n", "expert__user")
            .first()["expert__user"]
        )
        reviewer = ExpertProfile.objects.get(user_id=busiest).user
        client.force_login(reviewer)
        queue = [
            page_queries(client, url) for url in ("/admin/grants/reviews/", f"/admin/grants/reviews/?call={contest.pk}")
        ]
        client.force_login(manager)
        call = f"/admin/grants/calls/{contest.pk}"
        return queue + [page_queries(client, f"{call}/{page}/") for page in ("ranking", "award", "review")]

    seed_volume(150)
    manager = staff(Role.CALL_MANAGER, Region.objects.get(level=Region.Level.CITY))
    small = costs()
    seed_volume(900)
    assert costs() == small
    assert max(small) <= 15, small
