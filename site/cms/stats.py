"""数据统计 (/stats/): the public figures, each chart with its table and downloads."""

from django.http import Http404


def statistics_context(request, page) -> dict:
    return {}


def download(request, page, table, fmt):
    raise Http404
