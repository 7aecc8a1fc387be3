"""排序、立项名单、立项公示 and 批复: from the closed rounds to the approved list.

The ranking and the award list are computed by grants.ranking (pandas) from the scores
(grants.selectors.review) every time they are asked for; what a decision needs is stored
on the proposals when a round closes (`store_ranking`) and when the list is published
(`publish_shortlist`), and frozen into the Publicity the public reads."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.workflow import Notice, WorkflowError, log_bulk, log_event, send_notices, transition
from core.workflow import extra_action as extra

from .. import ranking as rk
from ..models import (
    Call,
    CallStatus,
    ObjectionStatus,
    Proposal,
    ProposalStatus,
    Publicity,
    PublicityKind,
    Stage,
)
from ..rules import fmt_money
from ..selectors.review import call_ranking, panel_comments, rounds_of
from .review import require_manager

P = ProposalStatus
DEFAULT_PUBLICITY_DAYS = 7
TWO = Decimal("0.01")


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(TWO)


def store_ranking(call) -> rk.Ranking:
    """Write each ranked proposal's review and pitch aggregate, final score, rank and
    spread flag (one executemany), so lists, filters and notices read them."""
    from core.bulk import update_many

    result = call_ranking(call, fresh=True)
    update_many(
        Proposal,
        ["review_score", "pitch_score", "score", "rank", "spread_flagged"],
        [
            (r.proposal, _dec(r.aggregate), _dec(r.pitch_aggregate), _dec(r.final), r.rank, bool(r.flagged))
            for r in result.ranking.rows
        ],
    )
    return result.ranking


def award_list(call) -> tuple[object, rk.Award]:
    """The ranking and the award list it gives under the call's pool and rules."""
    result = call_ranking(call)
    ranking = result.ranking
    if call.has_pitch:
        pitched = set(Proposal.objects.filter(call=call, pitch_at__isnull=False).values_list("pk", flat=True))
        ranking = ranking.only(pitched)
    award = rk.award_list(
        ranking,
        result.proposals,
        pool=call.pool_total,
        min_score=call.min_fundable_score,
        skip_to_cheaper=call.fund_cheaper_after_skip,
    )
    return result, award


def adjust_amount(*, proposal: Proposal, by, amount, reason: str) -> Proposal:
    """A manager's adjusted grant for one proposal (lower than asked), with the reason, logged."""
    call = proposal.call
    require_manager(by, call)
    if call.status != CallStatus.REVIEWING or proposal.status not in (P.UNDER_REVIEW, P.REVIEWED, P.PITCHED):
        raise WorkflowError("立项名单公示后不能再调整资助金额。")
    reason = (reason or "").strip()
    if amount in (None, ""):
        proposal.adjusted_amount, proposal.adjust_reason = None, ""
        Proposal.objects.filter(pk=proposal.pk).update(
            adjusted_amount=None, adjust_reason="", updated_at=timezone.now()
        )
        log_event(proposal, "adjust_amount", by=by, reason="恢复为申请金额")
        return proposal
    try:
        value = Decimal(str(amount)).quantize(TWO)
    except InvalidOperation:
        raise ValidationError({"amount": "资助金额须是数字。"}) from None
    if value <= 0 or value > proposal.grant_amount:
        raise ValidationError(
            {"amount": f"调整后的资助金额须大于0且不超过申请金额{fmt_money(proposal.grant_amount)}元。"}
        )
    if value < call.grant_min:
        raise ValidationError({"amount": f"调整后的资助金额不能低于单个项目最低资助{fmt_money(call.grant_min)}元。"})
    if not reason:
        raise ValidationError({"reason": "请填写调整理由。"})
    with transaction.atomic():
        Proposal.objects.filter(pk=proposal.pk).update(
            adjusted_amount=value, adjust_reason=reason[:300], updated_at=timezone.now()
        )
        proposal.adjusted_amount, proposal.adjust_reason = value, reason[:300]
        log_event(proposal, "adjust_amount", by=by, reason=f"资助金额调整为{fmt_money(value)}元：{reason}")
    return proposal


def _place_text(proposal) -> str:
    return "、".join(r.name for r in proposal.places.all())


def _public_rows(call, award_rows, ids) -> list[dict]:
    proposals = {
        p.pk: p
        for p in Proposal.objects.filter(pk__in=ids)
        .select_related("organisation", "category")
        .prefetch_related("places")
    }
    rows = []
    for r in award_rows:
        p = proposals[r.proposal]
        rows.append(
            {
                "proposal": p.pk,
                "number": p.number,
                "title": p.title,
                "organisation": p.organisation.name,
                "category": p.category.name if p.category else "",
                "places": _place_text(p),
                "amount": f"{r.awarded:.2f}",
                "score": f"{_dec(p.score):.2f}" if p.score is not None else "",
                "rank": p.rank,
            }
        )
    return rows


def publish_shortlist(
    *, call, by, opens_on: datetime.date | None = None, days: int = DEFAULT_PUBLICITY_DAYS
) -> Publicity:
    """立项公示: the award list's funded proposals are shortlisted and publicised, the list
    is frozen into a Publicity (its public page follows) with a window of `days` days, and
    the call moves to 立项公示中."""
    require_manager(by, call)
    rounds = rounds_of(call)
    review = rounds.get(Stage.REVIEW)
    if call.status != CallStatus.REVIEWING:
        raise WorkflowError(f"征集当前为“{call.get_status_display()}”，不能发布立项公示。")
    if review is None or review.is_open:
        raise WorkflowError("专家评审结束后才能发布立项公示。")
    if call.has_pitch and (Stage.PITCH not in rounds or rounds[Stage.PITCH].is_open):
        raise WorkflowError("路演答辩评分结束后才能发布立项公示。")
    if not 1 <= int(days) <= 30:
        raise ValidationError({"days": "公示期须为1至30天。"})
    opens_on = opens_on or timezone.localdate()
    closes_on = opens_on + datetime.timedelta(days=int(days) - 1)
    _result, award = award_list(call)
    funded = [r for r in award.rows if r.funded]
    if not funded:
        raise WorkflowError("没有达到立项条件的项目，无法发布立项公示。")
    ids = [r.proposal for r in funded]
    with transaction.atomic():
        rows = _public_rows(call, funded, ids)
        amounts = {r.proposal: r.awarded for r in funded}
        objs = list(Proposal.objects.filter(pk__in=ids, status__in=(P.REVIEWED, P.PITCHED)))
        if len(objs) != len(ids):
            raise WorkflowError("名单中有项目状态已变化，请刷新后重试。")
        sources = {}
        for p in objs:
            sources.setdefault(p.status, []).append(p.pk)
            p.awarded_amount = amounts[p.pk]
        Proposal.objects.bulk_update(objs, ["awarded_amount"])
        Proposal.objects.filter(pk__in=ids).update(status=P.PUBLICISED)
        for source, pks in sources.items():
            log_bulk(
                Proposal,
                pks,
                [("shortlist", source, P.SHORTLISTED), ("publicise", P.SHORTLISTED, P.PUBLICISED)],
                by=by,
                reason="列入拟立项名单并公示",
            )
        transition(call, "publicise", by=by, record={"publicity_from": opens_on, "publicity_until": closes_on})
        publicity = Publicity.objects.create(
            call=call,
            kind=PublicityKind.SHORTLIST,
            title=f"{call.title}拟立项项目公示",
            intro=(
                f"经资格审查、专家评审{'和路演答辩' if call.has_pitch else ''}，现将{call.title}拟立项项目"
                f"（共{len(rows)}个，拟资助{fmt_money(award.committed)}元）予以公示。"
                "公示期内，对名单有异议的，可在本页提出，请写明理由并留下联系方式。"
            ),
            opens_on=opens_on,
            closes_on=closes_on,
            rows=rows,
            published_by=by,
        )
        send_notices(
            Notice(
                [m.user for m in p.organisation.memberships.select_related("user")],
                f"拟立项公示：{p.title}",
                f"您的项目已列入“{call}”拟立项名单，拟资助{fmt_money(amounts[p.pk])}元，公示期至{closes_on:%Y年%m月%d日}。",
                p,
            )
            for p in Proposal.objects.filter(pk__in=ids).select_related("organisation")
        )
    return publicity


def decline_reason(call, score, rank, pitch_at) -> str:
    """Why a ranked proposal is not on the approved list, in the applicant's words."""
    if score is None:
        return "没有有效的评审评分"
    if score < call.min_fundable_score:
        return f"得分低于最低立项分数（{call.min_fundable_score:.2f}分）"
    if call.has_pitch and pitch_at is None:
        return "未入围路演答辩"
    return "排名靠后，资助总额已分配完"


def approve_call(*, call, by) -> Publicity:
    """批复: once the 公示 window has closed and every objection is handled, the publicised
    proposals are approved (except where an objection was upheld: not funded, with the
    reason), every other ranked proposal is not funded, each applicant is told the result
    (those not funded with their score, rank and the anonymised comments), and the approved
    list is published as the call's result."""
    require_manager(by, call)
    if call.status != CallStatus.PUBLICISING:
        raise WorkflowError(f"征集当前为“{call.get_status_display()}”，不能批复。")
    shortlist = call.publicities.filter(kind=PublicityKind.SHORTLIST).first()
    if shortlist is None:
        raise WorkflowError("还没有发布立项公示。")
    today = timezone.localdate()
    if not shortlist.window_closed(today):
        raise WorkflowError(f"公示期至{shortlist.closes_on:%Y年%m月%d日}结束，结束后才能批复。")
    pending = shortlist.objections.filter(status=ObjectionStatus.RECEIVED).count()
    if pending:
        raise WorkflowError(f"还有{pending}件异议未处理，请处理后再批复。")
    upheld = {}
    for o in shortlist.objections.filter(status=ObjectionStatus.UPHELD, proposal__isnull=False):
        upheld.setdefault(o.proposal_id, o.handling)
    total_ranked = Proposal.objects.filter(call=call, rank__isnull=False).count()
    now = timezone.now()
    with transaction.atomic():
        publicised = list(Proposal.objects.filter(call=call, status=P.PUBLICISED).values_list("pk", flat=True))
        approved = [pk for pk in publicised if pk not in upheld]
        removed = [pk for pk in publicised if pk in upheld]
        Proposal.objects.filter(pk__in=approved).update(status=P.APPROVED, decided_at=now)
        log_bulk(Proposal, approved, [("approve", P.PUBLICISED, P.APPROVED)], by=by, reason="公示期满，批复立项")
        for pk in removed:
            reason = f"公示期异议成立：{upheld[pk]}"
            Proposal.objects.filter(pk=pk).update(
                status=P.NOT_FUNDED, decided_at=now, status_reason=reason[:500], awarded_amount=None
            )
            log_bulk(Proposal, [pk], [("decline", P.PUBLICISED, P.NOT_FUNDED)], by=by, reason=reason)
        others = {}
        for pk, status, score, rank, pitch_at in Proposal.objects.filter(
            call=call, status__in=(P.UNDER_REVIEW, P.REVIEWED, P.PITCHED, P.SHORTLISTED)
        ).values_list("pk", "status", "score", "rank", "pitch_at"):
            others.setdefault((status, decline_reason(call, score, rank, pitch_at)), []).append(pk)
        for (status, reason), pks in others.items():
            Proposal.objects.filter(pk__in=pks).update(status=P.NOT_FUNDED, decided_at=now, status_reason=reason)
            log_bulk(Proposal, pks, [("decline", status, P.NOT_FUNDED)], by=by, reason=reason)
        transition(call, "decide", by=by)
        final = Proposal.objects.filter(pk__in=approved).order_by("rank", "pk")
        result_rows = [
            {
                "proposal": p.pk,
                "number": p.number,
                "title": p.title,
                "organisation": p.organisation.name,
                "category": p.category.name if p.category else "",
                "places": _place_text(p),
                "amount": f"{p.awarded_amount:.2f}" if p.awarded_amount is not None else "",
                "score": f"{p.score:.2f}" if p.score is not None else "",
                "rank": p.rank,
            }
            for p in final.select_related("organisation", "category").prefetch_related("places")
        ]
        publicity = Publicity.objects.create(
            call=call,
            kind=PublicityKind.RESULT,
            title=f"{call.title}立项结果",
            intro=f"{call.title}经立项公示，现批复立项{len(result_rows)}个项目。",
            opens_on=today,
            closes_on=None,
            rows=result_rows,
            published_by=by,
        )
        notices = []
        comments = panel_comments(call=call)
        for p in Proposal.objects.filter(
            call=call, status__in=(P.APPROVED, P.NOT_FUNDED), decided_at=now
        ).prefetch_related("organisation__memberships__user"):
            members = [m.user for m in p.organisation.memberships.all()]
            if p.status == P.APPROVED:
                notices.append(
                    Notice(
                        members,
                        f"批复立项：{p.title}",
                        f"您的项目已获批复立项，资助金额{fmt_money(p.awarded_amount)}元。请等待签订项目协议的通知。",
                        p,
                    )
                )
            else:
                lines = [f"您的项目未获立项（{p.status_reason}）。"]
                if p.score is not None:
                    lines.append(f"最终得分{p.score:.2f}分，排名第{p.rank}位（共{total_ranked}个项目）。")
                lines += [f"{c['label']}：{c['text']}" for c in comments.get(p.pk, [])]
                notices.append(Notice(members, f"评审结果：{p.title}", "\n".join(lines), p))
        send_notices(notices)
    return publicity


# ---- the call manager's review actions, offered on the call's 评审管理 screen ----------------------


def _manages(call, user) -> bool:
    from accounts.selectors import has_scoped_perm

    from ..models import MANAGE_PERMISSION

    return has_scoped_perm(user, MANAGE_PERMISSION, call.region)


def _round(call, stage):
    cache = call.__dict__.setdefault("_rounds", None)
    if cache is None:
        cache = call.__dict__["_rounds"] = rounds_of(call)
    return cache.get(stage)


def eligible_waiting(call) -> int:
    """Proposals past the eligibility check with no panel yet (counted once per request)."""
    if call.status != CallStatus.REVIEWING:
        return 0
    if "_eligible_waiting" not in call.__dict__:
        call.__dict__["_eligible_waiting"] = call.proposals.filter(status=P.ELIGIBLE).count()
    return call.__dict__["_eligible_waiting"]


def _has_eligible(call) -> bool:
    return eligible_waiting(call) > 0


def _review_open(call) -> bool:
    r = _round(call, Stage.REVIEW)
    return call.status == CallStatus.REVIEWING and r is not None and r.is_open


def _pitch_open(call) -> bool:
    r = _round(call, Stage.PITCH)
    return call.status == CallStatus.REVIEWING and r is not None and r.is_open


def _may_schedule_pitch(call) -> bool:
    r = _round(call, Stage.REVIEW)
    return (
        call.has_pitch
        and call.status == CallStatus.REVIEWING
        and r is not None
        and not r.is_open
        and _round(call, Stage.PITCH) is None
    )


def _may_publish(call) -> bool:
    r = _round(call, Stage.REVIEW)
    if call.status != CallStatus.REVIEWING or r is None or r.is_open:
        return False
    if call.has_pitch:
        p = _round(call, Stage.PITCH)
        return p is not None and not p.is_open
    return True


REVIEW_ACTION_SLUGS = (
    "draw-panels",
    "remind-reviewers",
    "close-review",
    "schedule-pitch",
    "remind-pitch",
    "close-pitch",
    "publish-shortlist",
    "approve-call",
)


@extra(
    Call,
    "draw-panels",
    "抽取评审专家",
    permitted=_manages,
    when=_has_eligible,
    order=410,
    intro="为资格审查通过、尚未分配专家的项目，从专家库随机抽取评审专家；自动排除有利益冲突的专家，每次抽取都记录随机种子和候选名单，可复核。",
    success="已为“{obj}”的项目抽取评审专家，已通知专家。",
)
def call_draw_panels(*, call, by):
    from .review import draw_panels

    return draw_panels(call=call, by=by)


@extra(
    Call,
    "schedule-pitch",
    "安排路演答辩",
    permitted=_manages,
    when=_may_schedule_pitch,
    order=440,
    form="grants.forms.review.PitchForm",
    intro="按专家评审排名，入围项目依次安排路演时间；从专家库抽取路演评委，按路演评分标准打分。",
    success="已安排路演答辩，已通知入围项目和路演评委。",
)
def call_schedule_pitch(*, call, by, count, starts_at, minutes, place, panel_size):
    import datetime as dt

    from .review import schedule_pitch

    chosen = list(
        Proposal.objects.filter(call=call, status=P.REVIEWED, review_score__gte=call.min_fundable_score)
        .order_by("rank", "pk")
        .values_list("pk", flat=True)[:count]
    )
    if not chosen:
        raise WorkflowError("没有达到最低立项分数的项目，无法安排路演。")
    slots = {pk: (starts_at + dt.timedelta(minutes=minutes * i), place) for i, pk in enumerate(chosen)}
    return schedule_pitch(call=call, by=by, slots=slots, panel_size=panel_size)


def _round_actions(
    stage, *, remind_slug, remind_label, remind_success, close_slug, close_label, close_confirm, close_success, order
):
    """催办 and 结束 of one round (专家评审, 路演答辩): the same two actions on its own round."""
    is_open = _review_open if stage == Stage.REVIEW else _pitch_open

    @extra(Call, remind_slug, remind_label, permitted=_manages, when=is_open, order=order, success=remind_success)
    def remind_round(*, call, by):
        from .review import remind

        return remind(round=_round(call, stage), by=by)

    @extra(
        Call,
        close_slug,
        close_label,
        permitted=_manages,
        when=is_open,
        order=order + 10,
        confirm=close_confirm,
        success=close_success,
    )
    def close(*, call, by):
        from .review import close_round

        return close_round(round=_round(call, stage), by=by)


_round_actions(
    Stage.REVIEW,
    remind_slug="remind-reviewers",
    remind_label="催办未完成的专家",
    remind_success="已向未完成评分的专家发送提醒（站内通知和邮件）。",
    close_slug="close-review",
    close_label="结束专家评审",
    close_confirm="结束后专家不能再提交或修改评分，系统将计算得分和排名。确定结束吗？",
    close_success="专家评审已结束，排名已生成。",
    order=420,
)
_round_actions(
    Stage.PITCH,
    remind_slug="remind-pitch",
    remind_label="催办路演评委",
    remind_success="已向未完成评分的路演评委发送提醒。",
    close_slug="close-pitch",
    close_label="结束路演评分",
    close_confirm="结束后路演评委不能再修改评分，系统将按路演权重计算最终得分。确定结束吗？",
    close_success="路演评分已结束，最终排名已生成。",
    order=450,
)


@extra(
    Call,
    "publish-shortlist",
    "发布立项公示",
    permitted=_manages,
    when=_may_publish,
    order=470,
    form="grants.forms.review.PublishForm",
    intro="按立项名单（排名、最低立项分数和资助总额）发布拟立项公示，公示页面自动生成在“公示公告”栏目。",
    success="立项公示已发布。",
)
def call_publish_shortlist(*, call, by, opens_on, days):
    return publish_shortlist(call=call, by=by, opens_on=opens_on, days=days)


@extra(
    Call,
    "approve-call",
    "批复立项",
    permitted=_manages,
    when=lambda c: c.status == CallStatus.PUBLICISING,
    order=480,
    confirm="批复后，公示名单中的项目立项（异议成立的除外），其他项目不予立项，并通知每个申报单位。确定批复吗？",
    success="已批复立项，结果已公布并通知申报单位。",
)
def call_approve(*, call, by):
    return approve_call(call=call, by=by)


def _adjustable(proposal) -> bool:
    return proposal.call.status == CallStatus.REVIEWING and proposal.status in (P.UNDER_REVIEW, P.REVIEWED, P.PITCHED)


@extra(
    Proposal,
    "adjust-amount",
    "调整资助金额",
    permitted=lambda p, user: _manages(p.call, user),
    when=_adjustable,
    form="grants.forms.review.AdjustForm",
    order=800,
    intro="立项名单默认按申请金额资助；可以调低某个项目的资助金额（须写明理由），名单随即重新计算。",
    success="已调整“{obj}”的资助金额。",
)
def proposal_adjust_amount(*, proposal, by, amount, reason):
    return adjust_amount(proposal=proposal, by=by, amount=amount, reason=reason)
