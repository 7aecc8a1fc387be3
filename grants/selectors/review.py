"""Reads of the review stage: a round's progress, the score frames grants.ranking works
on, and a call's ranking and award list. Each is a fixed number of queries whatever the
number of proposals and reviewers."""

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
from django.db.models import Q

from accounts.models import Region

from .. import ranking
from ..models import (
    FUNDED_STATES,
    Assignment,
    AssignmentStatus,
    ExpertProfile,
    Proposal,
    ProposalStatus,
    ReviewRound,
    Stage,
)

A = AssignmentStatus
P = ProposalStatus


def rounds_of(call) -> dict[str, ReviewRound]:
    return {r.stage: r for r in ReviewRound.objects.filter(call=call)}


# ---- progress -----------------------------------------------------------------------------------


@dataclass
class Progress:
    assignments: int = 0
    submitted: int = 0
    recused: int = 0
    waiting: int = 0  # not yet declared
    scoring: int = 0

    @property
    def active(self) -> int:
        return self.assignments - self.recused

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.active) if self.active else 0


def _add(p: Progress, status, n: int = 1) -> None:
    p.assignments += n
    if status == A.SUBMITTED:
        p.submitted += n
    elif status == A.RECUSED:
        p.recused += n
    elif status == A.ASSIGNED:
        p.waiting += n
    else:
        p.scoring += n


PROGRESS_ROWS = 50


def round_progress(rnd: ReviewRound) -> dict:
    """Completion of a round overall, per proposal and per reviewer (names of reviewers are
    for the call manager only): three queries whatever the size of the round."""
    total = Progress()
    per_proposal: dict[int, Progress] = defaultdict(Progress)
    per_expert: dict[int, Progress] = defaultdict(Progress)
    last_reminded = None
    for proposal_id, expert_id, status, reminded in Assignment.objects.filter(round=rnd).values_list(
        "proposal_id", "expert_id", "status", "reminded_at"
    ):
        _add(total, status)
        _add(per_proposal[proposal_id], status)
        _add(per_expert[expert_id], status)
        if reminded and (last_reminded is None or reminded > last_reminded):
            last_reminded = reminded
    experts = {e.pk: e for e in ExpertProfile.objects.filter(pk__in=list(per_expert)).select_related("user")}
    # the proposals furthest from done, the ones a manager chases; the rest are counted
    lagging = sorted(per_proposal, key=lambda k: (per_proposal[k].percent, k))[:PROGRESS_ROWS]
    proposals = {p.pk: p for p in Proposal.objects.filter(pk__in=lagging).only("pk", "number", "title", "status")}
    return {
        "total": total,
        "proposal_count": len(per_proposal),
        "proposals": [(proposals[k], per_proposal[k]) for k in lagging],
        "experts": sorted(((experts[k], v) for k, v in per_expert.items()), key=lambda ev: (ev[1].percent, ev[0].pk)),
        "last_reminded": last_reminded,
        "unscored": sum(1 for v in per_proposal.values() if v.submitted == 0),
    }


# ---- ranking --------------------------------------------------------------------------------------


def score_frame(rnd: ReviewRound | None) -> pd.DataFrame:
    """One row per submitted criterion score of the round: proposal, reviewer, criterion, points."""
    columns = ["proposal", "reviewer", "criterion", "points"]
    if rnd is None:
        return pd.DataFrame(columns=columns)
    rows = [
        (proposal_id, expert_id, key, float(value))
        for proposal_id, expert_id, points in Assignment.objects.filter(round=rnd, status=A.SUBMITTED).values_list(
            "proposal_id", "expert_id", "points"
        )
        for key, value in (points or {}).items()
    ]
    return pd.DataFrame(rows, columns=columns)


def _district_names() -> dict[str, str]:
    return {r.path: r.name for r in Region.objects.filter(level=Region.Level.DISTRICT).only("path", "name")}


def proposals_frame(call, ids=None) -> pd.DataFrame:
    """The proposals the ranking and the award list speak of, indexed by id."""
    qs = Proposal.objects.filter(call=call, status__in=RANKED_STATES)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    districts = _district_names()
    step = Region.steplen * Region.Level.DISTRICT
    rows = [
        {
            "id": pk,
            "number": number,
            "title": title,
            "requested": requested,
            "adjusted": adjusted,
            "submitted_at": submitted_at,
            "category": category or "未选择",
            "level": districts.get((path or "")[:step], "市直"),
        }
        for pk, number, title, requested, adjusted, submitted_at, category, path in qs.values_list(
            "pk",
            "number",
            "title",
            "grant_amount",
            "adjusted_amount",
            "submitted_at",
            "category__name",
            "organisation__region__path",
        )
    ]
    frame = pd.DataFrame(
        rows, columns=["id", "number", "title", "requested", "adjusted", "submitted_at", "category", "level"]
    )
    return frame.set_index("id")


# the proposals that are ranked: under review until approval, and the funded projects after it
RANKED_STATES = (P.UNDER_REVIEW, P.REVIEWED, P.PITCHED, P.SHORTLISTED, P.PUBLICISED, P.APPROVED, P.NOT_FUNDED)
RANKED_STATES += FUNDED_STATES


@dataclass
class CallRanking:
    ranking: object  # grants.ranking.Ranking
    proposals: pd.DataFrame
    reviewer_labels: dict = field(default_factory=dict)  # expert id → 评委k
    pitch: bool = False


def reviewer_labels(scores: pd.DataFrame) -> dict[int, str]:
    """评委1…N in expert-id order: the same label on every page and in the workbook."""
    return {e: f"评委{i}" for i, e in enumerate(sorted(set(scores["reviewer"].tolist())), start=1)}


def scores_version(call) -> str:
    """What the call's ranking depends on, in one query: the submitted scores (how many,
    the latest submission) and the amounts managers adjusted. A change to any of them
    gives another version, so a cached ranking is never stale."""
    from django.db.models import Count, Max

    a = Assignment.objects.filter(round__call=call, status=A.SUBMITTED).aggregate(
        n=Count("pk"), at=Max("submitted_at"), rounds=Count("round", distinct=True)
    )
    adjusted = Proposal.objects.filter(call=call, adjusted_amount__isnull=False).aggregate(
        n=Count("pk"), at=Max("updated_at")
    )
    return f"{a['n']}-{a['at']}-{a['rounds']}-{adjusted['n']}-{adjusted['at']}"


RANKING_CACHE_SECONDS = 600


def call_ranking(call, *, rounds=None, fresh: bool = False) -> CallRanking:
    """The call's ranking from the submitted scores of its closed or open rounds. Kept in
    the cache under the version of its inputs (`scores_version`): the screens of a call of
    5,000 proposals read it without decoding every score again; `fresh` computes anew."""
    import hashlib

    from django.core.cache import cache

    inputs = f"{scores_version(call)}|{call.aggregation}|{call.spread_limit:.2f}|{call.pitch_weight:.2f}|{call.rubric}"
    key = f"grants:ranking:{call.pk}:{hashlib.sha1(inputs.encode()).hexdigest()}"
    if not fresh:
        found = cache.get(key)
        if found is not None:
            return found
    result = _compute_ranking(call, rounds)
    cache.set(key, result, RANKING_CACHE_SECONDS)
    return result


def _compute_ranking(call, rounds=None) -> CallRanking:
    rounds = rounds if rounds is not None else rounds_of(call)
    review = score_frame(rounds.get(Stage.REVIEW))
    pitch_round = rounds.get(Stage.PITCH)
    pitch = score_frame(pitch_round) if pitch_round else None
    ids = sorted(set(review["proposal"].tolist()))
    proposals = proposals_frame(call, ids)
    result = ranking.rank_call(
        review,
        call.rubric,
        proposals,
        aggregation=call.aggregation,
        spread_limit=call.spread_limit,
        pitch=pitch if pitch is not None and len(pitch) else None,
        pitch_rubric=call.pitch_rubric if pitch is not None else None,
        pitch_weight=call.pitch_weight,
    )
    return CallRanking(result, proposals, reviewer_labels(review), pitch=pitch is not None)


def review_queue_q(user) -> Q:
    return Q(expert__user=user)


def panel_comments(*, proposal_id: int | None = None, call=None):
    """The review panel's comments, each as 评委k (numbered within the proposal's panel, in
    expert order), never a name: what the applicant reads on the page and in the notice.
    For one proposal a list; for a whole call a dict proposal id → list (one query)."""
    qs = Assignment.objects.filter(round__stage=Stage.REVIEW, status=A.SUBMITTED)
    qs = qs.filter(proposal_id=proposal_id) if proposal_id is not None else qs.filter(round__call=call)
    found: dict[int, list[dict]] = defaultdict(list)
    seen: dict[int, int] = defaultdict(int)
    for pid, comment, comments in qs.order_by("proposal_id", "expert_id").values_list(
        "proposal_id", "comment", "comments"
    ):
        seen[pid] += 1
        text = comment or "；".join(v for v in (comments or {}).values() if v)
        if text:
            found[pid].append({"label": f"评委{seen[pid]}", "text": text})
    return found.get(proposal_id, []) if proposal_id is not None else dict(found)


def applicant_result(proposal) -> dict | None:
    """What the applicant reads once the call has decided: the amount, or the score, the
    rank among the ranked proposals and each reviewer's comment as 评委k, never a name."""
    if proposal.status not in (P.APPROVED, P.NOT_FUNDED):
        return None
    comments = panel_comments(proposal_id=proposal.pk)
    ranked = (
        Proposal.objects.filter(call_id=proposal.call_id, rank__isnull=False).count()
        if proposal.rank is not None
        else 0
    )
    return {
        "approved": proposal.status == P.APPROVED,
        "score": proposal.score,
        "review_score": proposal.review_score,
        "pitch_score": proposal.pitch_score,
        "rank": proposal.rank,
        "ranked": ranked,
        "amount": proposal.awarded_amount,
        "reason": proposal.status_reason,
        "comments": comments,
    }
