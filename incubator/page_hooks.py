"""What incubation adds to pages composed of every app's parts (imported by
incubator/wagtail_hooks.py): on the staff dashboard (/admin/), the applications past their
screening date and the promotions waiting for an answer, for base operators of the bases in
their region; on the applicant's /me/, their incubations; on an organisation's page, the
link to apply to a base."""

from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks

from core.dashboard import APPLICANT_PANEL_HOOK, WAITING_ITEMS_HOOK, PortalPanel, WaitingItem, waited_since
from core.dates import chinese_date
from core.workdays import workdays_between
from orgs.actions import ORGANISATION_ACTIONS_HOOK, OrganisationAction
from orgs.models import Membership

from .models import PromotionState
from .selectors import incubations_for_member, incubations_for_staff, overdue_q, promotions_for_staff

OPERATE_PERMISSION = "incubator.operate_base"
MY_INCUBATIONS_SHOWN = 10


@hooks.register(WAITING_ITEMS_HOOK)
def operator_items(request) -> list[WaitingItem]:
    user = request.user
    if not user.has_perm(OPERATE_PERMISSION):
        return []
    today = timezone.localdate()
    overdue = overdue_q(today)
    screenings = incubations_for_staff(user).aggregate(
        count=Count("pk", filter=overdue), oldest=Min("screening_due", filter=overdue)
    )
    pending = PromotionState.PENDING
    promotions = promotions_for_staff(user).filter(state=pending).aggregate(count=Count("pk"), oldest=Min("created_at"))
    items = []
    if screenings["count"]:
        oldest = screenings["oldest"]
        items.append(
            WaitingItem(
                label="初审超期的入驻申请",
                url=reverse("incubator_admin:queue") + "?overdue=1",
                count=screenings["count"],
                detail=f"最早一份初审截止于{chinese_date(oldest)}，已超期 {workdays_between(oldest, today)} 个工作日",
                status="已超期",
                urgent=True,
                order=20,
            )
        )
    if promotions["count"]:
        items.append(
            WaitingItem(
                label="待答复的推荐晋级",
                url=reverse("incubator_admin:promotions"),
                count=promotions["count"],
                detail=waited_since("最早一份推荐于", promotions["oldest"], today),
                order=30,
            )
        )
    return items


class MyIncubationsPanel(PortalPanel):
    """/me/: the stays of the user's organisations, and 申请入驻 for applicants."""

    template_name = "incubator/me/incubations.html"

    def panel_context(self, request):
        return {"incubations": incubations_for_member(request.user)[:MY_INCUBATIONS_SHOWN]}


@hooks.register(APPLICANT_PANEL_HOOK, order=30)
def my_incubations_panel(request):
    return MyIncubationsPanel()


@hooks.register(ORGANISATION_ACTIONS_HOOK, order=10)
def apply_for_incubation(request, org, role):
    if role == Membership.Role.FINANCE:  # 财务 members keep the books; they do not apply
        return None
    return OrganisationAction("申请入驻孵化基地", f"{reverse('incubator:index')}?org={org.pk}")
