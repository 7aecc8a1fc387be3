"""Error views Django has no Chinese page for: a request too large for the server (413) is
told apart from other bad requests (400). Both render standalone pages (no context
processors), as Django does for 400 and 500: the request may be too broken for them."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse
from django.template import loader


def bad_request(request, exception=None):
    too_large = isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent)
    status, template = (413, "413.html") if too_large else (400, "400.html")
    mb = 1024 * 1024
    context = {
        "upload_max_mb": settings.UPLOAD_MAX_BYTES // mb,
        "request_max_mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // mb,
    }
    return HttpResponse(loader.get_template(template).render(context), status=status)
