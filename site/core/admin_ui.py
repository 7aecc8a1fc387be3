"""Small pieces shared by the staff screens inside the Wagtail admin."""

from django.urls import reverse
from wagtail.admin.menu import MenuItem


def admin_breadcrumbs(*items: tuple[str, str | None]) -> list[dict]:
    return [{"url": reverse("wagtailadmin_home"), "label": "仪表板"}] + [
        {"url": url, "label": label} for label, url in items
    ]


class PermissionMenuItem(MenuItem):
    """A menu item shown only to users with `permission` (or for whom `check(user)` holds)."""

    def __init__(self, *args, permission: str | None = None, check=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.permission, self.check = permission, check

    def is_shown(self, request):
        if self.check is not None:
            return self.check(request.user)
        return request.user.has_perm(self.permission)
