from django import template

from ..actions import organisation_actions as _organisation_actions

register = template.Library()


@register.simple_tag(takes_context=True)
def organisation_actions(context, org, role):
    """{% organisation_actions org role as actions %}: the links other apps offer on the page."""
    return _organisation_actions(context["request"], org, role)
