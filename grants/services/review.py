"""专家评审: drawing panels, the reviewer's declaration and scores, reminders, closing a
round, and the pitch (路演答辩).

Every panel is drawn by `grants.draw` from candidates this module works out (who is in
the pool, who is excluded and why, how many proposals each already holds) and recorded
in a `PanelDraw`. A reviewer's every step is a transition of their `Assignment`, checked
against the assignment's own permission (only its expert; reopening and replacing only a
call manager of the call's region)."""

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_fsm import ConcurrentTransition

from accounts.models import Region
from accounts.roles import GROUP_NAMES, Role
from accounts.selectors import has_scoped_perm
from core.workflow import Notice, WorkflowError, action_service, log_bulk, log_event, send_notices, transition

from ..draw import draw, new_seed
from ..models import (
    MANAGE_PERMISSION,
    Affiliation,
    Assignment,
    AssignmentStatus,
    CallStatus,
    ConflictKind,
    ExpertProfile,
    PanelDraw,
    Proposal,
    ProposalStatus,
    ReviewRound,
    Stage,
)

A = AssignmentStatus
P = ProposalStatus
MANAGE_DENIED = "您无权组织该征集的评审：需要业务主管权限，且征集须在您负责的区域内。"
REVIEW_DENIED = "这不是分配给您的评审任务。"


def require_manager(user, call) -> None:
    if not has_scoped_perm(user, MANAGE_PERMISSION, call.region):
        raise PermissionDenied(MANAGE_DENIED)


# ---- who may be drawn -------------------------------------------------------------------------


def _street_path(region) -> str | None:
    """The path of the street (街道/镇) a region lies in, None above street level."""
    if region is None or region.level < Region.Level.STREET:
        return None
    return region.path[: Region.steplen * Region.Level.STREET]


def _norm(name: str) -> str:
    return "".join((name or "").split())


class Pool:
    """The expert pool as one call sees it: loaded once, then asked per proposal."""

    def __init__(self, call):
        self.call = call
        reviewer_group = GROUP_NAMES[Role.REVIEWER]
        self.experts = list(
            ExpertProfile.objects.select_related("user", "region").prefetch_related("expertise").order_by("pk")
        )
        self.is_reviewer = set(
            ExpertProfile.objects.filter(user__groups__name=reviewer_group).values_list("pk", flat=True)
        )
        self.expertise = {e.pk: {a.pk for a in e.expertise.all()} for e in self.experts}
        self.affiliations: dict[tuple[int, int], str] = {}
        for expert_id, org_id, kind in Affiliation.objects.values_list("expert_id", "organisation_id", "kind"):
            self.affiliations.setdefault((expert_id, org_id), kind)
        from orgs.models import Membership

        self.members: dict[int, set[int]] = defaultdict(set)
        for org_id, user_id in Membership.objects.filter(organisation__proposals__call=call).values_list(
            "organisation_id", "user_id"
        ):
            self.members[org_id].add(user_id)
        # proposals already held in this call (recused ones do not count)
        self.load: dict[int, int] = defaultdict(int)
        for expert_id, n in (
            Assignment.objects.filter(round__call=call)
            .exclude(status=A.RECUSED)
            .values_list("expert_id")
            .annotate(n=Count("pk"))
        ):
            self.load[expert_id] = n
        # (proposal, expert, stage) already on a panel, and (proposal, expert) where a conflict was declared
        self.taken: set[tuple[int, int, str]] = set()
        self.recused: set[tuple[int, int]] = set()
        for proposal_id, expert_id, status, stage in Assignment.objects.filter(round__call=call).values_list(
            "proposal_id", "expert_id", "status", "round__stage"
        ):
            self.taken.add((proposal_id, expert_id, stage))
            if status == A.RECUSED:
                self.recused.add((proposal_id, expert_id))

    def candidates(self, proposal, stage: str = Stage.REVIEW) -> tuple[list[dict], list[dict]]:
        """Who may be drawn for `proposal` ({"expert", "load", "match"}) and who may not,
        with the reason, both in expert-id order."""
        org = proposal.organisation
        org_street = _street_path(org.region) if self.call.exclude_local_experts else None
        candidates, exclusions = [], []
        for e in self.experts:
            reason = self._excluded(e, proposal, org, org_street, stage)
            if reason:
                exclusions.append({"expert": e.pk, "name": e.name, "reason": reason})
            else:
                candidates.append(
                    {
                        "expert": e.pk,
                        "load": self.load[e.pk],
                        "match": proposal.category_id in self.expertise[e.pk],
                    }
                )
        return candidates, exclusions

    def _excluded(self, e, proposal, org, org_street, stage) -> str:
        if e.pk not in self.is_reviewer or not e.user.is_active:
            return "账号已停用或不是评审专家"
        if not e.available:
            return f"暂停评审{('：' + e.unavailable_note) if e.unavailable_note else ''}"
        if (proposal.pk, e.pk) in self.recused:
            return "已声明回避或被改派"
        if (proposal.pk, e.pk, stage) in self.taken:
            return "已在该项目评审组中"
        if e.user_id in self.members.get(org.pk, ()):
            return str(ConflictKind.MEMBER.label)
        kind = self.affiliations.get((e.pk, org.pk))
        if kind:
            return f"与申报组织有关联：{ConflictKind(kind).label}"
        if _norm(e.employer) and _norm(e.employer) == _norm(org.name):
            return str(ConflictKind.EMPLOYER.label)
        if org_street and _street_path(e.region) == org_street:
            street = org.region if org.region.level == Region.Level.STREET else org.region.get_parent()
            return f"与申报组织同在{street.name}（本地专家回避）"
        if stage == Stage.REVIEW and self.load[e.pk] >= e.max_per_call:
            return f"已达本次征集评审上限（{e.max_per_call}个）"
        return ""

    def take(self, proposal_id: int, expert_id: int, stage: str) -> None:
        self.taken.add((proposal_id, expert_id, stage))
        if stage == Stage.REVIEW:
            self.load[expert_id] += 1


def _record_draw(pool: Pool, rnd: ReviewRound, proposal, size: int, *, by, seed: str, reason: str, replaces=None):
    candidates, exclusions = pool.candidates(proposal, rnd.stage)
    chosen = draw(candidates, size, seed)
    record = PanelDraw(
        round=rnd,
        proposal=proposal,
        seed=seed,
        size=size,
        candidates=candidates,
        exclusions=exclusions,
        chosen=chosen,
        reason=reason,
        replaces=replaces,
        drawn_by=by if getattr(by, "pk", None) else None,
    )
    for expert_id in chosen:
        pool.take(proposal.pk, expert_id, rnd.stage)
    return record


def _experts_notice(expert_ids, title: str, body: str) -> Notice:
    from django.urls import reverse

    users = [e.user for e in ExpertProfile.objects.filter(pk__in=set(expert_ids)).select_related("user")]
    return Notice(users, title, body, reverse("grants_admin:reviews"))


# ---- the draw ---------------------------------------------------------------------------------


def review_round(call, stage: str = Stage.REVIEW) -> ReviewRound | None:
    return ReviewRound.objects.filter(call=call, stage=stage).first()


@transaction.atomic
def draw_panels(*, call, by, seed: str | None = None) -> ReviewRound:
    """Draw a panel of `call.panel_size` experts for every proposal that passed the
    eligibility check and has none yet, record each draw, and put the proposals under
    review. Refused unless the call is 评审中 and `by` manages it."""
    require_manager(by, call)
    if call.status != CallStatus.REVIEWING:
        raise WorkflowError(f"征集当前为“{call.get_status_display()}”，进入评审阶段后才能抽取专家。")
    rnd, _ = ReviewRound.objects.get_or_create(call=call, stage=Stage.REVIEW, defaults={"deadline": call.review_until})
    if not rnd.is_open:
        raise WorkflowError("专家评审已结束，不能再抽取。")
    proposals = list(
        call.proposals.filter(status=P.ELIGIBLE).select_related("organisation__region").order_by("number", "pk")
    )
    if not proposals:
        raise WorkflowError("没有待抽取专家的项目：资格审查通过的项目都已分配评审专家。")
    pool = Pool(call)
    master = seed or new_seed()
    records = [
        _record_draw(pool, rnd, p, call.panel_size, by=by, seed=f"{master}-{p.pk}", reason="首次抽取")
        for p in proposals
    ]
    PanelDraw.objects.bulk_create(records)
    Assignment.objects.bulk_create(
        Assignment(round=rnd, proposal_id=r.proposal_id, expert_id=e, draw=r) for r in records for e in r.chosen
    )
    ids = [p.pk for p in proposals]
    Proposal.objects.filter(pk__in=ids, status=P.ELIGIBLE).update(status=P.UNDER_REVIEW)
    log_bulk(Proposal, ids, [("begin_review", P.ELIGIBLE, P.UNDER_REVIEW)], by=by, reason="随机抽取评审专家")
    short = [r for r in records if len(r.chosen) < r.size]
    if short:
        log_event(rnd, "draw_short", by=by, reason=f"{len(short)}个项目可抽取的专家不足{call.panel_size}人")
    counts = defaultdict(int)
    for r in records:
        for e in r.chosen:
            counts[e] += 1
    send_notices(
        [
            _experts_notice(
                [e],
                f"评审任务：{call}",
                f"您被抽取为“{call}”的评审专家，共{n}个项目，请在{call.review_until:%Y年%m月%d日}前完成评分。"
                "打开每个项目时请先声明是否存在利益冲突。",
            )
            for e, n in counts.items()
        ]
    )
    return rnd


def _redraw_one(assignment: Assignment, *, by, reason: str) -> Assignment | None:
    """One replacement for an expert who left a panel, drawn and recorded like the first."""
    rnd = assignment.round
    if rnd.stage != Stage.REVIEW:
        return None  # the pitch panel is fixed: the other judges score without them
    proposal = Proposal.objects.select_related("organisation__region").get(pk=assignment.proposal_id)
    pool = Pool(rnd.call)
    record = _record_draw(pool, rnd, proposal, 1, by=by, seed=new_seed(), reason=reason, replaces=assignment)
    record.save()
    if not record.chosen:
        log_event(rnd, "draw_short", by=by, reason=f"“{proposal}”没有可替补的专家")
        return None
    new = Assignment.objects.create(round=rnd, proposal=proposal, expert_id=record.chosen[0], draw=record)
    send_notices(
        [
            _experts_notice(
                record.chosen,
                f"评审任务（替补）：{rnd.call}",
                f"您被抽取为“{proposal.number}”的替补评审专家，请在{rnd.deadline:%Y年%m月%d日}前完成评分。",
            )
        ]
    )
    return new


# ---- the reviewer -----------------------------------------------------------------------------


def declare(*, assignment: Assignment, by, conflict: bool, kind: str = "", note: str = "") -> Assignment | None:
    """The reviewer's declaration before reading: no conflict opens scoring; a conflict
    recuses them and draws a replacement (returned), both logged."""
    now = timezone.now()
    if not conflict:
        transition(assignment, "declare_none", by=by, denied=REVIEW_DENIED, record={"declared_at": now})
        return None
    if kind not in ConflictKind.values:
        raise ValidationError({"kind": "请选择利益冲突的类型。"})
    note = (note or "").strip()
    with transaction.atomic():
        transition(
            assignment,
            "declare_conflict",
            by=by,
            denied=REVIEW_DENIED,
            reason=f"{ConflictKind(kind).label}{('：' + note) if note else ''}",
            record={"conflict_kind": kind, "conflict_note": note[:300], "declared_at": now},
        )
        return _redraw_one(assignment, by=by, reason=f"{assignment.expert}声明利益冲突后自动替补")


def parse_points(rubric: list[dict], points: dict, *, complete: bool) -> tuple[dict[str, str], Decimal]:
    """The points typed for each criterion, checked against its weight: a dict of Decimal
    strings and their total. ValidationError (per criterion key) on anything out of range."""
    errors, clean, total = {}, {}, Decimal(0)
    for c in rubric:
        key, weight = c["key"], Decimal(str(c["weight"]))
        raw = str(points.get(key, "") or "").strip()
        if raw == "":
            if complete:
                errors[key] = f"请为“{c['name']}”打分。"
            continue
        try:
            value = Decimal(raw)
        except InvalidOperation:
            errors[key] = f"“{c['name']}”的得分须是数字。"
            continue
        if not value.is_finite() or value < 0 or value > weight:
            errors[key] = f"“{c['name']}”的得分须在0到{weight.normalize():f}分之间。"
            continue
        if value != value.quantize(Decimal("0.1")):
            errors[key] = f"“{c['name']}”的得分最多保留一位小数。"
            continue
        clean[key] = f"{value.quantize(Decimal('0.1'))}"
        total += value
    if errors:
        raise ValidationError(errors)
    return clean, total.quantize(Decimal("0.01"))


def _scores_record(assignment, points, comments, comment, *, complete: bool) -> dict:
    rubric = assignment.round.rubric()
    clean, total = parse_points(rubric, points or {}, complete=complete)
    keys = {c["key"] for c in rubric}
    comments = {k: str(v).strip()[:1000] for k, v in (comments or {}).items() if k in keys and str(v).strip()}
    comment = (comment or "").strip()
    if complete and not comment and set(comments) != keys:
        raise ValidationError({"comment": "请填写总体评语，或为每一项评审标准写明评语。"})
    return {
        "points": clean,
        "comments": comments,
        "comment": comment[:5000],
        "total": total if complete else None,
        "saved_at": timezone.now(),
    }


def save_draft(
    *, assignment: Assignment, by, points: dict, comments: dict | None = None, comment: str = ""
) -> Assignment:
    """Keep what the reviewer typed so far; nothing is checked for completeness."""
    if assignment.expert.user_id != getattr(by, "pk", None):
        raise PermissionDenied(REVIEW_DENIED)
    if assignment.status != A.SCORING or not assignment.round.is_open:
        raise WorkflowError(f"当前状态为“{assignment.get_status_display()}”，不能修改评分。")
    record = _scores_record(assignment, points, comments, comment, complete=False)
    for k, v in record.items():
        setattr(assignment, k, v)
    try:
        assignment.save(update_fields=list(record))
    except ConcurrentTransition:
        raise WorkflowError("这项评审任务刚被业务主管处理（退回或改派），请刷新页面后查看。") from None
    return assignment


@action_service(Assignment, "submit")
def submit_scores(
    *, assignment: Assignment, by, points: dict, comments: dict | None = None, comment: str = ""
) -> Assignment:
    """Submit every criterion's points and the comments; the scores are then locked."""
    if assignment.expert.user_id != getattr(by, "pk", None):
        raise PermissionDenied(REVIEW_DENIED)
    if assignment.status != A.SCORING:
        raise WorkflowError(f"当前状态为“{assignment.get_status_display()}”，不能提交评分。")
    record = _scores_record(assignment, points, comments, comment, complete=True)
    with transaction.atomic():
        # the round row is locked: a submission and the closing of the round never overlap
        assignment.round = ReviewRound.objects.select_for_update().get(pk=assignment.round_id)
        transition(assignment, "submit", by=by, denied=REVIEW_DENIED, record={**record, "submitted_at": timezone.now()})
    return assignment


@action_service(Assignment, "reopen")
def reopen_assignment(*, assignment: Assignment, by, reason: str = "") -> Assignment:
    transition(
        assignment,
        "reopen",
        by=by,
        denied=MANAGE_DENIED,
        reason=reason,
        record={"reopen_reason": (reason or "").strip()[:300], "submitted_at": None, "total": None},
        notify=lambda: [
            _experts_notice(
                [assignment.expert_id],
                f"评分已退回重评：{assignment.proposal.number}",
                f"业务主管退回了您对“{assignment.proposal.number}”的评分，原因：{assignment.reopen_reason}",
            )
        ],
    )
    return assignment


@action_service(Assignment, "replace")
def replace_reviewer(*, assignment: Assignment, by, reason: str = "") -> Assignment | None:
    with transaction.atomic():
        transition(assignment, "replace", by=by, denied=MANAGE_DENIED, reason=reason)
        return _redraw_one(assignment, by=by, reason=f"改派：{(reason or '').strip()}")


# ---- the manager ------------------------------------------------------------------------------


def remind(*, round: ReviewRound, by) -> int:
    """A notice and an e-mail to every reviewer with unfinished work in the round.
    Returns how many reviewers were reminded."""
    require_manager(by, round.call)
    if not round.is_open:
        raise WorkflowError("评分已结束，无需催办。")
    pending = defaultdict(int)
    for expert_id in round.assignments.filter(status__in=(A.ASSIGNED, A.SCORING)).values_list("expert_id", flat=True):
        pending[expert_id] += 1
    if not pending:
        raise WorkflowError("所有专家都已提交评分。")
    with transaction.atomic():
        round.assignments.filter(status__in=(A.ASSIGNED, A.SCORING)).update(reminded_at=timezone.now())
        send_notices(
            [
                _experts_notice(
                    [e],
                    f"评审提醒：{round.call}",
                    f"您还有{n}个项目未提交评分，评分截止日期为{round.deadline:%Y年%m月%d日}。",
                )
                for e, n in pending.items()
            ]
        )
        log_event(round, "remind", by=by, reason=f"催办{len(pending)}位专家")
    return len(pending)


@action_service(ReviewRound, "close")
def close_round(*, round: ReviewRound, by, reason: str = "") -> ReviewRound:
    """End scoring: drafts no longer count; every proposal's scores are aggregated and
    ranked (grants.services.award.store_ranking) and the proposals move on."""
    from .award import store_ranking

    require_manager(by, round.call)
    unscored = (
        round.assignments.values("proposal_id")
        .annotate(done=Count("pk", filter=models_q_submitted()))
        .filter(done=0)
        .count()
    )
    if unscored:
        raise WorkflowError(f"还有{unscored}个项目没有任何专家提交评分，请催办或改派后再结束。")
    with transaction.atomic():
        ReviewRound.objects.select_for_update().filter(pk=round.pk).first()  # waits for submissions in flight
        transition(round, "close", by=by, record={"closed_at": timezone.now(), "closed_by": by})
        ids = list(round.assignments.values_list("proposal_id", flat=True).distinct())
        step = (
            ("finish_review", P.UNDER_REVIEW, P.REVIEWED)
            if round.stage == Stage.REVIEW
            else (
                "finish_pitch",
                P.REVIEWED,
                P.PITCHED,
            )
        )
        moved = list(Proposal.objects.filter(pk__in=ids, status=step[1]).values_list("pk", flat=True))
        Proposal.objects.filter(pk__in=moved).update(status=step[2])
        log_bulk(Proposal, moved, [step], by=by, reason=f"{round.get_stage_display()}结束")
        store_ranking(round.call)
    return round


def models_q_submitted():
    from django.db.models import Q

    return Q(status=A.SUBMITTED)


# ---- the pitch --------------------------------------------------------------------------------


@transaction.atomic
def schedule_pitch(
    *, call, by, slots: dict[int, tuple], panel_size: int | None = None, seed: str | None = None
) -> ReviewRound:
    """路演答辩: give each shortlisted proposal (`slots`: proposal id → (datetime, place)) its
    slot, draw one pitch panel for the call and assign it to every pitched proposal, leaving
    out a judge where an automatic conflict holds (recorded in the draw)."""
    require_manager(by, call)
    if not call.has_pitch:
        raise WorkflowError("本征集没有路演答辩环节。")
    review = review_round(call)
    if review is None or review.is_open:
        raise WorkflowError("专家评审结束后才能安排路演答辩。")
    if review_round(call, Stage.PITCH) is not None:
        raise WorkflowError("路演答辩已经安排。")
    proposals = list(
        call.proposals.filter(pk__in=list(slots), status=P.REVIEWED).select_related("organisation__region")
    )
    if not proposals:
        raise WorkflowError("请至少选择一个评审完成的项目参加路演。")
    rnd = ReviewRound.objects.create(call=call, stage=Stage.PITCH, deadline=call.pitch_on or timezone.localdate())
    pool = Pool(call)
    size = panel_size or call.panel_size
    master = seed or new_seed()
    # the panel: drawn from every expert free of conflict with at least one pitched proposal
    everyone = {}
    for p in proposals:
        for c in pool.candidates(p, Stage.PITCH)[0]:
            everyone.setdefault(c["expert"], {**c, "match": True})
    panel = draw(list(everyone.values()), size, master)
    records, rows = [], []
    for p in proposals:
        candidates, exclusions = pool.candidates(p, Stage.PITCH)
        allowed = {c["expert"] for c in candidates}
        record = PanelDraw(
            round=rnd,
            proposal=p,
            seed=master,
            size=size,
            candidates=list(everyone.values()),
            exclusions=exclusions,
            chosen=[e for e in panel if e in allowed],
            reason="路演评委",
            drawn_by=by,
        )
        records.append(record)
        p.pitch_at, p.pitch_place = slots[p.pk]
        rows.append(p)
    PanelDraw.objects.bulk_create(records)
    Assignment.objects.bulk_create(
        Assignment(round=rnd, proposal_id=r.proposal_id, expert_id=e, draw=r) for r in records for e in r.chosen
    )
    Proposal.objects.bulk_update(rows, ["pitch_at", "pitch_place"])
    notices = [
        Notice(
            [m.user for m in p.organisation.memberships.select_related("user")],
            f"路演答辩安排：{p.title}",
            f"您的项目入围“{call}”路演答辩，时间：{timezone.localtime(p.pitch_at):%Y年%m月%d日 %H:%M}，地点：{p.pitch_place}。",
            p,
        )
        for p in rows
    ]
    notices.append(_experts_notice(panel, f"路演评委：{call}", f"您被抽取为“{call}”的路演评委，共{len(rows)}个项目。"))
    send_notices(notices)
    log_event(rnd, "draw_pitch", by=by, reason=f"路演评委{len(panel)}人，{len(rows)}个项目")
    return rnd
