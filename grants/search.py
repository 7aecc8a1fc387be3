"""资助项目检索: the public full-text search over funded projects (Wagtail search), and
how Chinese text is segmented for it.

Segmentation. Chinese is written without spaces, and neither SQLite FTS5's unicode61
tokenizer nor PostgreSQL's default parser splits it into words: "社区助老服务" is one token
to both, so a search for "助老" would find nothing. A dictionary segmenter (jieba and the
like) ships a large dictionary and still misses the words it does not know (names of
brands such as 老宝贝, 小候鸟). So the text is indexed as character n-grams (`ngrams`):
each run of Chinese characters becomes its overlapping bigrams plus its single
characters ("助老服务" → "助老 老服 服务 助 老 服 务"), Latin words and numbers are kept
as whole lower-cased words (NFKC first, so full-width "ＡＢＣ１２" is "abc12"), and
punctuation separates runs. A query is turned into the same grams (`query_terms`): the
bigrams of each Chinese run (a lone character stays itself) and the words, all required
(AND). A 2-character word is then found wherever it occurs; a longer one matches the
projects that contain every one of its bigrams, in practice the ones containing the
phrase. Both backends see only space-separated tokens, so SQLite FTS5 and PostgreSQL
full text (whatever its text-search configuration) behave the same.

What is indexed, and when. Only public projects (approved onward: `PUBLIC_STATES`), by
`Proposal.get_indexed_objects`. `Proposal.search_auto_update` is False, so Wagtail's own
signal handlers never run on the thousands of saves a draft, a check or a review makes;
instead (registered by grants.apps):
- `proposal_saved`: a public project saved (a status change, a new title or summary)
  is (re)indexed through the `index_projects` task; any other save costs no query;
- `publicity_saved`: the approval writes its projects' status in bulk (no save()), then
  publishes the 立项结果 公示: its projects are indexed then;
- bulk-inserted rows (seed_volume, imports) are indexed by `manage.py index_projects`
  (or Wagtail's `manage.py update_index`, which rebuilds every index).
An organisation renamed later is picked up by the next save of its project or the next
`index_projects`.

Searching. `matching_ids(q)` is a subquery of the ids of the public projects matching
`q`, so the caller filters, counts, sums, sorts and pages its own queryset in the
database (`Proposal.objects.filter(pk__in=matching_ids(q))`); `found_ids(q)` reads them
once, for a caller that counts and pages (the full-text match then runs once, not twice)."""

import re
import unicodedata

from django.db.models import QuerySet
from django_tasks import task

# the CJK unified ideographs (basic, extension A, compatibility, extensions B onward)
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUNS = re.compile(rf"[{HAN}]+|[^\W_{HAN}]+")
_HAN_RUN = re.compile(rf"[{HAN}]+")
MAX_QUERY_TERMS = 20  # a pasted paragraph is cut, not turned into a hundred-term query


def _runs(text: str) -> list[str]:
    return _RUNS.findall(unicodedata.normalize("NFKC", text or "").lower())


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)] or [run]


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def ngrams(text: str) -> str:
    """`text` as the index stores it: each Chinese run's bigrams and characters, each
    Latin word or number as is (lower case), space-separated, each gram once."""
    grams = []
    for run in _runs(text):
        if _HAN_RUN.fullmatch(run):
            grams.extend(_bigrams(run))
            grams.extend(run)
        else:
            grams.append(run)
    return " ".join(_unique(grams))


def query_terms(query: str) -> list[str]:
    """The grams a query must all match: each Chinese run's bigrams (a single character
    stays itself), each Latin word or number."""
    terms = []
    for run in _runs(query):
        terms.extend(_bigrams(run) if _HAN_RUN.fullmatch(run) else [run])
    return _unique(terms)[:MAX_QUERY_TERMS]


# ---- what is indexed ---------------------------------------------------------------------------


def public_states() -> tuple:
    from .selectors.public import PUBLIC_STATES

    return PUBLIC_STATES


def indexed_projects() -> QuerySet:
    """Proposal.get_indexed_objects: the public projects, with what their text reads."""
    from .models import Proposal

    return Proposal.objects.filter(status__in=public_states()).select_related("organisation")


def project_text(proposal) -> str:
    """Proposal.search_text: the grams of its title, its organisation's name and summary."""
    return " ".join(
        part for part in (ngrams(proposal.title), ngrams(proposal.organisation.name), ngrams(proposal.summary)) if part
    )


def index_now(ids) -> int:
    """(Re)index the public projects among `ids` in every auto-updated search backend;
    returns how many were indexed (the others are left alone)."""
    from wagtail.search.backends import get_search_backends_with_name

    from .models import Proposal

    projects = list(indexed_projects().filter(pk__in=list(ids)).order_by("pk"))
    if projects:
        for _name, backend in get_search_backends_with_name(with_auto_update=True):
            backend.add_bulk(Proposal, projects)
    return len(projects)


@task()
def index_projects(ids: list[int]) -> int:
    """The background form of `index_now` (a task's arguments are JSON: a list of ids)."""
    return index_now(ids)


def reindex_all(*, chunk: int = 500, say=None) -> int:
    """Index every public project, `chunk` at a time: after bulk inserts. On SQLite the
    index's statistics are refreshed too (ANALYZE): without them the planner joins the
    index entries before the full-text match and a search of 5,000 projects takes
    200 ms instead of 10 (PostgreSQL keeps its statistics by itself)."""
    from django.db import connection
    from wagtail.search.models import IndexEntry

    ids = list(indexed_projects().order_by("pk").values_list("pk", flat=True))
    done = 0
    for i in range(0, len(ids), chunk):
        done += index_now(ids[i : i + chunk])
        if say:
            say(f"已索引 {done} / {len(ids)} 个项目")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f'ANALYZE "{IndexEntry._meta.db_table}"')
    return done


# ---- keeping it current ------------------------------------------------------------------------

INDEXED_FIELDS = {"status", "title", "summary", "organisation", "organisation_id"}


def proposal_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    """post_save of Proposal: a public project's text or status changed → (re)index it.
    A proposal that is not public costs nothing (no query)."""
    if raw or instance.status not in public_states():
        return
    if update_fields is not None and not INDEXED_FIELDS.intersection(update_fields):
        return
    index_projects.enqueue([instance.pk])


def proposal_deleted(sender, instance, **kwargs):
    if instance.status in public_states():
        from wagtail.search import index

        index.remove_object(instance)


def publicity_saved(sender, instance, created, raw=False, **kwargs):
    """post_save of Publicity: the 立项结果 of a call is published right after its
    approval, which wrote the projects' status in bulk: index them now."""
    from .models import PublicityKind

    if raw or not created or instance.kind != PublicityKind.RESULT:
        return
    ids = [r["proposal"] for r in instance.rows or [] if isinstance(r, dict) and r.get("proposal")]
    if ids:
        index_projects.enqueue(ids)


def connect() -> None:
    """Called once by grants.apps.GrantsConfig.ready."""
    from django.db.models.signals import post_delete, post_save

    from .models import Proposal, Publicity

    post_save.connect(proposal_saved, sender=Proposal, dispatch_uid="grants.search.proposal_saved")
    post_delete.connect(proposal_deleted, sender=Proposal, dispatch_uid="grants.search.proposal_deleted")
    post_save.connect(publicity_saved, sender=Publicity, dispatch_uid="grants.search.publicity_saved")


# ---- searching ---------------------------------------------------------------------------------


def matching_ids(query: str) -> QuerySet | list:
    """The ids of the public projects whose title, organisation or summary match `query`
    (every gram of it): a subquery for `pk__in` on the database backends (SQLite FTS5,
    PostgreSQL full text). An empty query matches nothing."""
    from wagtail.search.backends import get_search_backend

    from .models import Proposal

    terms = query_terms(query)
    if not terms:
        return Proposal.objects.none().values("pk")
    results = get_search_backend().search(
        " ".join(terms), Proposal.objects.order_by(), operator="and", order_by_relevance=False
    )
    get_queryset = getattr(results, "get_queryset", None)
    if get_queryset is None:  # a search service (Elasticsearch): its ids, fetched
        return [p.pk for p in results]
    return get_queryset().order_by().values("pk")


def found_ids(query: str) -> list[int]:
    """`matching_ids(query)` read (one query): for a caller that filters by them more than once."""
    found = matching_ids(query)
    return list(found.values_list("pk", flat=True)) if isinstance(found, QuerySet) else list(found)
