"""/opendata/: the awarded grants as open data in the 360Giving Data Standard (grants.opendata).

    /opendata/             a page explaining the data, with both links (Chinese)
    /opendata/grants.json  the standard's JSON data package {"grants": [...]}
    /opendata/grants.csv   the standard's flat CSV (its column titles)

Public: no login, nothing private in either file. The files are built once per change of the
awarded grants (the key: how many, the latest update) and kept in the cache for CACHE_SECONDS,
so ten thousand grants are not rebuilt for every download; a change to a grant shows at once,
a renamed organisation or call within CACHE_SECONDS. Responses carry an ETag and Last-Modified
(a conditional GET gets 304) and `Cache-Control: public, max-age=…` for browsers and proxies."""

import hashlib

from django.core.cache import cache
from django.db.models import Count, Max
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from .. import opendata
from ..models import Proposal

CACHE_SECONDS = 600  # server side: how long a built file is kept
MAX_AGE = 3600  # client side: Cache-Control max-age
TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


def _version() -> tuple[str, object]:
    """(cache key part, latest update) of the awarded grants: one aggregate query."""
    row = Proposal.objects.filter(status__in=opendata.AWARDED_STATES).aggregate(n=Count("pk"), latest=Max("updated_at"))
    latest = row["latest"]
    return f"{row['n']}-{latest.timestamp() if latest else 0}", latest


def _built(kind: str) -> tuple[bytes, object]:
    version, latest = _version()
    key = f"grants:opendata:{kind}:{opendata.prefix()}:{version}"
    content = cache.get(key)
    if content is None:
        package = opendata.grants_package()
        content = opendata.package_json(package) if kind == "json" else opendata.package_csv(package)
        cache.set(key, content, CACHE_SECONDS)
    return content, latest


def _file(request, kind: str):
    content, latest = _built(kind)
    etag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
    modified = int(latest.timestamp()) if latest else None
    response = get_conditional_response(request, etag=etag, last_modified=modified)
    if response is None:
        response = HttpResponse(content, content_type=TYPES[kind])
        response["Content-Disposition"] = f'inline; filename="grants.{kind}"'
    response["ETag"] = etag
    if modified is not None:
        response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


@require_safe
def grants_json(request):
    return _file(request, "json")


@require_safe
def grants_csv(request):
    return _file(request, "csv")


@require_safe
def index(request):
    return render(
        request,
        "grants/opendata/index.html",
        {
            "figures": opendata.summary(),
            "prefix": opendata.prefix(),
            "register": opendata.USCI_REGISTER,
            "headers": opendata.csv_headers(),
        },
    )
