from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .selectors import notifications_for
from .services import notification_mark_read


@login_required
def notification_list(request):
    page = Paginator(notifications_for(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "core/notifications.html", {"page": page})


@require_POST
@login_required
def notification_read(request, pk=None):
    notification_mark_read(user=request.user, notification_id=pk)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "core:notifications"
    return redirect(target)
