"""资助项目 (/projects/): the funded projects' list and each project's public page."""


def listing_context(request, page) -> dict:
    return {}


def project_context(request, page, pk) -> dict:
    from django.http import Http404

    raise Http404
