"""What grants adds to the staff dashboard (/admin/, core.dashboard): the proposals in the
user's scope waiting for the eligibility check, the longest-waiting first, and the ones
returned for correction whose deadline has passed without a resubmission (the daily
task makes them ineligible; until it has run, staff see them here). One query."""

from django.urls import reverse
from django.utils import timezone
from wagtail import hooks

from core.dashboard import WAITING_ITEMS_HOOK, WaitingItem, waited_since
from core.dates import chinese_date

from ..models import CHECK_PERMISSION, ProposalStatus
from ..selectors.proposals import waiting_for_check


@hooks.register(WAITING_ITEMS_HOOK)
def eligibility_items(request) -> list[WaitingItem]:
    user = request.user
    if not user.has_perm(CHECK_PERMISSION):
        return []
    today = timezone.localdate()
    found = waiting_for_check(user, today)
    url = reverse("grants_admin:proposals")
    items = []
    if found["waiting"]:
        items.append(
            WaitingItem(
                label="申报项目待资格审查",
                url=f"{url}?status={ProposalStatus.SUBMITTED}&ordering=submitted_at",
                count=found["waiting"],
                detail=waited_since("最早一份提交于", found["oldest"], today),
                order=40,
            )
        )
    if found["overdue"]:
        items.append(
            WaitingItem(
                label="退回修改逾期未重新提交",
                url=f"{url}?overdue=on",
                count=found["overdue"],
                detail=f"最早一份补正截止于{chinese_date(found['overdue_since'])}，将自动判定为资格审查未通过",
                status="已逾期",
                urgent=True,
                order=41,
            )
        )
    return items
