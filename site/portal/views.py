from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from wagtail import hooks

from accounts.roles import Role, user_roles
from core.dashboard import APPLICANT_PANEL_HOOK


def is_staff_user(user) -> bool:
    """Staff (民政, base operators, reviewers …) work in the admin; they are offered no
    applicant actions (登记新组织, 申请入驻) on /me/."""
    return bool(user.is_staff or user.is_superuser or user_roles(user) - {Role.APPLICANT})


def applicant_panels(request) -> list:
    panels = (fn(request) for fn in hooks.get_hooks(APPLICANT_PANEL_HOOK))
    return [panel for panel in panels if panel is not None]


@login_required
def dashboard(request):
    """我的工作台: each app's panel (my organisations, my incubations, notifications …)."""
    staff = is_staff_user(request.user)
    context = {"panels": applicant_panels(request), "staff": staff, "applicant_actions": not staff}
    return render(request, "portal/dashboard.html", context)
