"""One PDF service for every document (agreements, notices, certificates, reports).

Templates extend `core/pdf/base.html`: A4, Chinese official-document layout (issuing body,
title, body, date, seal line, page X of Y). The CJK font is named explicitly
(settings.PDF_FONT_FAMILY, from Debian's fonts-noto-cjk installed by `make`), so Chinese
renders as glyphs, never boxes; `cjk_font_available()` lets checks fail loudly."""

import subprocess
from functools import lru_cache

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from .dates import chinese_date  # noqa: F401  (documents format dates with it)


@lru_cache(maxsize=1)
def cjk_font_available() -> bool:
    try:
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return settings.PDF_FONT_FAMILY in out


def render_pdf(template_name: str, context: dict | None = None, *, base_url: str | None = None) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    ctx = {
        "font_family": settings.PDF_FONT_FAMILY,
        "serif_font_family": settings.PDF_SERIF_FONT_FAMILY,
        "issued_on": timezone.localdate(),
        "platform_name": settings.WAGTAIL_SITE_NAME,
        **(context or {}),
    }
    html = render_to_string(template_name, ctx)
    return HTML(string=html, base_url=base_url or str(settings.SITE_DIR)).write_pdf()
