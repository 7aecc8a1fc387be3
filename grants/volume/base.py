"""What every part of the volume generator shares: the markers of volume rows, the
context (random source, today, the checking staff member, the region tree), legal paths
read from a model's state machine, and bulk audit rows."""

import datetime
import random
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Max, Subquery
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.models import Region, User
from core.bulk import update_many  # noqa: F401  (re-exported for the volume modules)
from core.workflow import log_bulk

VOLUME_DOMAIN = "volume.example.org"  # the e-mail domain of volume users and organisations
VOLUME_SUMMARY = "按历年征集规模批量生成的征集，供性能测试使用。"  # the summary of volume calls


@dataclass
class Ctx:
    rng: random.Random
    today: datetime.date
    checker: User
    regions: list[Region]  # the whole tree, in path order (the first is the city)
    counts: Counter = field(default_factory=Counter)
    now: datetime.datetime = field(default_factory=timezone.now)

    def at(self, day: datetime.date, hour: int = 10, minute: int | None = None) -> datetime.datetime:
        """`day` at `hour` (local time), never later than now."""
        minute = self.rng.randrange(60) if minute is None else minute
        return min(timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute))), self.now)

    @property
    def city(self) -> Region:
        return self.regions[0]

    @cached_property
    def full_names(self) -> dict[str, str]:
        names, step = {r.path: r.name for r in self.regions}, Region.steplen
        return {p: "".join(names.get(p[:i], "") for i in range(step, len(p) + 1, step)) for p in names}

    def full_name(self, region: Region) -> str:
        return self.full_names[region.path]

    def under(self, region: Region, level: int) -> list[Region]:
        return [r for r in self.regions if r.level == level and region.contains(r)]


def walk(model, path, start="draft") -> list[tuple[str, str, str]]:
    """The (name, source, target) steps of `path` by the model's own state machine."""
    fsm = model._meta.get_field("status")
    table = {(t.name, t.source): t.target for t in fsm.get_all_transitions(model)}
    state, steps = start, []
    for name in path:
        target = table[(name, state)]  # KeyError: not a legal path
        steps.append((name, state, target))
        state = target
    return steps


def pick(rng, weighted):
    """One key of {value: weight}."""
    return rng.choices(list(weighted), list(weighted.values()))[0]


def short(name: str) -> str:
    return name.split("（")[0]


@contextmanager
def keep_dates(model, *names):
    """bulk_create keeps the created/updated times the generator gives (auto_now off)."""
    fields = [model._meta.get_field(n) for n in names]
    saved = [(f.auto_now, f.auto_now_add) for f in fields]
    try:
        for f in fields:
            f.auto_now = f.auto_now_add = False
        yield
    finally:
        for f, (now, add) in zip(fields, saved, strict=True):
            f.auto_now, f.auto_now_add = now, add


def insert_many(model, rows: list[dict], batch: int = 2000) -> None:
    """INSERT `rows` (attname -> Python value; missing columns take the field's default)
    with one executemany per batch: what bulk_create writes, without building a model
    instance per row, for rows whose primary keys nobody needs (child and link rows).
    Values other than str, int and None are converted by their field, as the ORM does."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    plain = (str, int, type(None))

    def value(f, v):
        return v if isinstance(v, plain) else f.get_db_prep_save(v, connection)

    with connection.cursor() as cursor:
        for i in range(0, len(rows), batch):
            cursor.executemany(
                sql,
                [tuple(value(f, r.get(f.attname, defaults[f.attname])) for f in fields) for r in rows[i : i + batch]],
            )


def log(model, entries) -> int:
    """Audit rows through core.workflow.log_bulk, one INSERT per (step, time, actor,
    reason); `entries` are (pk, (name, source, target), at, by, reason). Rows written
    with `at=None` and `by=None` are then given each object's own time and actor by
    `stamp`. Returns the last audit row's pk before these (what `stamp` starts after)."""
    since = StateLog.objects.aggregate(m=Max("pk"))["m"] or 0
    groups, users = defaultdict(list), {}
    for pk, step, at, by, reason in entries:
        users[getattr(by, "pk", None)] = by
        groups[(step, at, getattr(by, "pk", None), reason)].append(pk)
    for (step, at, by, reason), ids in groups.items():
        log_bulk(model, ids, [step], by=users[by], reason=reason, at=at)
    return since


def stamp(model, since: int, transition: str, rows, time_field: str, by_field: str) -> None:
    """The audit rows of `transition` written after row `since` take each object's own
    time and actor from `rows` (a queryset correlated to StateLog.object_id): one UPDATE,
    over the new rows only (a primary-key range, however large the log grows)."""
    StateLog.objects.filter(
        pk__gt=since, content_type=ContentType.objects.get_for_model(model), transition=transition
    ).update(timestamp=Subquery(rows.values(time_field)[:1]), by_id=Subquery(rows.values(by_field)[:1]))
