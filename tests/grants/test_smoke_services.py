"""The grant services end to end: start → fill → submit → check."""

from decimal import Decimal

import pytest

from grants.models import ProposalStatus
from tests.grants.factories import proposal_at

P = ProposalStatus


@pytest.mark.django_db
@pytest.mark.parametrize("status", [P.DRAFT, P.SUBMITTED, P.RETURNED, P.ELIGIBLE, P.INELIGIBLE, P.WITHDRAWN])
def test_proposal_reaches_each_status(regions, status):
    p = proposal_at(status=status)
    assert p.status == status
    assert p.budget_total == Decimal("100000.00")
    assert p.grant_amount == Decimal("60000.00")
    assert p.grant_share == Decimal("60.00")
    if status != P.DRAFT:
        assert p.versions.count() == 1
        assert p.number.startswith("GY")
