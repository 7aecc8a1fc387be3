"""The applicant's side of 拨付: a read-only section on the proposal's page (/me/proposals/<pk>/)
once the agreement is signed: the award, what was paid and when, and what comes next
and on what condition. Registered in grants.panels.PORTAL_PANELS; imported by grants/urls.py."""

from decimal import Decimal

from ..models import FUNDED_STATES, TrancheStatus
from ..panels import PORTAL_PANELS, PagePanel, register_panel
from ..selectors.tranches import proposal_tranches


def tranches_portal_panel(proposal, user, bound):
    """One query; none (and no section) before the agreement is signed."""
    if proposal.status not in FUNDED_STATES:
        return None
    rows = proposal_tranches(proposal)
    return {
        "tranches": rows,
        "award": proposal.awarded_amount,
        "released": sum((t.amount for t in rows if t.status == TrancheStatus.RELEASED), Decimal(0)),
        "next": next((t for t in rows if t.status != TrancheStatus.RELEASED), None),
    }


register_panel(PagePanel("tranches", "grants/portal/_tranches.html", tranches_portal_panel, order=30), PORTAL_PANELS)
