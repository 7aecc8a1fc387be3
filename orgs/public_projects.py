"""The funded projects of organisations, as the public directory and the bases' pages show
them (/directory/<pk>/, /bases/<pk>/), each linked to its page under 资助项目.

orgs may not import grants, so grants answers through a hook it registers
(grants/public_hooks.py):

    @hooks.register(PUBLIC_PROJECTS_HOOK)
    def funded_projects(org_ids) -> list[PublicProject]: ...

taking organisation ids (a list, or a queryset of them read as a subquery) and returning
their funded projects, newest first, in one query whatever their number. Only what a 资助项目 page shows publicly is carried: no score, no
reviewer, no bank account."""

from dataclasses import dataclass

from django.db.models import QuerySet
from wagtail import hooks

PUBLIC_PROJECTS_HOOK = "orgs_public_projects"


@dataclass(frozen=True)
class PublicProject:
    pk: int
    organisation_id: int
    organisation_name: str
    title: str
    year: int
    call_title: str
    state: str  # the public status's key (in_progress …), for the tag's colour
    status: str  # the public status: 实施中, 已结项 …
    grade: str  # the final grade once published (优秀 …), else ""
    amount: str  # ¥60,000.00
    url: str  # /projects/<pk>/


def public_projects(org_ids) -> list[PublicProject]:
    """The funded projects of the organisations `org_ids` (ids, or a queryset of ids),
    newest first (empty without a provider)."""
    if not isinstance(org_ids, QuerySet):
        org_ids = sorted(set(org_ids))
        if not org_ids:
            return []
    found: list[PublicProject] = []
    for provider in hooks.get_hooks(PUBLIC_PROJECTS_HOOK):
        found.extend(provider(org_ids) or ())
    return sorted(found, key=lambda p: (-p.year, -p.pk))
