"""`seed_volume` (grants/volume/): every status with consistent budgets, rows shaped as the
services leave them, topping up on an empty database or one holding the demo; and the
staff list and the proposal page cost the same queries at 10 and at 1,000 proposals."""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.models import Region
from accounts.roles import Role
from grants import rules
from grants.models import Call, CallLevel, Proposal, ProposalStatus, ProposalVersion
from grants.services.proposals import _number, proposal_problems, snapshot
from grants.volume import VOLUME_SUMMARY, seed_volume, volume_proposals
from orgs.models import Organisation
from tests.factories import staff
from tests.queries import page_queries

P = ProposalStatus
pytestmark = pytest.mark.django_db
LIST = "/admin/grants/proposals/"


def _statuses(qs) -> Counter:
    return Counter(dict(qs.values_list("status").annotate(n=Count("pk")).order_by()))


def test_every_status_consistent_budgets_and_a_top_up_on_the_demo():
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        call_command("seed_demo", stdout=io.StringIO())
    demo = {p.pk: (p.status, p.revision, p.budget_total) for p in Proposal.objects.all()}
    demo_calls = set(Call.objects.values_list("pk", "status"))
    demo_orgs = Organisation.objects.count()
    assert demo, "the demo made proposals"

    out = io.StringIO()
    call_command("seed_volume", proposals=400, stdout=out)
    assert "新增申报项目 400 个" in out.getvalue() and "秒" in out.getvalue()
    volume = volume_proposals()
    assert volume.count() == 400
    # every state up to the eligibility check, and the review's for calls past it
    assert set(_statuses(volume)) >= {P.DRAFT, P.SUBMITTED, P.RETURNED, P.ELIGIBLE, P.INELIGIBLE, P.WITHDRAWN}
    assert set(_statuses(volume)) <= {*P.values} - {P.PITCHED, P.SHORTLISTED, P.PUBLICISED}
    # the demo's rows are left as they were, beside the volume
    assert {p.pk: (p.status, p.revision, p.budget_total) for p in Proposal.objects.filter(pk__in=demo)} == demo
    assert demo_calls <= set(Call.objects.values_list("pk", "status"))
    assert not Proposal.objects.filter(pk__in=demo, call__summary=VOLUME_SUMMARY).exists()
    assert Organisation.objects.count() > demo_orgs

    for p in volume.select_related("call").prefetch_related("budget_lines"):
        lines = list(p.budget_lines.all())
        totals = rules.budget_totals(lines)
        assert 3 <= len(lines) <= 8, p
        assert p.budget_total == sum(line.amount for line in lines) == totals.total, p
        assert (p.grant_amount, p.self_funded, p.personnel_amount) == (
            totals.grant,
            totals.self_funded,
            totals.personnel,
        )
        assert p.grant_share is not None and 0 < p.grant_share <= 100, p
        if p.status != P.DRAFT:  # what was submitted kept the call's money rules
            assert not rules.budget_problems(p.call, totals, lines), p

    # a second run with the same N adds nothing; a larger N adds the difference
    assert seed_volume(400)["added"].get("proposals", 0) == 0
    assert seed_volume(450)["added"]["proposals"] == 50
    assert volume_proposals().count() == 450


def test_calls_at_every_level_over_five_years_and_organisations_on_every_street():
    seed_volume(300)
    calls = Call.objects.filter(summary=VOLUME_SUMMARY)
    this_year = timezone.localdate().year
    assert set(calls.values_list("year", flat=True)) == set(range(this_year - 4, this_year + 1))
    assert set(calls.values_list("level", flat=True)) == {CallLevel.CITY, CallLevel.STREET, CallLevel.COMMUNITY}
    assert {"open", "closed", "needs", "reviewing", "finished"} <= set(calls.values_list("status", flat=True))
    assert calls.filter(level=CallLevel.COMMUNITY, next_round__level=CallLevel.STREET).exists()  # 三级联动
    for call in calls.select_related("region"):
        call.full_clean()  # every rule of a call holds
    streets = Region.objects.filter(level=Region.Level.STREET)
    with_orgs = set(Organisation.objects.values_list("region__path", flat=True))
    assert all(any(p.startswith(s.path) for p in with_orgs) for s in streets)


def test_rows_are_what_the_services_would_have_left():
    seed_volume(300)
    now = timezone.now()
    corrected = volume_proposals().filter(versions__number=2).first()
    assert corrected is not None
    latest = corrected.versions.get(number=2).data
    fresh = snapshot(corrected)
    fresh["fields"]["places"] = sorted(fresh["fields"]["places"])
    latest["fields"]["places"] = sorted(latest["fields"]["places"])
    assert latest == fresh
    assert corrected.versions.get(number=1).data["fields"]["approach"] != latest["fields"]["approach"]

    for p in volume_proposals().select_related("call").prefetch_related("versions")[:150]:
        logs = list(StateLog.objects.for_(p).order_by("timestamp", "pk"))
        assert logs[0].transition == "create" and logs[0].by_id == p.created_by_id
        assert logs[-1].state == p.status, p
        assert all(a.state == b.source_state for a, b in zip(logs[1:], logs[2:], strict=False)), p
        assert all(log.timestamp <= now for log in logs)
        for log in logs:
            if log.transition in ("submit", "resubmit", "withdraw"):
                assert log.by_id == p.created_by_id
        if p.submitted_at:
            assert p.number == _number(Proposal(pk=p.pk, call=p.call))
            assert p.versions.count() == sum(1 for log in logs if log.transition in ("submit", "resubmit"))
        else:
            assert p.number == "" and not p.versions.exists()
        if p.status == P.RETURNED:
            assert p.status_reason and p.correction_deadline >= timezone.localdate()
    assert ProposalVersion.objects.filter(submitted_by__isnull=True).count() == 0
    # a complete submitted proposal would pass submission but for the call being closed
    submitted = volume_proposals().filter(status=P.SUBMITTED, call__status="open").first()
    assert set(proposal_problems(submitted)) <= {"organisation"}


def _ends(qs):
    """The proposals of `qs` with the fewest and the most rows of their own."""
    qs = qs.annotate(n=Count("budget_lines", distinct=True) + Count("activities", distinct=True)).order_by("n", "pk")
    return qs.first(), qs.last()


def test_the_staff_list_and_the_proposal_page_cost_the_same_at_10_and_1000_proposals(client):
    seed_volume(10)
    city = Region.objects.get(level=Region.Level.CITY)
    client.force_login(staff(Role.CALL_MANAGER, city))
    shown = Proposal.objects.exclude(status=P.DRAFT).exclude(submitted_at=None).order_by("pk").first()
    urls = [
        LIST,
        f"{LIST}?status={shown.status}&call={shown.call_id}",
        f"{LIST}?q={shown.title[:3]}",
        f"{LIST}?ordering=organisation__name",
        f"{LIST}?ordering=-grant_share&level={shown.call.level}",
        f"/admin/grants/proposals/{shown.pk}/",
    ]
    with_ten = [page_queries(client, url) for url in urls]
    seed_volume(1000)
    assert volume_proposals().count() == 1000
    with_thousand = [page_queries(client, url) for url in urls + [f"{LIST}?p=3"]]
    assert with_thousand[:-1] == with_ten
    assert with_thousand[-1] == with_thousand[0]  # a later page costs what the first does
    assert max(with_thousand) <= 15, dict(zip(urls + ["p=3"], with_thousand, strict=True))
    # nor does a proposal's page grow with its own rows (budget lines, activities, versions)
    for level in (CallLevel.CITY, CallLevel.STREET):
        for versions in (1, 2):
            # past the eligibility check: waiting for review, reviewed, decided
            qs = volume_proposals().filter(
                status__in=(P.ELIGIBLE, P.UNDER_REVIEW, P.REVIEWED, P.APPROVED, P.NOT_FUNDED), call__level=level
            )
            qs = qs.annotate(v=Count("versions", distinct=True)).filter(v=versions)
            small, big = _ends(qs)
            # a street call has a next round: the 推荐 action is offered, within the same limit
            assert page_queries(client, f"{LIST}{small.pk}/") == page_queries(client, f"{LIST}{big.pk}/") <= 15
