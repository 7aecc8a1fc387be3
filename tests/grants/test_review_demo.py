"""The review demo (grants.demo.seed_review, seed_demo's step after the grants one): an expert
pool with a paused expert, declared affiliations and an employer among the demo's
organisations; a blind call being scored, one pitching today, one in 公示 with objections,
one decided; draws whose exclusions say why, a recusal and its replacement, scores that
disagree, a harsh and a lenient reviewer. One seed_demo for the module (it is slow); a
second one changes nothing."""

import datetime
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from core.models import Notification
from grants.demo import DEMO_REVIEWER, REVIEW_CALLS
from grants.draw import replay
from grants.models import (
    FUNDED_STATES,
    Assignment,
    AssignmentStatus,
    Call,
    ExpertProfile,
    ObjectionStatus,
    PanelDraw,
    Proposal,
    ProposalStatus,
    PublicityKind,
    RoundStatus,
    Stage,
)
from grants.selectors.review import call_ranking

A, P = AssignmentStatus, ProposalStatus
pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """seed_demo once for the module, rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _seed()
        transaction.set_rollback(True)


def _call(prefix: str) -> Call:
    """The review demo's call of that region (the grants demo has its own calls beside them)."""
    titles = [c.title_on(timezone.localdate()) for c in REVIEW_CALLS]
    return Call.objects.get(title__startswith=prefix, title__in=titles)


@pytest.fixture
def calls(demo):
    return {
        "blind": _call("鄂城区"),
        "pitch": _call("鄂州市"),
        "publicity": _call("华容区"),
        "decided": _call("梁子湖区"),
    }


def test_the_four_calls_stand_where_the_plan_says(calls):
    today = timezone.localdate()
    blind, pitch, publicity, decided = calls["blind"], calls["pitch"], calls["publicity"], calls["decided"]
    assert (blind.status, blind.blind_review, blind.exclude_local_experts) == ("reviewing", True, True)
    assert blind.review_from <= today <= blind.review_until
    assert (pitch.status, pitch.has_pitch, pitch.pitch_on) == ("reviewing", True, today)
    assert publicity.status == "publicising" and decided.status == "decided"
    assert decided.implement_from <= today <= decided.implement_until  # decided a year ago, under way

    # 评审中: about half the scores in, drafts beside them, the rest not yet opened
    statuses = defaultdict(int)
    for a in Assignment.objects.filter(round__call=blind):
        statuses[a.status] += 1
        if a.status == A.SCORING and a.points:
            statuses["draft"] += 1
    active = sum(n for s, n in statuses.items() if s in (A.ASSIGNED, A.SCORING, A.SUBMITTED))
    assert 0.35 <= statuses[A.SUBMITTED] / active <= 0.65, statuses
    assert statuses["draft"] >= 3 and statuses[A.ASSIGNED] >= 3 and statuses[A.RECUSED] == 1
    assert set(Proposal.objects.filter(call=blind).values_list("status", flat=True)) == {P.UNDER_REVIEW}
    assert blind.rounds.get().status == RoundStatus.OPEN

    # 路演答辩: the review closed and ranked, four pitching today, their scores partly in
    review, pitching = pitch.rounds.get(stage=Stage.REVIEW), pitch.rounds.get(stage=Stage.PITCH)
    assert review.status == RoundStatus.CLOSED and pitching.status == RoundStatus.OPEN
    slots = Proposal.objects.filter(call=pitch, pitch_at__isnull=False)
    assert slots.count() == 4 and {timezone.localdate(p.pitch_at) for p in slots} == {today}
    assert all(p.pitch_place for p in slots)
    pitch_done = pitching.assignments.filter(status=A.SUBMITTED).count()
    assert 0 < pitch_done < pitching.assignments.count()
    assert set(Proposal.objects.filter(call=pitch).values_list("status", flat=True)) == {P.REVIEWED}

    # 立项公示中: the window open today, one objection handled and one waiting
    shortlist = publicity.publicities.get(kind=PublicityKind.SHORTLIST)
    assert shortlist.opens_on == today - datetime.timedelta(days=2) and shortlist.accepts_objections(today)
    assert shortlist.page.live  # its public page under 公示公告
    objections = {o.status: o for o in shortlist.objections.all()}
    assert set(objections) == {ObjectionStatus.RECEIVED, ObjectionStatus.DISMISSED}
    handled = objections[ObjectionStatus.DISMISSED]
    assert handled.handling and handled.handled_by.username == "shi_minzheng" and handled.proposal
    listed = {r["proposal"] for r in shortlist.rows}
    assert set(Proposal.objects.filter(call=publicity, status=P.PUBLICISED).values_list("pk", flat=True)) == listed
    assert Proposal.objects.filter(call=publicity, status=P.REVIEWED).exists()  # not on the list

    # 已批复立项: the result published, an upheld objection removed its project, every applicant told
    assert decided.publicities.filter(kind=PublicityKind.RESULT).exists()
    upheld = decided.publicities.get(kind=PublicityKind.SHORTLIST).objections.get()
    assert upheld.status == ObjectionStatus.UPHELD
    removed = upheld.proposal
    assert removed.status == P.NOT_FUNDED and removed.status_reason.startswith("公示期异议成立")
    # approved, and (the demo's funding step) taken on to their agreements and beyond
    approved = Proposal.objects.filter(call=decided, status__in=(P.APPROVED, *FUNDED_STATES))
    assert approved.exists() and sum(p.awarded_amount for p in approved) <= decided.pool_total
    for p in Proposal.objects.filter(call=decided, status=P.NOT_FUNDED).select_related("organisation"):
        leader = p.organisation.memberships.get(role="leader").user
        note = Notification.objects.get(recipient=leader, title=f"评审结果：{p.title}")
        assert "未获立项" in note.body and "评委" in note.body  # with the anonymised comments
    # every status by the services: the history ends where the proposal stands
    for call in calls.values():
        for p in Proposal.objects.filter(call=call):
            assert StateLog.objects.for_(p).order_by("timestamp", "pk").last().state == p.status, p


def test_the_pool_and_the_draws_say_who_was_left_out_and_why(calls):
    experts = {e.name: e for e in ExpertProfile.objects.select_related("user")}
    assert len(experts) == 12 and sum(not e.available for e in experts.values()) == 1
    assert experts["刘文华"].user.username == DEMO_REVIEWER  # the demo's reviewer account, made an expert
    assert experts["陈立新"].affiliations.get().organisation.email == "org15@example.org"
    assert experts["杨帆"].employer == "鄂州市凤凰街道夕阳红居家养老服务中心"

    reasons = [x["reason"] for d in PanelDraw.objects.filter(round__call=calls["blind"]) for x in d.exclusions]
    assert "与申报组织有关联：申报组织的理事、监事" in reasons
    assert "与申报组织有关联：申报组织的有偿顾问" in reasons
    assert "与申报组织同一工作单位" in reasons
    assert "与申报组织同在凤凰街道（本地专家回避）" in reasons
    assert any(r.startswith("暂停评审：") for r in reasons)
    # the recusal: a conflict declared on opening, the replacement drawn and recorded
    recused = Assignment.objects.get(round__call=calls["blind"], status=A.RECUSED)
    assert recused.conflict_kind == "other" and recused.conflict_note
    replacement = PanelDraw.objects.get(replaces=recused)
    assert replacement.reason.endswith("声明利益冲突后自动替补") and len(replacement.chosen) == 1
    assert Assignment.objects.filter(draw=replacement, status=A.ASSIGNED).exists()
    # an auditor replays every draw of the demo and gets the same panel
    for d in PanelDraw.objects.filter(round__call__in=calls.values()):
        assert replay(d) == d.chosen, d


def test_scores_disagree_somewhere_with_a_harsh_and_a_lenient_reviewer(calls):
    flagged = Proposal.objects.get(call=calls["publicity"], title="暖冬·段店社区困难家庭微心愿")
    assert flagged.spread_flagged
    row = call_ranking(calls["publicity"]).ranking.row(flagged.pk)
    assert row.flagged and row.spread > calls["publicity"].spread_limit
    # how far each expert's totals sit from the rest of the panel on the same proposals
    totals = defaultdict(dict)
    for a in Assignment.objects.filter(status=A.SUBMITTED, round__stage=Stage.REVIEW).select_related("expert__user"):
        totals[a.proposal_id][a.expert.name] = a.total
    offsets = defaultdict(list)
    for panel in totals.values():
        for name, total in panel.items():
            others = [t for n, t in panel.items() if n != name]
            if others:
                offsets[name].append(total - sum(others) / len(others))
    lean = {name: sum(v) / len(v) for name, v in offsets.items()}
    assert lean["王秀兰"] < Decimal("-5") and lean["孙浩"] > Decimal("4"), lean


def test_the_reviewer_login_has_blind_work_waiting(calls, demo, client):
    assert f"{DEMO_REVIEWER}" in demo and "待评分" in demo and "匿名评审" in demo
    assert "专家评审：征集 4 个" in demo and "公示异议 3 件" in demo
    reviewer = User.objects.get(username=DEMO_REVIEWER)
    assert reviewer.check_password(DEMO_PASSWORD)  # the password the command prints
    client.force_login(reviewer)
    html = client.get("/admin/grants/reviews/").content.decode()
    blind = calls["blind"]
    mine = Assignment.objects.filter(round__call=blind, expert__user__username=DEMO_REVIEWER)
    assert mine.filter(status=A.ASSIGNED).exists() and mine.filter(status=A.SCORING).exists()
    for a in mine.select_related("proposal__organisation"):
        assert a.proposal.number in html
        assert a.proposal.organisation.name not in html  # a blind call names no applicant


def test_a_second_seed_demo_changes_nothing(demo):
    def counts():
        models = list(apps.get_app_config("grants").get_models()) + [StateLog, Notification]
        return {m._meta.label: m.objects.count() for m in models}

    first = counts()
    _seed()
    assert counts() == first
    assert Call.objects.filter(title__in=[c.title_on(timezone.localdate()) for c in REVIEW_CALLS]).count() == 4
