"""/admin/grants/proposals/export/: the Excel export of the staff proposal list.

POST only (a GET is 405: a link or a prefetch never starts a job). The list's 导出 Excel
button (grants/staff/admin_lists.py) posts to this URL with the list's query string; the
filters come from the POST data or, for that bare button, from the query string. The job
(grants.exports) ends on /admin/jobs/<pk>/, where the file is downloaded. Users holding
`grants.view_proposal` may export what the list shows them; invalid filters send the user
back to the list with a Chinese message and start nothing."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from core.errors import UserError

from ..exports import FILTER_KEYS, can_export, clean_filters, export_start


@require_POST
def proposal_export_view(request):
    if not can_export(request.user):
        raise PermissionDenied("您没有导出申报项目的权限。")
    source = request.POST if any(k in request.POST for k in FILTER_KEYS) else request.GET
    filters = clean_filters(source)
    try:
        job = export_start(user=request.user, filters=filters)
    except UserError as e:
        messages.error(request, e.message)
        query = request.GET.urlencode()
        return redirect(reverse("grants_admin:proposals") + (f"?{query}" if query else ""))
    return redirect(job.get_absolute_url())


urlpatterns = [path("proposals/export/", proposal_export_view, name="proposals_export")]
