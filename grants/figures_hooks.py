"""What grants tells the layers below it, through the hooks they call by name (they may
not import grants):

- incubator.figures.FUNDED_PROJECTS_HOOK: per incubation base, the projects funded
  (批复立项 and every later state of a funded project) of the organisations resident at
  or graduated from it — the base's 获公益创投资助项目 figure;
- orgs.record.ORGANISATION_RECORD_HOOK: per organisation, its funded projects and their
  final grades, an 优秀 final grade standing out in the organisation's record (项目业绩).

One query each, whatever the number of bases or organisations. Imported by
grants/wagtail_hooks.py."""

from django.db.models import Count
from wagtail import hooks

from incubator.figures import FUNDED_PROJECTS_HOOK
from incubator.models import RESIDENT_STATES, IncubationStatus
from orgs.record import ORGANISATION_RECORD_HOOK, RecordLine

from .models import FUNDED_STATES, Proposal, ProposalStatus

P = ProposalStatus
# a project is funded from its approval on, whatever became of it
FUNDED = (P.APPROVED, *FUNDED_STATES)
# the stays that make a base an organisation's incubator
INCUBATED = (*RESIDENT_STATES, IncubationStatus.GRADUATED)
EXCELLENT = "优秀"


@hooks.register(FUNDED_PROJECTS_HOOK)
def funded_projects_by_base(base_ids) -> dict[int, int]:
    rows = (
        Proposal.objects.filter(
            status__in=FUNDED,
            organisation__incubations__base_id__in=list(base_ids),
            organisation__incubations__status__in=INCUBATED,
        )
        .order_by()
        .values("organisation__incubations__base_id")
        .annotate(n=Count("pk", distinct=True))
        .values_list("organisation__incubations__base_id", "n")
    )
    return dict(rows)


@hooks.register(ORGANISATION_RECORD_HOOK)
def organisation_record(orgs) -> dict[int, list[RecordLine]]:
    rows = (
        Proposal.objects.filter(organisation__in=[o.pk for o in orgs], status__in=FUNDED)
        .order_by("-call__year", "-pk")
        .values_list("organisation_id", "call__year", "call__title", "title", "status", "final_grade")
    )
    by_org: dict[int, list[tuple]] = {}
    for org_id, year, call_title, title, status, grade in rows:
        by_org.setdefault(org_id, []).append((year, call_title, title, status, grade))
    record = {}
    for org_id, projects in by_org.items():
        excellent = [p for p in projects if p[4] == EXCELLENT]
        value = f"{len(projects)}个" + (f"（末期评估优秀{len(excellent)}个）" if excellent else "")
        items = tuple(
            (call_title, title, grade or ProposalStatus(status).label)
            for _, call_title, title, status, grade in projects
        )
        lines = [RecordLine("获公益创投资助项目", value, items, highlight=bool(excellent))]
        if excellent:
            lines.append(
                RecordLine(
                    "末期评估优秀项目",
                    "、".join(f"{year}年“{title}”" for year, _, title, _, _ in excellent),
                    highlight=True,
                )
            )
        record[org_id] = lines
    return record
