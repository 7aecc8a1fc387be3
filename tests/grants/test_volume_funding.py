"""`seed_volume`'s money and outcomes (grants/volume/funding.py): every approved project of a
call past its decision has what the funding services leave — its agreement, tranches
summing to the award and paid only through their gates, progress reports, mid-term and
final evaluations scored on the call's rubric, closure or termination with the money
accounted for — with every funding stage present, legal audit paths, and a top-up that
adds nothing twice."""

from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role, role_group
from core.workdays import add_workdays
from grants.models import (
    FUNDED_STATES,
    Agreement,
    Call,
    Evaluation,
    ProgressReport,
    Proposal,
    ProposalStatus,
    Tranche,
)
from grants.selectors.reports import reported_spending
from grants.services.agreements import agreement_period, agreement_placeholders, fill_template
from grants.services.evaluations import compute_total, grade_for, rubric_of
from grants.services.tranches import DUE_WORKDAYS, split_award
from grants.volume import VOLUME_SUMMARY, seed_volume

P = ProposalStatus
pytestmark = pytest.mark.django_db
ZERO = Decimal("0.00")


def _chain(obj) -> list:
    logs = list(StateLog.objects.for_(obj).order_by("timestamp", "pk"))
    assert logs and logs[0].transition == "create", obj
    moves = [log for log in logs if log.source_state != log.state or log.transition == "create"]
    assert all(a.state == b.source_state for a, b in zip(moves, moves[1:], strict=False)), (obj, logs)
    return logs


def _points_sum(evaluation) -> Decimal:
    return sum((Decimal(v) for v in evaluation.points.values()), Decimal(0))


def test_money_and_evaluations_are_what_the_services_leave_at_every_stage():
    from cms.setup import ensure_site

    ensure_site()  # the 公示公告 section, where the results 公示 get their pages
    out = seed_volume(2000)
    assert out["seconds"]["funding"] < 30
    today = timezone.localdate()
    calls = Call.objects.filter(summary=VOLUME_SUMMARY)
    funded = Proposal.objects.filter(call__in=calls, status__in=FUNDED_STATES)
    statuses = Counter(dict(funded.values_list("status").annotate(n=Count("pk")).order_by()))
    # every stage of a funded project, over the years and levels
    assert set(statuses) >= {P.IN_PROGRESS, P.SUSPENDED, P.MID_TERM_PASSED, P.FINAL_EVALUATED, P.CLOSED, P.TERMINATED}
    assert P.AGREEMENT_SIGNED not in statuses  # signing starts the project in the same breath
    # written in bulk, yet in 资助项目's search: a word of a funded title finds it
    from grants.selectors.public import filtered_projects

    some = funded.order_by("pk").first()
    assert some.pk in set(filtered_projects(q=some.title[-4:-2]).values_list("pk", flat=True))
    assert "search" in out["seconds"]
    # every finished call's 评估结果公示, a few days after its last final evaluation: its grades public
    from grants.models import Publicity, PublicityKind
    from grants.selectors.public import grade_published

    finished = calls.filter(status="finished", proposals__evaluations__kind="final").distinct()
    results = Publicity.objects.filter(kind=PublicityKind.EVALUATION, call__in=calls)
    assert finished.exists() and set(results.values_list("call", flat=True)) == set(
        finished.values_list("pk", flat=True)
    )
    for publicity in results.select_related("call")[:20]:
        finals = Evaluation.objects.filter(proposal__call=publicity.call, kind="final", status="submitted")
        assert len(publicity.rows) == finals.count() and publicity.opens_on <= today
        assert all(publicity.published_at >= e.submitted_at for e in finals)
        assert publicity.page is not None and publicity.page.live  # its 公示公告 page, as the service's
    graded = funded.filter(call__in=finished).exclude(final_grade="")
    assert graded.filter(grade_published()).count() == graded.count() > 0
    assert seed_volume(2000)["added"].get("publicities", 0) == 0  # not twice
    assert set(funded.values_list("call__level", flat=True)) == {1, 3, 4}
    assert set(funded.values_list("call__year", flat=True)) == set(range(today.year - 4, today.year + 1))
    decided = calls.filter(status__in=("implementing", "finished"))
    assert not Proposal.objects.filter(call__in=decided, status=P.APPROVED, agreement__isnull=True).exists()
    grades = set(funded.filter(status=P.CLOSED).values_list("final_grade", flat=True))
    assert grades >= {"优秀", "良好", "合格", "不合格"}
    assert set(Tranche.objects.values_list("status", flat=True)) >= {"planned", "released", "withheld"}
    assert set(ProgressReport.objects.values_list("status", flat=True)) >= {"submitted", "reviewed"}
    assert Evaluation.objects.filter(kind="mid_term", passed=False).exists()
    assert Evaluation.objects.filter(kind="mid_term", attempt=2, passed=True).exists()

    finance_group = role_group(Role.FINANCE)
    tranches = defaultdict(list)
    for t in Tranche.objects.filter(proposal__in=funded).select_related("released_by"):
        tranches[t.proposal_id].append(t)
    evaluations = defaultdict(list)
    for e in Evaluation.objects.filter(proposal__in=funded).order_by("kind", "attempt"):
        evaluations[e.proposal_id].append(e)
    for p in funded.select_related("call", "agreement").prefetch_related("budget_lines", "reports"):
        call, agreement = p.call, p.agreement
        # the agreement: signed, the award, the period and clauses the service would draw up
        assert agreement.status == "signed" and agreement.amount == p.awarded_amount, p
        assert agreement.signed_on <= today and agreement.org_signed_at <= agreement.funder_signed_at
        assert (agreement.starts_on, agreement.ends_on) == agreement_period(p)
        # the tranches: the call's plan over the award, never more released than awarded
        rows = sorted(tranches[p.pk], key=lambda t: t.position)
        assert [t.amount for t in rows] == split_award(
            p.awarded_amount, [line["percent"] for line in call.tranche_plan]
        )
        assert sum(t.amount for t in rows) == p.awarded_amount
        released = [t for t in rows if t.status == "released"]
        paid = sum((t.amount for t in released), ZERO)
        assert paid <= p.awarded_amount
        assert rows[0].due_on == add_workdays(agreement.signed_on, DUE_WORKDAYS)
        passed = {e.kind: e for e in evaluations[p.pk] if e.passed}
        for t in released:
            assert agreement.signed_on <= t.paid_on <= today and t.voucher_no and t.bank_account, t
            assert finance_group in t.released_by.groups.all()
            gate = {"mid_term": "mid_term", "final": "final"}.get(t.gate)
            if gate:  # paid only once its evaluation had passed
                assert gate in passed and timezone.localdate(passed[gate].submitted_at) <= t.paid_on, t
        for t in rows:
            if t.status == "withheld":
                assert t.withhold_reason, t
        # the evaluations: the rubric's points within their weights, the total and verdict computed
        weights = {c["key"]: Decimal(str(c["weight"])) for c in rubric_of(call)}
        for e in evaluations[p.pk]:
            if e.status == "submitted":
                assert set(e.points) == set(weights) and all(0 <= Decimal(v) <= weights[k] for k, v in e.points.items())
                assert e.total == compute_total(_points_sum(e), e.bonus, e.deduction)
                assert e.passed == (e.total >= call.pass_score) and e.comment
            if e.kind == "final" and e.status == "submitted":
                assert e.grade == grade_for(call, e.total) == p.final_grade
        spent = min(reported_spending(p), paid)
        if p.status == P.CLOSED:
            assert p.eligible_spending == spent and p.returned_amount == paid - spent >= 0, p
            assert p.final_grade and not [t for t in rows if t.status in ("planned", "due")]
        if p.status == P.TERMINATED:
            assert p.eligible_spending == spent and p.clawback_amount == paid - spent, p
            assert 0 <= p.clawback_repaid <= p.clawback_amount and p.status_reason.startswith("中期评估复评不合格")
            assert [e.passed for e in evaluations[p.pk] if e.kind == "mid_term"] == [False, False]
            assert not [t for t in rows if t.status in ("planned", "due")]
        if p.status == P.SUSPENDED:
            mids = [e for e in evaluations[p.pk] if e.kind == "mid_term" and e.status == "submitted"]
            assert [e.passed for e in mids] == [False] and mids[0].rectify_until
        if p.status in (P.MID_TERM_PASSED, P.FINAL_EVALUATED, P.CLOSED):
            assert "mid_term" in passed

    # the service's own clauses for a few projects, and the audit paths end where the rows stand
    for p in funded.select_related("call__region", "organisation", "category", "agreement").order_by("?")[:25]:
        a = p.agreement
        values = agreement_placeholders(p, number=a.number, amount=a.amount, starts_on=a.starts_on, ends_on=a.ends_on)
        assert a.clauses == fill_template(p.call.agreement_template, values)
        logs = _chain(p)
        assert logs[-1].state == p.status and all(log.timestamp <= timezone.now() for log in logs)
        assert _chain(a)[-1].state == a.status
        for t in p.tranches.all():
            assert _chain(t)[-1].state == t.status
        for r in p.reports.all():
            assert _chain(r)[-1].state == r.status
    assert not Agreement.objects.values("number").annotate(n=Count("pk")).filter(n__gt=1).exists()

    # a second run with the same N adds no money twice
    before = (Agreement.objects.count(), Tranche.objects.aggregate(s=Sum("amount"))["s"], StateLog.objects.count())
    seed_volume(2000)
    assert (
        Agreement.objects.count(),
        Tranche.objects.aggregate(s=Sum("amount"))["s"],
        StateLog.objects.count(),
    ) == before
