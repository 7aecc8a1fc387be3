"""Volume review: an expert pool and, for every volume call under review or past it, the
panels, scores and decisions the review services (grants.services.review, .award) would
have left, written in bulk.

- `ensure_experts`: volume experts (login zj00001…, the demo's password, the reviewer
  role, two or three fields of expertise), enough that no call gives one of them more
  than `EXPERT_LOAD` proposals.
- `make_reviews`: each call's 专家评审 round and, for every proposal past the eligibility
  check without a panel, `call.panel_size` assignments (the experts in turn, the least
  loaded first; now and then one who declared a conflict and the one who replaced them),
  each criterion's points within its weight (an expert's leniency, the proposal's quality,
  noise; on a few proposals one reviewer far from the others), the comments and the
  declaration and submission times. Then, by the call's stage:
    this year's calls under review: the round open, about 60% submitted, drafts and
      undeclared assignments beside them; the proposals 专家评审中;
    this year's 大赛: every score in, the round closed a day ago and the ranking stored
      (grants.services.award.store_ranking); the proposals 评审完成, 5,000 of them at
      `--proposals 20000`, what the review benchmarks measure;
    past calls: the round closed and ranked, the award list (grants.ranking.award_list)
      walked within the pool (sized at the first decision to fund about half of what the
      call ranked, `_size_pool`): the funded proposals shortlisted, publicised and
      approved with their amount, the others not funded.
  Every status by a legal path of its state machine (base.walk), the audit rows through
  core.workflow.log_bulk (base.log), an assignment's at its own time by its expert
  (base.stamp).

Not made: the draw records (PanelDraw: the candidates of every draw would be most of the
volume) and the 公示 (Publicity, whose CMS pages are made one at a time)."""

import datetime
import math
import random
from collections import Counter, defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, OuterRef, Sum

from accounts.demo import demo_password_hash
from accounts.models import Region, User
from accounts.roles import Role, role_group
from orgs.models import ServiceArea

from .. import ranking as rk
from ..models import (
    Assignment,
    AssignmentStatus,
    Call,
    CallStatus,
    ExpertProfile,
    Proposal,
    ProposalStatus,
    ReviewRound,
    RoundStatus,
    Stage,
)
from ..models.calls import DEFAULT_CATEGORY_CODES
from ..selectors.review import call_ranking
from ..services.award import decline_reason
from .base import VOLUME_DOMAIN, Ctx, insert_many, keep_dates, log, pick, stamp, update_many, walk
from .calls import kind
from .words import REVIEW_COMMENTS, person

A, P, CS = AssignmentStatus, ProposalStatus, CallStatus
EXPERT_LOAD = 200  # a volume expert's max_per_call
MIN_EXPERTS = 40
DONE_CALLS = (CS.DECIDED, CS.IMPLEMENTING, CS.FINISHED)
# an assignment in an open round: what its expert has done so far, in percent
OPEN_MIX = {A.SUBMITTED: 60, "draft": 10, A.SCORING: 10, A.ASSIGNED: 20}
RECUSED_ODDS = 0.02  # a proposal whose panel had one expert declare a conflict (and be replaced)
DISPUTED_ODDS = 0.03  # a proposal one of whose reviewers scores it far below the others
EMPLOYERS = (
    "湖北大学社会学院",
    "鄂州职业大学",
    "华中师范大学社会学院",
    "武汉理工大学法学与人文社会学院",
    "鄂州市社会工作协会",
    "鄂州市社会组织评估中心",
    "湖北鄂东律师事务所",
    "湖北楚望律师事务所",
    "鄂州天衡会计师事务所",
    "鄂州中信会计师事务所",
    "鄂州市中心医院",
    "鄂州市第一中学",
)
TITLES = ("教授", "副教授", "讲师", "秘书长", "律师", "注册会计师", "高级社工师", "副主任医师", "高级教师")
CONFLICT_NOTES = ("近亲属在申报组织任职。", "曾为该项目提供有偿咨询。", "与申报组织负责人为同事。")


# ---- the pool -----------------------------------------------------------------------------------


def volume_experts():
    return ExpertProfile.objects.filter(user__email__endswith=f"@{VOLUME_DOMAIN}", user__username__startswith="zj")


def ensure_experts(ctx: Ctx, n: int) -> list[tuple[int, int]]:
    """At least `n` volume experts; returns (profile id, user id) of each, in id order."""
    have = volume_experts().count()
    if have < n:
        _make_experts(ctx, have, n - have)
    return list(volume_experts().order_by("pk").values_list("pk", "user_id"))


def _make_experts(ctx: Ctx, start: int, n: int) -> None:
    rng = ctx.rng
    regions = [r for r in ctx.regions if r.level <= Region.Level.DISTRICT] or ctx.regions
    users = User.objects.bulk_create(
        [
            User(
                username=f"zj{i:05d}",
                name=person(rng),
                mobile=f"188{i:08d}",
                email=f"zj{i:05d}@{VOLUME_DOMAIN}",
                password=demo_password_hash(),
            )
            for i in range(start + 1, start + n + 1)
        ],
        batch_size=1000,
    )
    group = role_group(Role.REVIEWER)
    insert_many(User.groups.through, [{"user_id": u.pk, "group_id": group.pk} for u in users])
    joined = ctx.at(ctx.today - datetime.timedelta(days=5 * 365), 9, 0)
    with keep_dates(ExpertProfile, "created_at"):
        profiles = ExpertProfile.objects.bulk_create(
            [
                ExpertProfile(
                    user=u,
                    region=rng.choice(regions),
                    employer=rng.choice(EMPLOYERS),
                    title=rng.choice(TITLES),
                    max_per_call=EXPERT_LOAD,
                    created_at=joined,
                )
                for u in users
            ],
            batch_size=1000,
        )
    areas = list(ServiceArea.objects.filter(code__in=DEFAULT_CATEGORY_CODES).values_list("pk", flat=True))
    insert_many(
        ExpertProfile.expertise.through,
        [
            {"expertprofile_id": p.pk, "servicearea_id": a}
            for p in profiles
            for a in rng.sample(areas, min(len(areas), rng.randint(2, 3)))
        ],
    )
    ctx.counts["experts"] += n


# ---- the calls ----------------------------------------------------------------------------------


def _mode(call: Call) -> str | None:
    """open (scoring under way) | closed (scored and ranked) | decided (approved or not)."""
    if call.status in DONE_CALLS:
        return "decided"
    if call.status == CS.PUBLICISING:
        return "closed"
    if call.status == CS.REVIEWING:
        return "closed" if kind(call) == "contest" else "open"
    return None


def make_reviews(ctx: Ctx, calls: list[Call], say=None) -> int:
    """Review every proposal past the eligibility check that has no panel yet in the
    volume calls under review or past it. Returns how many proposals were reviewed."""
    calls = [c for c in calls if _mode(c)]
    waiting = dict(
        Proposal.objects.filter(call__in=calls, status=P.ELIGIBLE)
        .values_list("call_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    calls = sorted((c for c in calls if waiting.get(c.pk)), key=lambda c: -waiting[c.pk])
    if not calls:
        return 0
    held = dict(
        Assignment.objects.filter(round__call__in=calls)
        .values_list("round__call_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    seats = max(held.get(c.pk, 0) + waiting[c.pk] * (c.panel_size + 1) for c in calls)
    least = max(MIN_EXPERTS, math.ceil(seats / EXPERT_LOAD), max(c.panel_size for c in calls) + 1)
    with transaction.atomic():
        experts = ensure_experts(ctx, least)
    done, batch = 0, []
    for i, call in enumerate(calls):
        batch.append(call)
        if sum(waiting[c.pk] for c in batch) >= BATCH or i == len(calls) - 1:
            with transaction.atomic():
                done += _review_calls(ctx, batch, experts)
            if say:
                say(f"  专家评审 {done}/{sum(waiting.values())}")
            batch = []
    ctx.counts["reviewed"] += done
    return done


BATCH = 5000  # proposals reviewed in one transaction (a call is never split)


def _review_calls(ctx: Ctx, calls: list[Call], experts) -> int:
    """Review the waiting proposals of `calls`; the audit rows of all of them at the end."""
    last = Assignment.objects.aggregate(m=Max("pk"))["m"] or 0
    entries, done = [], 0
    closed = []  # the rounds' own audit entries
    for call in calls:
        done += _review_call(ctx, call, experts, entries, closed)
    _assignment_history(last)
    log(Proposal, entries)
    log(ReviewRound, closed)
    return done


class _Window:
    """A call's review days: when experts declared and scored, when the round closed."""

    def __init__(self, ctx: Ctx, call: Call, mode: str):
        d, today = datetime.timedelta, ctx.today
        self.moments = {}
        self.first = call.review_from
        if mode == "decided":
            self.last, self.closed = call.review_until, call.review_until + d(1)
        elif mode == "closed":  # closed early, yesterday, once every score was in
            self.last = max(self.first, min(call.review_until, today - d(2)))
            self.closed = max(self.last, min(call.review_until + d(1), today - d(1)))
        else:
            self.last, self.closed = max(self.first, min(call.review_until, today - d(1))), None

    def at(self, ctx: Ctx, day: datetime.date, hour: int, minute: int | None = None) -> datetime.datetime:
        """ctx.at, remembered: tens of thousands of rows share a few hundred moments."""
        key = (day, hour, ctx.rng.randrange(60) if minute is None else minute)
        if key not in self.moments:
            self.moments[key] = ctx.at(*key)
        return self.moments[key]

    def day(self, rng, after: datetime.date | None = None) -> datetime.date:
        start = max(self.first, after or self.first)
        return start + datetime.timedelta(days=rng.randint(0, max(0, (self.last - start).days)))


def _round(ctx: Ctx, call: Call, mode: str, window: _Window, closed_rounds: list) -> ReviewRound:
    rnd = ReviewRound.objects.filter(call=call, stage=Stage.REVIEW).first()
    if rnd is not None:
        return rnd
    closed = mode != "open"
    with keep_dates(ReviewRound, "opened_at"):
        rnd = ReviewRound.objects.create(
            call=call,
            stage=Stage.REVIEW,
            deadline=call.review_until,
            status=RoundStatus.CLOSED if closed else RoundStatus.OPEN,
            opened_at=ctx.at(window.first, 9, 0),
            closed_at=ctx.at(window.closed, 9, 0) if closed else None,
            closed_by=ctx.checker if closed else None,
        )
    if closed:
        closed_rounds.append((rnd.pk, walk(ReviewRound, ["close"], "open")[0], rnd.closed_at, ctx.checker, ""))
    return rnd


def _points(rng, rubric, share: float) -> tuple[dict, int]:
    """criterion key → points as a Decimal string (tenths, within the weight), and the total in tenths."""
    points, total = {}, 0
    for c in rubric:
        weight = int(round(float(c["weight"]) * 10))
        x = min(1.0, max(0.2, share + rng.gauss(0, 0.05)))
        tenths = min(weight, round(weight * x))
        points[c["key"]] = f"{tenths // 10}.{tenths % 10}"
        total += tenths
    return points, total


def _review_call(ctx: Ctx, call: Call, experts: list[tuple[int, int]], entries: list, rounds: list) -> int:
    """One call's panels and scores; the audit entries of its proposals are added to
    `entries`, of its round (when closed) to `rounds`."""
    rng, mode = ctx.rng, _mode(call)
    window = _Window(ctx, call, mode)
    rnd = _round(ctx, call, mode, window, rounds)
    rubric = call.rubric
    ids = list(Proposal.objects.filter(call=call, status=P.ELIGIBLE).order_by("pk").values_list("pk", flat=True))
    # the experts in turn, the least loaded in this call first
    load = Counter(
        dict(Assignment.objects.filter(round=rnd).values_list("expert_id").annotate(n=Count("pk")).order_by())
    )
    turn = sorted(experts, key=lambda e: (load[e[0]], rng.random()))
    leniency = {e: random_leniency(e) for e, _u in experts}
    rows, k = [], 0
    for pk in ids:
        quality = rng.uniform(0.45, 0.95)
        size = call.panel_size + (1 if rng.random() < RECUSED_ODDS else 0)
        panel = [turn[(k + i) % len(turn)][0] for i in range(size)]
        k += size
        dissent = rng.randrange(size) if rng.random() < DISPUTED_ODDS else None
        for i, expert in enumerate(panel):
            status = A.SUBMITTED if mode != "open" else pick(rng, OPEN_MIX)
            if i == 0 and size > call.panel_size:
                status = "recused"
            share = quality + leniency[expert] - (0.3 if i == dissent else 0.0)
            rows.append(_assignment(ctx, rnd, pk, expert, status, share, rubric, window))
    insert_many(Assignment, rows)
    ctx.counts["assignments"] += len(rows)
    ctx.counts["scores"] += sum(1 for r in rows if r["status"] == A.SUBMITTED)
    _proposal_history(ctx, call, rnd, ids, mode, entries)
    return len(ids)


def random_leniency(expert_id: int) -> float:
    """An expert's own lean, the same in every call (harsh below 0, lenient above)."""
    return random.Random(f"leniency:{expert_id}").gauss(0, 0.05)


def _assignment(ctx, rnd, proposal_id, expert_id, status, share, rubric, window) -> dict:
    rng = ctx.rng
    declared = window.day(rng)
    row = {
        "round_id": rnd.pk,
        "proposal_id": proposal_id,
        "expert_id": expert_id,
        "created_at": window.at(ctx, window.first, 9, 0),
        "status": status,
    }
    if status == A.ASSIGNED:
        return row
    row["declared_at"] = window.at(ctx, declared, 9)
    if status == "recused":
        row.update(status=A.RECUSED, conflict_kind="other", conflict_note=rng.choice(CONFLICT_NOTES))
        return row
    if status == A.SCORING:
        return row
    points, total = _points(rng, rubric, share)
    saved = window.at(ctx, window.day(rng, declared), rng.randint(10, 21))
    if status == "draft":  # scoring, the first criteria typed
        keep = dict(list(points.items())[: rng.randint(1, max(1, len(points) - 1))])
        row.update(status=A.SCORING, points=keep, saved_at=saved)
        return row
    bank = "high" if share >= 0.83 else "mid" if share >= 0.66 else "low"
    row.update(
        points=points,
        comment=rng.choice(REVIEW_COMMENTS[bank]),
        total=f"{total / 10:.2f}",
        saved_at=saved,
        submitted_at=saved,
    )
    return row


def _assignment_history(last: int) -> None:
    """The audit rows of the assignments after `last`: their paths, by their experts at their own times."""
    paths = {
        A.SCORING: ("declare_none",),
        A.SUBMITTED: ("declare_none", "submit"),
        A.RECUSED: ("declare_conflict",),
    }
    entries = []
    for pk, status in Assignment.objects.filter(pk__gt=last).values_list("pk", "status"):
        for step in walk(Assignment, paths.get(status, ()), A.ASSIGNED):
            entries.append((pk, step, None, None, ""))
    since = log(Assignment, entries)
    own = Assignment.objects.filter(pk=OuterRef("object_id"))
    for name, field in (
        ("declare_none", "declared_at"),
        ("declare_conflict", "declared_at"),
        ("submit", "submitted_at"),
    ):
        stamp(Assignment, since, name, own, field, "expert__user_id")


def _proposal_history(ctx: Ctx, call: Call, rnd: ReviewRound, ids: list[int], mode: str, entries: list) -> None:
    """The proposals' statuses and audit rows; in a closed round the stored ranking, in a
    decided call the award list walked within what the pool still holds."""
    d = datetime.timedelta
    begin = ("begin_review",)
    if mode == "open":
        _move(ctx, ids, P.UNDER_REVIEW, begin, {"begin_review": ctx.at(call.review_from, 9, 0)}, entries)
        return
    closed = rnd.closed_at or ctx.at(call.review_until + d(1), 9, 0)
    at = {"begin_review": ctx.at(call.review_from, 9, 0), "finish_review": closed}
    Proposal.objects.filter(pk__in=ids).update(status=P.REVIEWED)
    result = call_ranking(call)
    _store(result.ranking)
    if mode == "closed":
        _move(ctx, ids, P.REVIEWED, (*begin, "finish_review"), at, entries, moved=True)
        return
    # 批复: the award list over the call, funding the new proposals within what is left of the pool
    _size_pool(call, result)
    award = rk.award_list(
        result.ranking,
        result.proposals,
        pool=call.pool_total,
        min_score=call.min_fundable_score,
        skip_to_cheaper=call.fund_cheaper_after_skip,
    )
    left = call.pool_total - (
        Proposal.objects.filter(call=call, status=P.APPROVED).aggregate(s=Sum("awarded_amount"))["s"] or 0
    )
    new, funded = set(ids), {}
    for row in award.rows:
        if row.funded and row.proposal in new and row.awarded <= left:
            funded[row.proposal] = row.awarded
            left -= row.awarded
    at |= {
        "shortlist": ctx.at(call.publicity_from, 9, 0),
        "publicise": ctx.at(call.publicity_from, 9, 0),
        "approve": ctx.at(call.publicity_until + d(1), 10, 0),
        "decline": ctx.at(call.publicity_until + d(1), 10, 0),
    }
    decided = at["approve"]
    update_many(Proposal, ["awarded_amount", "decided_at"], [(pk, amount, decided) for pk, amount in funded.items()])
    _move(ctx, list(funded), P.APPROVED, (*begin, "finish_review", "shortlist", "publicise", "approve"), at, entries)
    # the others not funded, each with the reason approve_call gives
    rows = {r.proposal: r for r in result.ranking.rows}
    declined = defaultdict(list)
    for pk in ids:
        if pk not in funded:
            r = rows.get(pk)
            declined[decline_reason(call, r and r.final, r and r.rank, None)].append(pk)
    for reason, pks in declined.items():
        Proposal.objects.filter(pk__in=pks).update(decided_at=decided, status_reason=reason)
        _move(ctx, pks, P.NOT_FUNDED, (*begin, "finish_review", "decline"), at, entries, reason=reason)


def _size_pool(call: Call, result) -> None:
    """A call decided for the first time gets the pool its applications called for: its
    own, or, when they asked for more, enough to fund the first FUNDED_SHARE of its ranking
    (rounded up to 万元), so that about half of a year's reviewed proposals are funded
    (some 5,000 projects over five years at `--proposals 20000`)."""
    if Proposal.objects.filter(call=call, awarded_amount__isnull=False).exists():
        return
    rows = result.ranking.rows[: math.ceil(len(result.ranking.rows) * FUNDED_SHARE)]
    frame = result.proposals
    asked = sum((Decimal(frame.loc[r.proposal, "requested"] or 0) for r in rows), Decimal(0))
    needed = Decimal(math.ceil(asked / 10_000) * 10_000)
    if needed > call.pool_total:
        call.pool_total = needed
        Call.objects.filter(pk=call.pk).update(pool_total=needed)


FUNDED_SHARE = 0.5


def _dec(value):
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def _store(ranking) -> None:
    """What grants.services.award.store_ranking writes (each ranked proposal's review and
    pitch aggregate, final score, rank and spread flag), in one executemany."""
    update_many(
        Proposal,
        ["review_score", "pitch_score", "score", "rank", "spread_flagged"],
        [
            (r.proposal, _dec(r.aggregate), _dec(r.pitch_aggregate), _dec(r.final), r.rank, bool(r.flagged))
            for r in ranking.rows
        ],
    )


def _move(ctx: Ctx, ids, status, path, at: dict, entries: list, *, moved: bool = False, reason: str = "") -> None:
    """Put `ids` in `status` by `path` (from 资格审查通过); the audit entry of each step,
    at its time by the call manager, is added to `entries`."""
    if not ids:
        return
    if not moved:
        for i in range(0, len(ids), 5000):
            Proposal.objects.filter(pk__in=ids[i : i + 5000]).update(status=status)
    steps = walk(Proposal, path, P.ELIGIBLE)
    assert steps[-1][2] == status, (path, status)
    why = {"begin_review": "随机抽取评审专家", "finish_review": "专家评审结束"}
    entries.extend(
        (pk, step, at[step[0]], ctx.checker, why.get(step[0], reason if step[0] == "decline" else ""))
        for step in steps
        for pk in ids
    )
