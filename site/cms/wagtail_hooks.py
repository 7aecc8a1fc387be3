"""What the public site tells the apps below it, which may not import cms."""

from wagtail import hooks

from incubator.figures_views import PUBLIC_BASES_URL_HOOK

from .models import BaseIndexPage


@hooks.register(PUBLIC_BASES_URL_HOOK)
def public_bases_url() -> str:
    index = BaseIndexPage.objects.live().first()
    return index.url if index else ""
