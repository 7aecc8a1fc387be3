"""Template tags of the registry's staff pages."""

from django import template

from core.admin_lists import status_tag

register = template.Library()


@register.simple_tag
def status_badge(status: str, label: str):
    """An organisation's registration status as Wagtail's status tag (认证 in the primary colour)."""
    return status_tag(label, primary=status == "verified")
