"""专家评审 services: the draw and its replay, exclusions, recusal, scoring, closing."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.workflow import WorkflowError
from grants.draw import replay
from grants.models import Affiliation, Assignment, AssignmentStatus, PanelDraw, Proposal, ProposalStatus
from grants.services import review
from tests.grants.factories import call_in_review

A = AssignmentStatus
P = ProposalStatus
pytestmark = pytest.mark.django_db


def full_points(rnd, value="15"):
    return {c["key"]: min(Decimal(value), Decimal(str(c["weight"]))) for c in rnd.rubric()}


def test_draw_records_a_replayable_panel_per_proposal():
    call, proposals, experts, manager = call_in_review(3, 7, panel_size=5)
    rnd = review.draw_panels(call=call, by=manager, seed="fixed")
    draws = list(PanelDraw.objects.filter(round=rnd))
    assert len(draws) == 3
    for d in draws:
        assert len(d.chosen) == 5
        assert replay(d) == d.chosen
        assert sorted(a.expert_id for a in d.assignments.all()) == sorted(d.chosen)
    for p in proposals:
        p.refresh_from_db()
        assert p.status == P.UNDER_REVIEW
    # load is balanced: 15 seats over 7 experts, nobody holds more than 3
    loads = [Assignment.objects.filter(expert=e).count() for e in experts]
    assert max(loads) - min(loads) <= 1


def test_exclusions_give_their_reasons():
    call, proposals, experts, manager = call_in_review(1, 4, panel_size=3)
    org = proposals[0].organisation
    Affiliation.objects.create(expert=experts[0], organisation=org, kind="board")
    experts[1].employer = org.name
    experts[1].save()
    experts[2].available = False
    experts[2].unavailable_note = "出差"
    experts[2].save()
    rnd = review.draw_panels(call=call, by=manager)
    d = rnd.draws.get()
    reasons = {x["expert"]: x["reason"] for x in d.exclusions}
    assert reasons[experts[0].pk] == "与申报组织有关联：申报组织的理事、监事"
    assert reasons[experts[1].pk] == "与申报组织同一工作单位"
    assert reasons[experts[2].pk] == "暂停评审：出差"
    assert d.chosen == [experts[3].pk]


def test_conflict_recuses_and_draws_a_replacement():
    call, proposals, experts, manager = call_in_review(1, 4, panel_size=3)
    rnd = review.draw_panels(call=call, by=manager)
    a = rnd.assignments.first()
    user = a.expert.user
    new = review.declare(assignment=a, by=user, conflict=True, kind="relative", note="配偶在该机构")
    a.refresh_from_db()
    assert a.status == A.RECUSED
    assert new is not None and new.expert_id not in {a.expert_id}
    assert new.draw.replaces_id == a.pk
    assert replay(new.draw) == [new.expert_id]


def test_only_the_expert_declares_and_scores():
    call, proposals, experts, manager = call_in_review(1, 3, panel_size=2)
    rnd = review.draw_panels(call=call, by=manager)
    a = rnd.assignments.first()
    with pytest.raises(PermissionDenied):
        review.declare(assignment=a, by=manager, conflict=False)
    review.declare(assignment=a, by=a.expert.user, conflict=False)
    with pytest.raises(ValidationError) as e:
        review.submit_scores(assignment=a, by=a.expert.user, points={"needs": "25"}, comment="好")
    assert "“需求调研”的得分须在0到20分之间。" in str(e.value)
    a.refresh_from_db()
    assert a.status == A.SCORING
    review.submit_scores(assignment=a, by=a.expert.user, points=full_points(rnd), comment="需求扎实。")
    a.refresh_from_db()
    assert a.status == A.SUBMITTED and a.total == Decimal("75.00")


def test_close_round_needs_a_score_per_proposal():
    call, proposals, experts, manager = call_in_review(1, 3, panel_size=2)
    rnd = review.draw_panels(call=call, by=manager)
    with pytest.raises(WorkflowError):
        review.close_round(round=rnd, by=manager)


def score_all(rnd, totals_by_expert=None):
    """Every expert declares no conflict and submits; points scaled so each expert's total
    is totals_by_expert.get(expert_id, 80)."""
    for a in rnd.assignments.select_related("expert__user").filter(status=A.ASSIGNED):
        review.declare(assignment=a, by=a.expert.user, conflict=False)
        a.refresh_from_db()
        target = Decimal(str((totals_by_expert or {}).get(a.expert_id, 80)))
        points = {c["key"]: (Decimal(str(c["weight"])) * target / 100).quantize(Decimal("0.1")) for c in rnd.rubric()}
        review.submit_scores(assignment=a, by=a.expert.user, points=points, comment="设计合理，需求清楚。")


def test_whole_review_to_approval():
    import datetime

    from django.utils import timezone

    from grants.models import CallStatus, Publicity
    from grants.services import award

    call, proposals, experts, manager = call_in_review(3, 5, panel_size=3, pool_total=Decimal("150000"))
    rnd = review.draw_panels(call=call, by=manager)
    score_all(rnd)
    review.close_round(round=rnd, by=manager)
    for p in proposals:
        p.refresh_from_db()
        assert p.status == P.REVIEWED and p.rank is not None and p.score == Decimal("80.00")
    publicity = award.publish_shortlist(call=call, by=manager)
    call.refresh_from_db()
    assert call.status == CallStatus.PUBLICISING
    assert len(publicity.rows) == 2  # 60,000 each: the pool of 150,000 funds two
    with pytest.raises(WorkflowError):
        award.approve_call(call=call, by=manager)
    Publicity.objects.filter(pk=publicity.pk).update(closes_on=timezone.localdate() - datetime.timedelta(days=1))
    award.approve_call(call=call, by=manager)
    statuses = sorted(Proposal_status(p) for p in proposals)
    assert statuses == [P.APPROVED, P.APPROVED, P.NOT_FUNDED]


def Proposal_status(p):
    p.refresh_from_db()
    return p.status


def test_applicant_reads_the_result_and_anonymised_comments(client):
    import datetime

    from django.utils import timezone

    from core.models import Notification
    from grants.models import Publicity
    from grants.services import award

    call, proposals, experts, manager = call_in_review(3, 5, panel_size=3, pool_total=Decimal("100000"))
    rnd = review.draw_panels(call=call, by=manager)
    score_all(rnd)
    review.close_round(round=rnd, by=manager)
    publicity = award.publish_shortlist(call=call, by=manager)
    Publicity.objects.filter(pk=publicity.pk).update(closes_on=timezone.localdate() - datetime.timedelta(days=1))
    award.approve_call(call=call, by=manager)
    loser = next(p for p in proposals if Proposal_status(p) == P.NOT_FUNDED)
    leader = loser.organisation.memberships.get().user
    client.force_login(leader)
    html = client.get(f"/me/proposals/{loser.pk}/").content.decode()
    assert "评审结果" in html and "未获立项" in html and "排名" in html
    assert "评委1" in html and "设计合理，需求清楚。" in html
    for e in experts:
        assert e.name not in html
    note = Notification.objects.filter(recipient=leader, title__startswith="评审结果").get()
    assert "评委1：设计合理，需求清楚。" in note.body and "排名第" in note.body


def test_pitch_combines_by_the_call_weight_and_only_pitched_proposals_are_funded():
    import datetime

    from django.utils import timezone

    from grants.models import ReviewRound, Stage
    from grants.services import award
    from tests.grants.factories import timeline

    dates = timeline("open")
    call, proposals, experts, manager = call_in_review(
        3, 6, panel_size=3, has_pitch=True, pitch_weight=Decimal("40"), pitch_on=dates["review_until"]
    )
    rnd = review.draw_panels(call=call, by=manager)
    ids = [p.pk for p in proposals]
    # review totals 90 / 80 / 70 by proposal
    target = dict(zip(ids, (90, 80, 70), strict=False))
    for a in rnd.assignments.select_related("expert__user"):
        review.declare(assignment=a, by=a.expert.user, conflict=False)
        a.refresh_from_db()
        t = Decimal(target[a.proposal_id])
        review.submit_scores(
            assignment=a,
            by=a.expert.user,
            points={c["key"]: (Decimal(str(c["weight"])) * t / 100).quantize(Decimal("0.1")) for c in rnd.rubric()},
            comment="好",
        )
    review.close_round(round=rnd, by=manager)
    starts = timezone.now() + datetime.timedelta(days=1)
    award.call_schedule_pitch(
        call=call, by=manager, count=2, starts_at=starts, minutes=20, place="市民之家三楼", panel_size=3
    )
    pitch = ReviewRound.objects.get(call=call, stage=Stage.PITCH)
    pitched = list(Proposal.objects.filter(call=call, pitch_at__isnull=False).order_by("pitch_at"))
    assert [p.pk for p in pitched] == ids[:2]
    assert pitched[1].pitch_at - pitched[0].pitch_at == datetime.timedelta(minutes=20)
    # pitch totals: the second-ranked proposal pitches best (100 vs 50)
    pitch_target = {ids[0]: 50, ids[1]: 100}
    for a in pitch.assignments.select_related("expert__user"):
        review.declare(assignment=a, by=a.expert.user, conflict=False)
        a.refresh_from_db()
        t = Decimal(pitch_target[a.proposal_id])
        review.submit_scores(
            assignment=a,
            by=a.expert.user,
            points={c["key"]: (Decimal(str(c["weight"])) * t / 100).quantize(Decimal("0.1")) for c in pitch.rubric()},
            comment="路演清楚",
        )
    review.close_round(round=pitch, by=manager)
    first, second, third = (Proposal.objects.get(pk=i) for i in ids)
    assert (first.score, second.score) == (Decimal("74.00"), Decimal("88.00"))  # 90×0.6+50×0.4, 80×0.6+100×0.4
    assert second.rank == 1 and first.rank == 2
    assert first.status == second.status == P.PITCHED and third.status == P.REVIEWED
    publicity = award.publish_shortlist(call=call, by=manager)
    assert {r["proposal"] for r in publicity.rows} == {ids[0], ids[1]}
    assert Proposal_status(third) == P.REVIEWED


def test_an_upheld_objection_removes_the_proposal_at_approval_and_pending_ones_block_it():
    import datetime

    from django.utils import timezone

    from grants.models import Publicity
    from grants.services import award
    from grants.services import publicity as publicity_services

    call, proposals, experts, manager = call_in_review(2, 4, panel_size=2)
    rnd = review.draw_panels(call=call, by=manager)
    score_all(rnd)
    review.close_round(round=rnd, by=manager)
    pub = award.publish_shortlist(call=call, by=manager)
    target = proposals[0]
    objection = publicity_services.file_objection(
        publicity=pub,
        name="李女士",
        contact="13812345678",
        reason="该组织同一批活动已获得区里另一笔资助，属于重复申报。",
        proposal=target,
        client="tester",
    )
    Publicity.objects.filter(pk=pub.pk).update(closes_on=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(WorkflowError, match="还有1件异议未处理"):
        award.approve_call(call=call, by=manager)
    objection.refresh_from_db()
    publicity_services.objection_uphold(objection=objection, by=manager, reason="经核实，属重复申报。")
    award.approve_call(call=call, by=manager)
    target.refresh_from_db()
    assert target.status == P.NOT_FUNDED
    assert target.status_reason == "公示期异议成立：经核实，属重复申报。"
    assert Proposal_status(proposals[1]) == P.APPROVED
    result = Publicity.objects.get(call=call, kind="result")
    assert [r["proposal"] for r in result.rows] == [proposals[1].pk]
    from django_fsm_log.models import StateLog

    assert StateLog.objects.filter(object_id=target.pk, transition="decline", description__contains="异议成立").exists()
