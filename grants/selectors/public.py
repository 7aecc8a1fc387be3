"""Public reads of the funded projects (资助项目, /projects/): the list the public filters,
searches, sorts and pages, what its filters may offer, and one project's public facts.

A project is public from its approval (批复立项) onward: `PUBLIC_STATES` (approved and
every state of grants.models.FUNDED_STATES, a terminated one included, shown 已终止);
not_funded and everything before the decision never are. Its public status reads as the
public says it (`PUBLIC_STATUSES`: 待签约, 实施中, 已暂停整改 …).

A final grade (优秀/良好/合格/不合格) is public once published: the project's final
evaluation was completed before its call's 评估结果公示 was published, and that 公示 has
opened (`grade_published`). Until then neither the grade nor the evaluation is shown,
nor may the list be filtered by it.

Nothing private is read: the queries load only the public columns (`.only`), and what
reaches a template is a `PublicProject` built from them, never the model: no contact,
phone, e-mail, bank account, legal representative or USCC of the organisation; no
reviewer, no individual or per-criterion score (the final review score and the
evaluation total published in 公示 are aggregates), no need submitter, no objection."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Substr
from django.http import Http404
from django.utils import timezone

from accounts.models import Region
from orgs.selectors import public_organisations

from ..models import (
    FUNDED_STATES,
    Call,
    CallLevel,
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
    Proposal,
    ProposalStatus,
    Publicity,
    PublicityKind,
    ReportPhoto,
    Tranche,
    TrancheStatus,
)
from ..models.funding import ProgressReport
from ..rules import fmt_money, money
from .needs import public_needs
from .reports import COUNTED, kpi_table, public_updates

P = ProposalStatus
PUBLIC_STATES = (P.APPROVED, *FUNDED_STATES)
# (key in the URL, what the public reads, the states it covers)
PUBLIC_STATUSES = (
    ("approved", "待签约", (P.APPROVED,)),
    ("in_progress", "实施中", (P.AGREEMENT_SIGNED, P.IN_PROGRESS)),
    ("suspended", "已暂停整改", (P.SUSPENDED,)),
    ("mid_term_passed", "中期评估通过", (P.MID_TERM_PASSED,)),
    ("final_evaluated", "末期评估完成", (P.FINAL_EVALUATED,)),
    ("closed", "已结项", (P.CLOSED,)),
    ("terminated", "已终止", (P.TERMINATED,)),
)
STATUS_STATES = {key: states for key, _label, states in PUBLIC_STATUSES}
STATUS_OF = {state: (key, label) for key, label, states in PUBLIC_STATUSES for state in states}
GRADE_ORDER = ("优秀", "良好", "合格", "不合格")  # the default bands; a call may name its own
GRADE_KEYS = {"优秀": "excellent", "良好": "good", "合格": "pass", "不合格": "fail"}  # for the CSS
# the orders offered: key → (label, ordering)
SORTS = {
    "date": ("最新立项", (F("decided_at").desc(nulls_last=True), "-pk")),
    "amount": ("资助金额最高", (F("awarded_amount").desc(nulls_last=True), "-pk")),
    "score": ("评审得分最高", (F("score").desc(nulls_last=True), "-pk")),
}
DEFAULT_SORT = "date"
MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")

# the columns the public reads read
LIST_FIELDS = (
    "title",
    "summary",
    "status",
    "score",
    "awarded_amount",
    "decided_at",
    "final_grade",
    "start_month",
    "end_month",
    "call__title",
    "call__year",
    "call__level",
    "call__status",  # a workflow model reads its state when loaded: deferred, it costs a query per row
    "call__region__name",
    "call__region__path",
    "organisation__name",
    "organisation__status",
    "category__name",
)
PAGE_FIELDS = (
    *LIST_FIELDS,
    "number",
    "beneficiaries_direct",
    "beneficiaries_indirect",
    "ended_at",
    "call__organiser",
    "call__region__depth",
    "agreement__status",
    "agreement__starts_on",
    "agreement__ends_on",
    "agreement__signed_on",
)


def public_projects() -> QuerySet:
    return Proposal.objects.filter(status__in=PUBLIC_STATES)


def grade_published(today: datetime.date | None = None) -> Exists:
    """True for a project whose final grade the public may read: its final evaluation
    was completed before the call's 评估结果公示 was published, and the 公示 has opened."""
    published = Publicity.objects.filter(
        call_id=OuterRef(OuterRef("call_id")),
        kind=PublicityKind.EVALUATION,
        opens_on__lte=today or timezone.localdate(),
        published_at__gte=OuterRef("submitted_at"),
    )
    return Exists(
        Evaluation.objects.filter(
            proposal_id=OuterRef("pk"), kind=EvaluationKind.FINAL, status=EvaluationStatus.SUBMITTED
        ).filter(Exists(published))
    )


def released_sum() -> Coalesce:
    """The sum of the project's tranches paid out (已拨付), in the same query."""
    paid = (
        Tranche.objects.filter(proposal_id=OuterRef("pk"), status=TrancheStatus.RELEASED)
        .order_by()
        .values("proposal_id")
        .annotate(s=Sum("amount"))
        .values("s")[:1]
    )
    return Coalesce(Subquery(paid, output_field=MONEY), Value(ZERO), output_field=MONEY)


def _within(region: Region) -> Q:
    """Projects happening in `region`'s subtree: one of their places is in it, or their
    call's region is (a project of a street's call with no place given)."""
    through = Proposal.places.through
    in_places = Exists(through.objects.filter(proposal_id=OuterRef("pk"), region__path__startswith=region.path))
    placeless = ~Exists(through.objects.filter(proposal_id=OuterRef("pk")))
    return in_places | (placeless & Q(call__region__path__startswith=region.path))


def filtered_projects(
    *,
    year: int | None = None,
    call: int | None = None,
    level: int | None = None,
    region: Region | None = None,
    category: int | None = None,
    status: str | None = None,
    grade: str | None = None,
    q: str = "",
) -> QuerySet:
    """The public projects matching every filter given (they combine), unordered and
    unannotated: count and sum it, then `listed()` a page of it. `q` searches title,
    organisation and summary (grants.search), at once."""
    from ..search import found_ids

    qs = public_projects()
    if year:
        qs = qs.filter(call__year=year)
    if call:
        qs = qs.filter(call_id=call)
    if level:
        qs = qs.filter(call__level=level)
    if region is not None:
        qs = qs.filter(_within(region))
    if category:
        qs = qs.filter(category_id=category)
    if status:
        qs = qs.filter(status__in=STATUS_STATES.get(status, ()))
    if grade:
        qs = qs.filter(grade_published(), final_grade=grade)
    if q and q.strip():
        # searched once, here (one query): the count and the page then read the ids, where a
        # subquery would run the full-text match twice
        qs = qs.filter(pk__in=found_ids(q))
    return qs.order_by()


def project_totals(qs: QuerySet) -> dict:
    """How many projects and their awards added up: one query."""
    found = qs.aggregate(count=Count("pk"), awarded=Coalesce(Sum("awarded_amount"), Value(ZERO), output_field=MONEY))
    return {"count": found["count"], "awarded": money(found["awarded"])}


def _ancestor_name(depth: int) -> Subquery:
    """The name of a region's ancestor at `depth` (a prefix of its path), in the same query."""
    length = Region.steplen * depth
    return Subquery(Region.objects.filter(path=Substr(OuterRef("path"), 1, length)).values("name")[:1])


def places_queryset(*, labelled: bool = False) -> QuerySet:
    """The regions of a project's places as its pages read them; `labelled` adds the
    names of their district and street (`place_label`)."""
    regions = Region.objects.only("name", "path", "depth").order_by("path")
    if labelled:
        regions = regions.annotate(district_name=_ancestor_name(2), street_name=_ancestor_name(3))
    return regions


def place_label(region: Region) -> str:
    """A place as an address reads below the city: "鄂城区凤凰街道凤凰社区"."""
    above = [getattr(region, "district_name", None) if region.depth > 2 else None]
    above.append(getattr(region, "street_name", None) if region.depth > 3 else None)
    return "".join(name for name in above if name) + region.name


def ordering(sort: str) -> tuple:
    return SORTS.get(sort, SORTS[DEFAULT_SORT])[1]


def _page_rows(qs: QuerySet, sort: str, number: int, per_page: int) -> list[tuple]:
    start = (number - 1) * per_page
    everything = Window(Count("pk"))
    awarded = Coalesce(Window(Sum("awarded_amount"), output_field=MONEY), Value(ZERO), output_field=MONEY)
    rows = qs.annotate(all_count=everything, all_awarded=awarded).order_by(*ordering(sort))
    return list(rows.values_list("pk", "all_count", "all_awarded")[start : start + per_page])


def counted_page(qs: QuerySet, number, per_page: int, sort: str = DEFAULT_SORT) -> tuple[Page, Decimal]:
    """Page `number` of `qs`'s ids in the order chosen (`page.object_list`), with how
    many there are and their awards added up, all in one query (window functions over
    the filtered rows); `number` as Paginator.get_page takes it (not a number: the first
    page; past the end: the last, which costs a count and one more query)."""
    try:
        number = max(int(number), 1)
    except (TypeError, ValueError):
        number = 1
    rows = _page_rows(qs, sort, number, per_page)
    if rows:
        count, awarded = rows[0][1], money(rows[0][2])
    else:
        totals = project_totals(qs)
        count, awarded = totals["count"], totals["awarded"]
        last = max(1, -(-count // per_page))
        if number > last:
            number = last
            rows = _page_rows(qs, sort, number, per_page)
    paginator = Paginator([], per_page)
    paginator.count = count  # counted with the page, not again
    page = paginator.page(number)
    page.object_list = [row[0] for row in rows]
    return page, awarded


def public_facts(today: datetime.date | None = None) -> dict:
    """What the lists and a project's page compute for each project, as annotations: the
    released sum, whether its grade is published, whether its organisation is listed in
    the directory."""
    return {
        "released": released_sum(),
        "grade_public": grade_published(today),
        "org_listed": Exists(public_organisations().filter(pk=OuterRef("organisation_id"))),
    }


def listed(qs: QuerySet, sort: str = DEFAULT_SORT, *, labelled_places: bool = False) -> QuerySet:
    """`qs` as the list shows it: the public columns, the released sum, whether the
    grade is published and the organisation listed in the directory, the places (one
    more query), in the order chosen. Filter it to a page (`counted_page`) before
    reading: the sums and tests are computed for every row read."""
    return (
        qs.select_related("call__region", "organisation", "category")
        .only(*LIST_FIELDS)
        .annotate(**public_facts())
        .prefetch_related(Prefetch("places", queryset=places_queryset(labelled=labelled_places)))
        .order_by(*ordering(sort))
    )


# ---- what the filters may offer --------------------------------------------------------------------


def filter_choices() -> dict:
    """What the list's filters offer, read from the public projects themselves (five
    queries, whatever their number): the calls (with their years and levels), the
    regions down to the communities where projects happen (and the nodes above them), the
    service categories and the grades the 评估结果公示 announced (read from their frozen
    rows: scanning every public project for a published grade took 20–30 ms at 5,000)."""
    from orgs.models import ServiceArea

    projects = public_projects().order_by()
    calls = list(
        Call.objects.filter(Exists(projects.filter(call_id=OuterRef("pk"))))
        .order_by("-year", "level", "title", "pk")
        .values("pk", "title", "year", "level", "region__path")
    )
    place_paths = set(
        Proposal.places.through.objects.filter(proposal__status__in=PUBLIC_STATES)
        .values_list("region__path", flat=True)
        .distinct()
    )
    paths = place_paths | {c["region__path"] for c in calls}
    step = Region.steplen
    prefixes = {p[: i * step] for p in paths for i in range(1, len(p) // step + 1)}
    regions = list(Region.objects.filter(path__in=prefixes).only("name", "path", "depth", "level").order_by("path"))
    categories = list(
        ServiceArea.objects.filter(Exists(projects.filter(category_id=OuterRef("pk"))))
        .order_by("sort_order", "pk")
        .only("name")
    )
    grades = set()  # the grades announced: those in the rows of the 评估结果公示 that have opened
    opened = Publicity.objects.filter(kind=PublicityKind.EVALUATION, opens_on__lte=timezone.localdate())
    for rows in opened.values_list("rows", flat=True):
        grades.update(r["grade"] for r in rows if r.get("grade"))
    ordered_grades = [g for g in GRADE_ORDER if g in grades] + sorted(grades - set(GRADE_ORDER))
    return {
        "calls": calls,
        "years": sorted({c["year"] for c in calls}, reverse=True),
        "levels": [(v, label) for v, label in CallLevel.choices if any(c["level"] == v for c in calls)],
        "regions": regions,
        "categories": categories,
        "grades": ordered_grades,
        "statuses": [(key, label) for key, label, _states in PUBLIC_STATUSES],
        "sorts": [(key, label) for key, (label, _order) in SORTS.items()],
    }


# ---- what a template receives ----------------------------------------------------------------------


@dataclass
class PublicProject:
    """A project as the public pages show it: public facts only (no model instance)."""

    pk: int
    title: str
    summary: str
    status_key: str
    status_label: str
    call_id: int
    call_title: str
    call_year: int
    level: int
    level_label: str
    call_region: str
    organisation_id: int
    organisation: str
    organisation_listed: bool
    category: str
    places: list[str]
    awarded: Decimal | None
    released: Decimal
    score: Decimal | None
    decided_on: datetime.date | None
    grade: str = ""  # only once published
    extra: dict = field(default_factory=dict)

    @property
    def awarded_text(self) -> str:
        return fmt_money(self.awarded) if self.awarded is not None else "—"

    @property
    def released_text(self) -> str:
        return fmt_money(self.released)

    @property
    def score_text(self) -> str:
        return f"{self.score:.2f}" if self.score is not None else "—"

    @property
    def grade_key(self) -> str:
        return GRADE_KEYS.get(self.grade, "other")

    @property
    def released_percent(self) -> int:
        """已拨付 as a whole percentage of the award (for the bar), 0 without an award."""
        if not self.awarded:
            return 0
        return min(100, int(self.released * 100 / self.awarded))

    @property
    def terminated(self) -> bool:
        return self.status_key == "terminated"


CARD_VALUES = (
    "pk",
    "call_id",
    "organisation_id",
    "category_id",
    *LIST_FIELDS,
    "released",
    "grade_public",
    "org_listed",
)


def _card(row: dict, places: list[str]) -> PublicProject:
    """A project's public facts from its CARD_VALUES (a `.values()` row, or read off a model)."""
    key, label = STATUS_OF.get(row["status"], ("", ""))
    level = row["call__level"]
    return PublicProject(
        pk=row["pk"],
        title=row["title"],
        summary=row["summary"],
        status_key=key,
        status_label=label,
        call_id=row["call_id"],
        call_title=row["call__title"],
        call_year=row["call__year"],
        level=level,
        level_label=CallLevel(level).label if level in CallLevel.values else "",
        call_region=row["call__region__name"],
        organisation_id=row["organisation_id"],
        organisation=row["organisation__name"],
        organisation_listed=bool(row["org_listed"]),
        category=(row["category__name"] or "") if row["category_id"] else "",
        places=places,
        awarded=row["awarded_amount"],
        released=money(row["released"] or 0),
        score=row["score"],
        decided_on=timezone.localdate(row["decided_at"]) if row["decided_at"] else None,
        grade=row["final_grade"] if row["grade_public"] else "",
    )


def _read(obj, path: str):
    for name in path.split("__"):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def public_project_of(p: Proposal) -> PublicProject:
    """`p` (read through `listed` or `public_project`) as its public facts."""
    return _card({name: _read(p, name) for name in CARD_VALUES}, [r.name for r in p.places.all()])


@lru_cache(maxsize=1)
def _card_rows_of(today: datetime.date) -> QuerySet:
    """The public projects as `.values()` rows of CARD_VALUES, annotated: built once a
    day (resolving three subqueries took longer than running the query), filtered and
    ordered per use (each a clone: this one is never evaluated)."""
    return public_projects().annotate(**public_facts(today)).values(*CARD_VALUES)


def project_cards(ids: list[int] | None = None, sort: str = DEFAULT_SORT, *, limit: int | None = None):
    """The public projects with these `ids` (a page of the list), or the first `limit` in
    the order chosen, as the lists show them: two queries, plain rows (no model is
    built, none reaches a template)."""
    rows = _card_rows_of(timezone.localdate()).order_by(*ordering(sort))
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    rows = list(rows[:limit] if limit else rows)
    places: dict[int, list[str]] = {row["pk"]: [] for row in rows}
    through = Proposal.places.through.objects.filter(proposal_id__in=places).order_by("region__path", "region_id")
    for proposal_id, name in through.values_list("proposal_id", "region__name"):
        places[proposal_id].append(name)
    return [_card(row, places[row["pk"]]) for row in rows]


# ---- one project -----------------------------------------------------------------------------------


def page_queryset(pk: int) -> QuerySet:
    """What a project's page reads of it: the list's columns and a few more (PAGE_FIELDS)."""
    return listed(public_projects().filter(pk=pk), labelled_places=True).select_related("agreement").only(*PAGE_FIELDS)


def public_project(pk: int) -> Proposal:
    """One public project with its public columns, released sum, grade visibility and
    places (two queries); Http404 for an unknown id or a project not (yet) public."""
    found = list(page_queryset(pk))
    if not found:
        raise Http404("没有这个资助项目")
    return found[0]


def _reports(proposal: Proposal) -> list[ProgressReport]:
    """The submitted and reviewed reports, their figures only, by period."""
    return list(
        ProgressReport.objects.filter(proposal=proposal, status__in=COUNTED)
        .only(
            "pk",
            "proposal_id",
            "status",
            "period",
            "period_start",
            "period_end",
            "public_text",
            "activities_held",
            "participants",
            "kpi_progress",
        )
        .order_by("period_start", "pk")
    )


def final_result(proposal: Proposal) -> dict | None:
    """The published final evaluation: grade, total (as in the 评估结果公示), the
    evaluation's conclusion and the 公示 (pk, title, opening day); None before it is
    published. One query."""
    if not getattr(proposal, "grade_public", False):
        return None
    publicity = Publicity.objects.filter(call_id=proposal.call_id, kind=PublicityKind.EVALUATION)
    evaluation = (
        Evaluation.objects.filter(proposal=proposal, kind=EvaluationKind.FINAL, status=EvaluationStatus.SUBMITTED)
        .order_by("-attempt")
        .only("status", "total", "grade", "comment", "passed", "submitted_at")
        .annotate(
            publicity_id=Subquery(publicity.values("pk")[:1]),
            publicity_title=Subquery(publicity.values("title")[:1]),
            published_on=Subquery(publicity.values("opens_on")[:1]),
        )
        .first()
    )
    if evaluation is None or evaluation.publicity_id is None:
        return None
    return {
        "grade": evaluation.grade,
        "total": f"{evaluation.total:.2f}" if evaluation.total is not None else "—",
        "passed": evaluation.passed,
        "comment": evaluation.comment,
        "evaluated_on": timezone.localdate(evaluation.submitted_at) if evaluation.submitted_at else None,
        "publicity_id": evaluation.publicity_id,
        "publicity_title": evaluation.publicity_title,
        "published_on": evaluation.published_on,
    }


def project_facts(proposal: Proposal) -> dict:
    """Everything the project's page shows beyond the list's facts: the needs it answers,
    its KPIs against what the reports say was reached, the reach so far, the public
    progress updates with their photos, the published final evaluation, its period and
    beneficiaries. Five queries (reports, KPIs, needs, photos, evaluation), whatever the
    number of reports, photos or needs."""
    reports = _reports(proposal)
    kpis = [
        {
            "indicator": row.kpi.indicator,
            "target": f"{row.target_text}{row.kpi.unit}",
            "reached": row.reached_unit_text,
            "percent": row.percent_text if row.reached is not None else "—",
            "method": row.kpi.method,
        }
        for row in kpi_table(proposal, reports=reports)
    ]
    agreement = _agreement_of(proposal)
    if agreement is not None:
        period = (agreement.starts_on, agreement.ends_on)
    else:
        period = (proposal.start_month, proposal.end_month)
    return {
        "needs": list(public_needs().filter(proposals=proposal).order_by("-supporters", "-people_count", "pk")),
        "kpis": kpis,
        "reach": {
            "reports": len(reports),
            "activities": sum(r.activities_held or 0 for r in reports),
            "participants": sum(r.participants or 0 for r in reports),
        },
        "updates": public_updates(proposal, reports=reports),
        "final": final_result(proposal),
        "period": period,
        "signed_on": agreement.signed_on if agreement is not None else None,
        "beneficiaries_direct": proposal.beneficiaries_direct,
        "beneficiaries_indirect": proposal.beneficiaries_indirect,
        "ended_on": timezone.localdate(proposal.ended_at) if proposal.ended_at else None,
        "places": [place_label(r) for r in proposal.places.all()],
    }


def _agreement_of(proposal: Proposal):
    """The project's agreement (loaded with it by `public_project`), None before one is drawn up."""
    try:
        return proposal.agreement
    except ObjectDoesNotExist:
        return None


# ---- a photo the organisation marked public --------------------------------------------------------


def public_photo(project_pk: int, photo_pk: int) -> ReportPhoto:
    """A photo of a public project's submitted or reviewed report that the organisation
    marked public; Http404 for any other."""
    photo = (
        ReportPhoto.objects.filter(
            pk=photo_pk,
            public=True,
            report__proposal_id=project_pk,
            report__status__in=COUNTED,
            report__proposal__status__in=PUBLIC_STATES,
        )
        .only("pk", "image", "caption")
        .first()
    )
    if photo is None:
        raise Http404("没有这张照片")
    return photo
