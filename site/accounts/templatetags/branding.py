from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def platform_name():
    """The product's name, where a view's own `site_name` may be the request's host."""
    return settings.PLATFORM_NAME
