"""What the registry adds to pages composed of every app's parts (imported by
orgs/wagtail_hooks.py): on the staff dashboard (/admin/), the organisations waiting for
review, for users who may verify them in their region; on the applicant's /me/, their
organisations and the invitations waiting for them."""

from django.db.models import Count, Min
from django.urls import reverse
from wagtail import hooks

from core.dashboard import APPLICANT_PANEL_HOOK, WAITING_ITEMS_HOOK, PortalPanel, WaitingItem, waited_since

from .selectors import memberships_for_user, review_queue
from .services import pending_invitations_for

VERIFY_PERMISSION = "orgs.verify_organisation"


@hooks.register(WAITING_ITEMS_HOOK)
def review_queue_items(request) -> list[WaitingItem]:
    user = request.user
    if not user.has_perm(VERIFY_PERMISSION):
        return []
    waiting = review_queue(user).aggregate(count=Count("pk"), oldest=Min("submitted_at"))
    if not waiting["count"]:
        return []
    return [
        WaitingItem(
            label="待审核的社会组织",
            url=reverse("orgs_admin:queue"),
            count=waiting["count"],
            detail=waited_since("最早一家提交于", waiting["oldest"]),
            order=10,
        )
    ]


class InvitationsPanel(PortalPanel):
    """/me/: invitations to join an organisation, waiting for the user to accept (above the
    other panels, the whole width)."""

    template_name = "orgs/me/invitations.html"

    def panel_context(self, request):
        return {"invitations": pending_invitations_for(request.user)}


class MyOrganisationsPanel(PortalPanel):
    """/me/: the organisations the user belongs to, and 登记新组织 for applicants."""

    template_name = "orgs/me/organisations.html"

    def panel_context(self, request):
        return {"memberships": memberships_for_user(request.user), "active_org_id": request.session.get("active_org")}


@hooks.register(APPLICANT_PANEL_HOOK, order=10)
def invitations_panel(request):
    return InvitationsPanel()


@hooks.register(APPLICANT_PANEL_HOOK, order=20)
def my_organisations_panel(request):
    return MyOrganisationsPanel()
