"""The incubation documents as downloads (mounted by incubator/urls.py at
/me/incubation/<pk>/agreement.pdf and /certificate.pdf), shown inline in the browser.

Who may open them: any member of the organisation, and staff with
incubator.view_incubation whose region subtree holds the base. Anyone else signed in gets
403, an anonymous visitor the log-in page; a stay without the document (not admitted: no
agreement; not graduated: no certificate) is a 404."""

import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache

from accounts.selectors import has_scoped_perm
from orgs.selectors import member_role

from . import pdf
from .models import Incubation

VIEW_PERMISSION = "incubator.view_incubation"


def can_view_documents(user, incubation: Incubation) -> bool:
    return bool(member_role(user, incubation.organisation_id)) or has_scoped_perm(
        user, VIEW_PERMISSION, incubation.base.region
    )


def _incubation(request, pk: int) -> Incubation:
    incubation = get_object_or_404(
        Incubation.objects.select_related("base", "base__region", "base__operator_org", "organisation"), pk=pk
    )
    if not can_view_documents(request.user, incubation):
        raise PermissionDenied("您无权查看该组织的入驻文件。")
    return incubation


def _inline(data: bytes, filename: str) -> FileResponse:
    return FileResponse(io.BytesIO(data), content_type="application/pdf", filename=filename, as_attachment=False)


@never_cache
@login_required
def agreement_pdf(request, pk):
    incubation = _incubation(request, pk)
    return _inline(pdf.agreement_pdf(incubation), f"入驻协议-{incubation.agreement_no}.pdf")


@never_cache
@login_required
def certificate_pdf(request, pk):
    incubation = _incubation(request, pk)
    return _inline(pdf.certificate_pdf(incubation), f"出壳证书-{incubation.certificate_no}.pdf")
