"""Reads of 需求征集: what the public sees (accepted needs, never a phone), what a call
page and an applicant citing needs are offered, what staff moderate (their region subtree)
and the hints they get (possible duplicates in the same community).

Public reads never select the submitter's phone or account; templates get `public_submitter`."""

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Substr
from django.shortcuts import get_object_or_404

from accounts.models import Region
from accounts.selectors import scope

from ..models import Call, CallStatus, Need, NeedStatus, ProposalStatus

P = ProposalStatus
# a proposal "answers" a need publicly once submitted; drafts, withdrawn and ineligible
# applications are not shown (an organisation's failed application is not the public's business)
NOT_PUBLIC_PROPOSAL_STATES = (P.DRAFT, P.WITHDRAWN, P.INELIGIBLE)
# the calls a need may be tagged to: not yet closed for applications
TAGGABLE_CALL_STATES = (CallStatus.DRAFT, CallStatus.NEEDS, CallStatus.OPEN)
# organisation names of a blind call's proposals are shown once its results are public
RESULTS_PUBLIC_STATES = (CallStatus.PUBLICISING, CallStatus.DECIDED, CallStatus.IMPLEMENTING, CallStatus.FINISHED)
DUPLICATE_THRESHOLD = 50  # rapidfuzz ratio of two titles in the same community
DUPLICATE_CANDIDATES = 500  # the most recent needs of a community compared

# the columns the public pages read: never phone, submitted_by or submitted_ip
PUBLIC_FIELDS = (
    "title",
    "description",
    "affected",
    "people_count",
    "region",
    "submitter_kind",
    "submitter_name",
    "status",
    "call",
    "category",
    "supporters",
    "created_at",
    "moderated_at",
)
PUBLIC_RELATED = ("region__name", "region__path", "region__depth", "category__name", "call__title", "call__status")


def _street_path(region: Region) -> str | None:
    depth = Region.Level.STREET
    return region.path[: Region.steplen * depth] if region.depth >= depth else None


def with_street(qs: QuerySet) -> QuerySet:
    """Annotate `street`: the name of the street (街道/镇) above each need's community,
    read in the same query (a community's path starts with its street's)."""
    length = Region.steplen * Region.Level.STREET
    street = Region.objects.filter(path=Substr(OuterRef("region__path"), 1, length)).values("name")[:1]
    return qs.annotate(street=Subquery(street))


# ---- public ----------------------------------------------------------------------------------------


def public_needs() -> QuerySet:
    """Accepted needs with their place, category and call, public columns only."""
    needs = (
        Need.objects.filter(status=NeedStatus.ACCEPTED)
        .select_related("region", "category", "call")
        .only(*PUBLIC_FIELDS, *PUBLIC_RELATED)
    )
    return with_street(needs)


def with_answer_counts(qs: QuerySet) -> QuerySet:
    """Annotate `answered`: the proposals citing each need that the public may see."""
    return qs.annotate(
        answered=Count("proposals", filter=~Q(proposals__status__in=NOT_PUBLIC_PROPOSAL_STATES), distinct=True)
    )


def published_needs_for_call(call: Call) -> QuerySet:
    """The accepted needs a call answers, for its CallPage: most supported first. Each row
    has `.region` (the community), `.category`, `.people_count`, `.supporters` and
    `.street` (the street's name) and `.get_absolute_url()`."""
    return public_needs().filter(call=call).order_by("-supporters", "-people_count", "-created_at", "-pk")


def needs_for_citation(call: Call) -> QuerySet:
    """The accepted needs an applicant to `call` may cite: the call's own, then the other
    accepted needs within the call's region. `.own` is 1 for the call's own."""
    return (
        public_needs()
        .filter(Q(call=call) | Q(region__path__startswith=call.region.path))
        .annotate(own=Case(When(call=call, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("-own", "region__path", "-supporters", "-pk")
    )


def public_need(pk: int) -> Need:
    return get_object_or_404(public_needs(), pk=pk)


def answering_proposals(need: Need) -> list:
    """The proposals that cite `need` and that the public may see, with their organisation
    and call. `.organisation_shown` is False while a blind call has not published results;
    `.funded` is True from the approval on (the project has a public page), with
    `.amount` (awarded) and `.grade` (the final grade, once published). One query."""
    from django.db.models.functions import Coalesce

    from ..models import Proposal
    from .public import PUBLIC_STATES, grade_published

    rows = list(
        Proposal.objects.filter(cited_needs=need)
        .exclude(status__in=NOT_PUBLIC_PROPOSAL_STATES)
        .select_related("organisation", "call")
        .annotate(amount=Coalesce("awarded_amount", "grant_amount"), grade_public=grade_published())
        .only(
            "title",
            "status",
            "submitted_at",
            "final_grade",
            "organisation__name",
            "organisation__status",
            "call__title",
            "call__year",
            "call__status",
            "call__blind_review",
        )
        .order_by("submitted_at", "pk")
    )
    for p in rows:
        p.organisation_shown = not p.call.blind_review or p.call.status in RESULTS_PUBLIC_STATES
        p.funded = p.status in PUBLIC_STATES
        p.grade = p.final_grade if p.grade_public else ""
    return rows


# ---- places to choose, without JavaScript ------------------------------------------------------------


def region_heads() -> dict[str, Region]:
    """Districts and streets by path (a few hundred rows at most): one query."""
    return {r.path: r for r in Region.objects.filter(level__in=[Region.Level.DISTRICT, Region.Level.STREET])}


def _street_label(street: Region, heads: dict) -> str:
    district = heads.get(street.path[: Region.steplen * Region.Level.DISTRICT])
    return f"{street.name}（{district.name}）" if district else street.name


def community_choices(within: Region | None = None, *, empty: str = "请选择社区（村）", heads=None) -> list:
    """Communities grouped by their street (an <optgroup> each), within a region's subtree
    when given: a choice a phone can make without scripts. Two queries (one with `heads`)."""
    heads = heads if heads is not None else region_heads()
    communities = Region.objects.filter(level=Region.Level.COMMUNITY).order_by("path")
    if within is not None:
        communities = communities.filter(path__startswith=within.path)
    groups: dict[str, list] = {}
    for c in communities.only("name", "path", "depth", "level"):
        street = heads.get(c.path[: Region.steplen * Region.Level.STREET])
        label = _street_label(street, heads) if street else "其他"
        groups.setdefault(label, []).append((c.pk, c.name))
    return [("", empty), *groups.items()]


def street_choices(*, empty: str = "全部街道（镇）", heads=None) -> list:
    heads = heads if heads is not None else region_heads()
    streets = sorted((r for r in heads.values() if r.level == Region.Level.STREET), key=lambda r: r.path)
    return [("", empty), *((s.pk, _street_label(s, heads)) for s in streets)]


# ---- staff -------------------------------------------------------------------------------------------


def needs_for_staff(user) -> QuerySet:
    """The needs in the user's region subtree (every need for a superuser)."""
    return scope(Need.objects.all(), user)


def need_for_staff(user, pk: int) -> Need:
    """One need with everything a moderator reads; a 404 outside the user's scope."""
    qs = needs_for_staff(user).select_related("region", "category", "call", "merged_into", "submitted_by")
    return get_object_or_404(with_street(qs), pk=pk)


def _comparable(title: str) -> str:
    return "".join((title or "").split())


def possible_duplicates(need: Need, *, limit: int = 5, threshold: int = DUPLICATE_THRESHOLD) -> list:
    """Other needs of the same community whose title is close to this one's, best first;
    each with `.similarity` (0–100). One query, however many needs the community has."""
    from rapidfuzz import fuzz, process

    rows = {
        n.pk: n
        for n in Need.objects.filter(region_id=need.region_id)
        .exclude(pk=need.pk)
        .only("title", "status", "created_at", "supporters")
        .order_by("-created_at")[:DUPLICATE_CANDIDATES]
    }
    choices = {pk: _comparable(n.title) for pk, n in rows.items()}
    found = process.extract(
        _comparable(need.title), choices, scorer=fuzz.ratio, processor=None, score_cutoff=threshold, limit=limit
    )
    result = []
    for _, score, pk in found:
        rows[pk].similarity = round(score)
        result.append(rows[pk])
    return result


def duplicate_flags(needs, *, threshold: int = DUPLICATE_THRESHOLD) -> dict[int, tuple[str, int]]:
    """For a page of needs waiting for moderation: pk → (closest other title in the same
    community, score) where one is at least `threshold` similar. One query for the page."""
    from rapidfuzz import fuzz, process

    waiting = [n for n in needs if n.status == NeedStatus.SUBMITTED]
    if not waiting:
        return {}
    titles: dict[int, str] = {}
    by_region: dict[int, dict[int, str]] = {}
    rows = Need.objects.filter(region_id__in={n.region_id for n in waiting}).values_list("pk", "region_id", "title")
    for pk, region_id, title in rows:
        titles[pk] = title
        by_region.setdefault(region_id, {})[pk] = _comparable(title)
    flags = {}
    for n in waiting:
        choices = {pk: t for pk, t in by_region.get(n.region_id, {}).items() if pk != n.pk}
        best = process.extractOne(
            _comparable(n.title), choices, scorer=fuzz.ratio, processor=None, score_cutoff=threshold
        )
        if best:
            flags[n.pk] = (titles[best[2]], round(best[1]))
    return flags


def merge_targets(need: Need, user) -> list:
    """The accepted needs `need` may be merged into: those of its street (or community)
    in the user's scope, the likely duplicates first, each with `.similarity`."""
    from rapidfuzz import fuzz

    area = _street_path(need.region) or need.region.path
    rows = list(
        needs_for_staff(user)
        .filter(status=NeedStatus.ACCEPTED, region__path__startswith=area)
        .exclude(pk=need.pk)
        .select_related("region")
        .order_by("-created_at")[:DUPLICATE_CANDIDATES]
    )
    me = _comparable(need.title)
    for r in rows:
        r.similarity = round(fuzz.ratio(me, _comparable(r.title)))
    return sorted(rows, key=lambda r: (r.region_id != need.region_id, -r.similarity, -r.pk))


def calls_for_tagging(need: Need, user=None) -> QuerySet:
    """The calls an accepted need may be tagged to: not yet closed, whose region contains
    the need's community (and lies in the user's scope when a user is given)."""
    paths = [need.region.path[: i * Region.steplen] for i in range(1, need.region.depth + 1)]
    qs = Call.objects.filter(status__in=TAGGABLE_CALL_STATES, region__path__in=paths)
    if user is not None:
        qs = scope(qs, user)
    return qs.select_related("region").prefetch_related("categories").order_by("-level", "-year", "-pk")


def waiting_summary(user) -> dict:
    """{count, oldest} of the needs waiting for moderation in the user's scope: one query."""
    from django.db.models import Min

    return (
        needs_for_staff(user).filter(status=NeedStatus.SUBMITTED).aggregate(count=Count("pk"), oldest=Min("created_at"))
    )
