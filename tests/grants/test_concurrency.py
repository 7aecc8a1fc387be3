"""Several sessions at the same moment (PostgreSQL: real concurrent connections). However
many tabs start, save or submit at once, the database keeps one outcome."""

import threading

import pytest
from django.db import connection

from grants.models import Proposal, ProposalStatus, ProposalVersion
from grants.services import proposals
from tests.grants.factories import eligible_org, make_call, proposal_at

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"),
]


def at_once(n, work):
    """Run work(i) in n threads released together; return what each returned or raised."""
    barrier = threading.Barrier(n)
    outcomes, lock = [], threading.Lock()

    def run(i):
        try:
            barrier.wait(timeout=10)
            try:
                result = work(i)
            except Exception as exc:  # noqa: BLE001 — the outcome is what the test compares
                result = exc
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_six_tabs_starting_at_once_make_one_draft_when_one_is_allowed(regions):
    call = make_call(max_applications_per_org=1)
    org, leader = eligible_org()
    outcomes = at_once(6, lambda i: proposals.proposal_start(call=call, organisation=org, by=leader))
    made = [o for o in outcomes if isinstance(o, Proposal)]
    assert len(made) == 1, outcomes
    assert Proposal.objects.filter(call=call, organisation=org).count() == 1
    refused = [o for o in outcomes if not isinstance(o, Proposal)]
    assert all("最多申报1个项目" in " ".join(o.messages) for o in refused), refused


def test_saves_from_pages_opened_at_the_same_revision_keep_exactly_one(regions):
    p = proposal_at(status=ProposalStatus.DRAFT, empty=True)
    leader = p.organisation.memberships.first().user
    opened = p.revision

    def save(i):
        copy = Proposal.objects.get(pk=p.pk)
        return proposals.proposal_save(proposal=copy, by=leader, revision=opened, fields={"title": f"窗口{i}"})

    outcomes = at_once(5, save)
    saved = [o for o in outcomes if isinstance(o, Proposal)]
    stale = [o for o in outcomes if isinstance(o, proposals.StaleProposal)]
    assert (len(saved), len(stale)) == (1, 4), outcomes
    p.refresh_from_db()
    assert p.revision == opened + 1 and p.title == saved[0].title


def test_submitting_from_two_sessions_at_once_submits_once(regions):
    p = proposal_at(status=ProposalStatus.DRAFT)
    leader = p.organisation.memberships.first().user
    outcomes = at_once(4, lambda i: proposals.proposal_submit(proposal=Proposal.objects.get(pk=p.pk), by=leader))
    assert sum(isinstance(o, Proposal) for o in outcomes) == 1, outcomes
    assert Proposal.objects.get(pk=p.pk).status == ProposalStatus.SUBMITTED
    assert ProposalVersion.objects.filter(proposal=p).count() == 1
