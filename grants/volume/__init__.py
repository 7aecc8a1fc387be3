"""`manage.py seed_volume --proposals N`: realistic volume for benchmarks, written into the
configured database whether it is empty or already holds the demo.

One function per kind of row, one module per layer, so later stages add theirs
(reviews, money, evaluations) beside them:
- organisations.py: `ensure_regions` (the demo's tree when there is none),
  `ensure_checker`, `make_users`, `ensure_organisations`/`make_organisations` (over every
  street and community, with 负责人, service area, 年检, grades and history);
- calls.py: `ensure_calls` (every level, 市 区 街道 社区, for each of the last five years:
  past rounds finished, this year's in every stage, linked upward) and `make_needs`;
- proposals.py: `allocate` and `make_proposals` (every status, budgets of 3–8 lines with
  totals and shares by grants.rules, activities, KPIs, team, places, cited needs, a
  version per submission and the audit rows of their path);
- reviews.py: `ensure_experts` and `make_reviews` (the calls under review or past it: an
  expert pool, panels, scores and comments, the round open or closed and ranked, and in
  past calls the award list approved within the pool);
- funding.py: `make_funding` (the approved projects of calls implementing or finished:
  agreements, tranches released or withheld, progress reports, mid-term and final
  evaluations, closure with the unspent funds returned, termination with its clawback).

Running it again tops up: volume rows are recognised (users and organisations by their
e-mail domain, calls by their summary), missing calls of the grid are added, and
proposals are added until the volume calls hold N in all; the same N twice adds nothing.
The demo's own rows are never touched.

Rows are built in Python and bulk-inserted, 2,000 proposals to a transaction. Every status
is reached by a legal path of the model's own state machine (read from its FSM); audit
rows go through core.workflow.log_bulk grouped by step, then take each object's own time
and actor in one UPDATE per step."""

import math
import random
import time

from django.db import connection, transaction
from django.utils import timezone

from core import public_cache

from ..models import Proposal
from ..search import reindex_all
from .base import VOLUME_DOMAIN, VOLUME_SUMMARY, Ctx
from .calls import ensure_calls
from .funding import make_funding, publish_results
from .organisations import ensure_checker, ensure_organisations, ensure_regions
from .proposals import allocate, make_proposals
from .reviews import make_reviews

__all__ = ["VOLUME_DOMAIN", "VOLUME_SUMMARY", "seed_volume", "volume_proposals"]
BATCH = 2000
PROPOSALS_PER_ORG = 3.6  # enough verified organisations for the 大赛 to take a quarter of the proposals


def volume_proposals():
    return Proposal.objects.filter(call__summary=VOLUME_SUMMARY)


def seed_volume(proposals: int, *, seed: int = 420700, say=None) -> dict:
    """Top the volume calls up to `proposals` proposals. Returns the rows added by kind
    and the seconds each phase took; `say(line)` is told the progress."""
    say = say or (lambda line: None)
    started = time.perf_counter()
    have = volume_proposals().count()
    with transaction.atomic():
        regions = ensure_regions()
        ctx = Ctx(
            rng=random.Random(f"{seed}:{have}"),
            today=timezone.localdate(),
            checker=ensure_checker(regions[0]),
            regions=regions,
        )
        calls = ensure_calls(ctx)
    timings = {"calls": time.perf_counter() - started}
    say(
        f"征集 {len(calls)} 个（新建 {ctx.counts['calls']} 个，社区需求 {ctx.counts['needs']} 条），{timings['calls']:.1f} 秒"
    )
    wanted = proposals - have
    if wanted > 0:
        t = time.perf_counter()
        nodes = sum(1 for r in regions if r.level >= 3)
        with transaction.atomic():
            orgs = ensure_organisations(ctx, max(math.ceil(proposals / PROPOSALS_PER_ORG), 2 * nodes))
        timings["organisations"] = time.perf_counter() - t
        say(
            f"社会组织 {len(orgs)} 家可申报（新建 {ctx.counts['organisations']} 家），{timings['organisations']:.1f} 秒"
        )
        t = time.perf_counter()
        pairs = allocate(ctx, calls, orgs, wanted)
        for i in range(0, len(pairs), BATCH):
            with transaction.atomic():
                make_proposals(ctx, pairs[i : i + BATCH])
            say(f"  申报项目 {ctx.counts['proposals']}/{len(pairs)}，{time.perf_counter() - t:.1f} 秒")
        timings["proposals"] = time.perf_counter() - t
        if len(pairs) < wanted:
            say(f"可申报的组织不足，少建了 {wanted - len(pairs)} 个申报项目。")
    t = time.perf_counter()
    reviewed = make_reviews(ctx, calls, say=say)
    timings["reviews"] = time.perf_counter() - t
    if reviewed:
        say(
            f"专家评审 {reviewed} 个项目（评审专家 {ctx.counts['experts']} 位新建，评审任务 {ctx.counts['assignments']} 个，"
            f"已提交评分 {ctx.counts['scores']} 份），{timings['reviews']:.1f} 秒"
        )
    t = time.perf_counter()
    funded = make_funding(ctx, calls, say=say)
    timings["funding"] = time.perf_counter() - t
    if funded:
        c = ctx.counts
        say(
            f"资金与评估 {funded} 个项目（拨付 {c['tranches']} 笔，进度报告 {c['reports']} 份，评估 {c['evaluations']} 次；"
            f"已结项 {c['funding:closed']} 个，已终止 {c['funding:terminated']} 个），{timings['funding']:.1f} 秒"
        )
    published = publish_results(ctx, calls)
    if published:
        say(f"评估结果公示 {published} 个")
    t = time.perf_counter()
    if any(ctx.counts.values()):  # rows written in bulk send no signals: 资助项目's search index too
        indexed = reindex_all()
        say(f"资助项目检索索引 {indexed} 个，{time.perf_counter() - t:.1f} 秒")
    timings["search"] = time.perf_counter() - t
    public_cache.changed()  # rows written in bulk send no signals: the public pages are out of date
    # fresh rows have no planner statistics (PostgreSQL's until autovacuum runs, SQLite's
    # until someone asks): without them SQLite counts a filtered list by the wrong index
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["total"] = time.perf_counter() - started
    return {"have": have, "total": volume_proposals().count(), "added": dict(ctx.counts), "seconds": timings}
