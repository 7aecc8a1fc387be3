"""The Wagtail dashboard (/admin/): what waits for the user who opens it.

Core knows no domain app, so each app says what waits in it: a function registered with

    @hooks.register("register_waiting_items")
    def review_queue_items(request) -> list[WaitingItem]: ...

returns the items waiting for `request.user` (an empty list when nothing does or the user
may not act on them). Each provider runs a fixed number of queries (an aggregate, not a
list), scoped with accounts.selectors.scope, so the dashboard costs the same with 10 or
10,000 pending rows. The items of every provider are shown in one "待办事项" panel, added to
the dashboard with Wagtail's `construct_homepage_panels` hook; with nothing waiting the
panel says so calmly. Grants adds its providers the same way.

The user's own background jobs (imports, exports, batch PDFs) are core's contribution.

The applicant's dashboard (/me/, in portal) is built the same way: each app registers
`@hooks.register("register_applicant_panel", order=…)` returning a `PortalPanel` (or None)."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.ui.components import Component

from .dates import chinese_date
from .models import BackgroundJob
from .selectors import notifications_for

WAITING_ITEMS_HOOK = "register_waiting_items"
APPLICANT_PANEL_HOOK = "register_applicant_panel"
JUST_FINISHED = datetime.timedelta(hours=24)  # finished jobs stay on the dashboard this long
JOBS_SHOWN = 5


@dataclass(frozen=True)
class WaitingItem:
    """One line of the panel: what waits, how many, since when, and where to act on it."""

    label: str  # "待审核的社会组织"
    url: str  # the screen where the user deals with it
    count: int | None = None  # None for a single thing (one job)
    detail: str = ""  # "最早一家提交于 2026年3月2日，已等待 12 天"
    status: str = ""  # a status tag, e.g. "已超期" or "进行中"
    urgent: bool = False  # shown with the emphasised status tag
    order: int = 100  # position in the panel: smaller first


def waiting_items(request) -> list[WaitingItem]:
    items = []
    for provider in hooks.get_hooks(WAITING_ITEMS_HOOK):
        items.extend(provider(request) or ())
    return sorted(items, key=lambda item: item.order)


def waited_since(label: str, since, today: datetime.date | None = None, *, waited: str = "已等待") -> str:
    """“最早一家提交于 2026年3月2日，已等待 12 天” for a date or a datetime."""
    if since is None:
        return ""
    day = timezone.localdate(since) if isinstance(since, datetime.datetime) else since
    days = ((today or timezone.localdate()) - day).days
    return f"{label}{chinese_date(day)}" + (f"，{waited} {days} 天" if days > 0 else "")


class WaitingPanel(Component):
    """The dashboard's "待办事项" panel; `items` from every app's provider."""

    name = "waiting_items"
    template_name = "core/dashboard/waiting_panel.html"
    order = 50  # above Wagtail's own page panels

    def __init__(self, items: list[WaitingItem]):
        self.items = items

    def get_context_data(self, parent_context):
        return {"items": self.items}


@hooks.register("construct_homepage_panels")
def add_waiting_panel(request, panels):
    panels.append(WaitingPanel(waiting_items(request)))


class PortalPanel(Component):
    """A panel of a page outside the admin (the applicant's /me/). Its template gets the
    page's request, user, csrf_token and `applicant_actions` (False for staff: offer them no
    applicant actions), plus what `panel_context(request)` returns."""

    def panel_context(self, request) -> dict:
        return {}

    def get_context_data(self, parent_context):
        request = parent_context["request"]
        return {
            "request": request,
            "user": request.user,
            "csrf_token": parent_context.get("csrf_token"),
            "applicant_actions": parent_context.get("applicant_actions", True),
            "unread_notifications": parent_context.get("unread_notifications"),
            **self.panel_context(request),
        }


NOTIFICATIONS_SHOWN = 5


class NotificationsPanel(PortalPanel):
    """/me/: the latest notifications, unread ones marked."""

    template_name = "core/me/notifications.html"

    def panel_context(self, request):
        return {"notifications": notifications_for(request.user)[:NOTIFICATIONS_SHOWN]}


@hooks.register(APPLICANT_PANEL_HOOK, order=90)
def notifications_panel(request):
    return NotificationsPanel()


# ---- core's own items: the user's background jobs -----------------------------------------------


@hooks.register(WAITING_ITEMS_HOOK)
def background_job_items(request) -> list[WaitingItem]:
    """Imports and exports the user started that are running, or finished in the last day."""
    user = request.user
    recent = Q(finished_at__gte=timezone.now() - JUST_FINISHED)
    active = Q(status__in=[BackgroundJob.Status.QUEUED, BackgroundJob.Status.RUNNING])
    jobs = BackgroundJob.objects.filter(active | recent, created_by=user).order_by("-created_at", "-pk")[:JOBS_SHOWN]
    items = []
    for job in jobs:
        if job.status in (BackgroundJob.Status.QUEUED, BackgroundJob.Status.RUNNING):
            detail = f"已处理 {job.progress} / {job.total}" if job.total else job.message
        else:
            detail = job.message
        items.append(
            WaitingItem(
                label=str(job),
                url=job.get_absolute_url(),
                detail=detail,
                status=job.get_status_display(),
                urgent=job.status == BackgroundJob.Status.FAILED,
                order=900,
            )
        )
    return items
