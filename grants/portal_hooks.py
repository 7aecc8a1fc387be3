"""What grants adds to the applicant's /me/ (portal composes it through core.dashboard's
APPLICANT_PANEL_HOOK): 我的申报, the proposals of the user's organisations with their
status and next step, and the calls open to them. Imported by grants/apps.py."""

from django.utils import timezone
from wagtail import hooks

from core.dashboard import APPLICANT_PANEL_HOOK, PortalPanel
from orgs.models import Membership

from .views.proposals import MY_PROPOSALS_SHOWN, member_proposals, next_step, open_calls_for

OPEN_CALLS_SHOWN = 5


class MyProposalsPanel(PortalPanel):
    template_name = "grants/portal/panel.html"

    def panel_context(self, request):
        user = request.user
        memberships = list(Membership.objects.filter(user=user).select_related("organisation__region"))
        proposals = list(member_proposals(user)[:MY_PROPOSALS_SHOWN]) if memberships else []
        today = timezone.localdate()
        for p in proposals:
            p.next_step = next_step(p, today)
        return {
            "proposals": proposals,
            "open_calls": open_calls_for(user, memberships)[:OPEN_CALLS_SHOWN],
            "has_organisation": bool(memberships),
        }


@hooks.register(APPLICANT_PANEL_HOOK, order=25)
def my_proposals_panel(request):
    return MyProposalsPanel()
