"""What grants tells the public pages of the layers below it, through the hooks they call
by name (they may not import grants):

- orgs.public_projects.PUBLIC_PROJECTS_HOOK: the funded projects of organisations, for
  an organisation's directory entry and, through it, for the page of the base where they
  are or were incubated. One query whatever the number of organisations.

Imported by grants/wagtail_hooks.py."""

from wagtail import hooks

from orgs.public_projects import PUBLIC_PROJECTS_HOOK, PublicProject

from .rules import fmt_money
from .selectors.public import STATUS_OF, grade_published, public_projects


def project_url(pk: int) -> str:
    """A funded project's public page: the 资助项目 section (cms.ProjectIndexPage, made at
    /projects/ by cms.setup) routes each project at <proposal pk>/."""
    return f"/projects/{pk}/"


def awarded_text(amount) -> str:
    return f"¥{fmt_money(amount)}"


@hooks.register(PUBLIC_PROJECTS_HOOK)
def funded_projects(org_ids) -> list[PublicProject]:
    """The public projects (grants.selectors.public) of the organisations, in the words
    of the 资助项目 pages: their public status, the grade only once published."""
    rows = (
        public_projects()
        .filter(organisation_id__in=org_ids)
        .annotate(grade_public=grade_published())
        .order_by("-call__year", "-pk")
        .values_list(
            "pk",
            "organisation_id",
            "organisation__name",
            "title",
            "call__year",
            "call__title",
            "status",
            "final_grade",
            "grade_public",
            "awarded_amount",
        )
    )
    projects = []
    for pk, org_id, org_name, title, year, call_title, status, grade, grade_public, amount in rows:
        key, label = STATUS_OF.get(status, ("", ""))
        projects.append(
            PublicProject(
                pk=pk,
                organisation_id=org_id,
                organisation_name=org_name,
                title=title,
                year=year,
                call_title=call_title,
                state=key,
                status=label,
                grade=grade if grade_public else "",
                amount=awarded_text(amount) if amount is not None else "—",
                url=project_url(pk),
            )
        )
    return projects
