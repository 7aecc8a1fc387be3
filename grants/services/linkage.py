"""三级联动: a call manager of a community (or street) call recommends one of its proposals
to the call's `next_round`; the organisation accepts, and the proposal is copied into the
upper call as a draft (every field, place, cited need, budget line, activity, team member,
KPI and attachment), `recommended_from` pointing at the original, so nothing is retyped.
The upper call's staff read the lower call's score and status beside it
(grants.selectors.linkage.recommendation_context)."""

from dataclasses import replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.roles import Role
from accounts.selectors import has_scoped_perm, staff_users_for_region
from core.files import atomic_with_files
from core.workflow import (
    Notice,
    action_service,
    extra_action,
    log_created,
    may_run,
    require_can_proceed,
    send_notices,
    transition,
)

from .. import rules
from ..models import (
    KPI,
    MANAGE_PERMISSION,
    Activity,
    BudgetLine,
    CallStatus,
    Proposal,
    ProposalAttachment,
    ProposalStatus,
    Recommendation,
    TeamMember,
)
from .proposals import EDITOR_DENIED, members_notice, proposal_start

P = ProposalStatus
# a proposal may be recommended once it has passed the eligibility check (and at any later stage)
NOT_YET_RECOMMENDABLE = (P.DRAFT, P.SUBMITTED, P.RETURNED, P.INELIGIBLE, P.WITHDRAWN)
# the upper call must still be able to take the proposal
UPPER_CALL_STATES = (CallStatus.DRAFT, CallStatus.NEEDS, CallStatus.OPEN)
RECOMMEND_DENIED = "只有下级征集所在区域的业务主管（民政）可以推荐项目。"

# the proposal's own columns copied into the upper call's draft
COPIED_FIELDS = (
    "title",
    "category",
    "beneficiaries_direct",
    "beneficiaries_indirect",
    "summary",
    "need_analysis",
    "objectives",
    "approach",
    "risks",
    "budget_total",
    "grant_amount",
    "self_funded",
    "personnel_amount",
)
# what the copy does not take: the upper call's own bookkeeping, set by proposal_start and
# the stages to come (the months are kept only when they fit the upper call's period)
NOT_COPIED = (
    "id",
    "call",
    "organisation",
    "number",
    "status",
    "status_reason",
    "correction_deadline",
    "start_month",
    "end_month",
    "revision",
    "last_saved_at",
    "created_by",
    "created_at",
    "updated_at",
    "submitted_at",
    "checked_at",
    "recommended_from",
    # the lower call's review and award are its own; the upper call reviews anew
    "score",
    "review_score",
    "pitch_score",
    "rank",
    "spread_flagged",
    "pitch_at",
    "pitch_place",
    "adjusted_amount",
    "adjust_reason",
    "awarded_amount",
    "decided_at",
    "final_grade",
    "returned_amount",
    "eligible_spending",
    "clawback_amount",
    "clawback_repaid",
    "ended_at",
)
COPIED_TABLES = {
    BudgetLine: (
        "position",
        "category",
        "item",
        "unit",
        "quantity",
        "unit_price",
        "amount",
        "source",
        "nature",
        "note",
    ),
    Activity: ("position", "name", "month", "content", "sessions"),
    TeamMember: ("position", "user_id", "name", "role", "qualifications"),
    KPI: ("position", "indicator", "target", "unit", "method"),
}

# rows of the lower call's own life, never carried up: its versions, its review, its 公示
# (attachments are copied as files by `_copy`, not as rows)
NOT_COPIED_TABLES = (
    "ProposalAttachment",
    "ProposalVersion",
    "Recommendation",
    "Assignment",
    "PanelDraw",
    "Objection",
    "Agreement",
    "Tranche",
    "ProgressReport",
    "Evaluation",
)


def may_recommend(user, proposal: Proposal) -> bool:
    return has_scoped_perm(user, MANAGE_PERMISSION, proposal.call.region)


def recommendable(proposal: Proposal) -> bool:
    """Past the eligibility check, its call has a next round, not yet recommended there."""
    call = proposal.call
    return (
        proposal.status not in NOT_YET_RECOMMENDABLE
        and bool(call.next_round_id)
        and not _already_recommended(proposal, call.next_round_id)
    )


def _already_recommended(proposal: Proposal, to_call_id) -> bool:
    # the staff page's selector annotates it (grants.selectors.proposals.proposal_for_staff)
    known = getattr(proposal, "already_recommended", None)
    if known is not None:
        return known
    return proposal.recommendations.filter(to_call_id=to_call_id).exists()


def _upper_managers(call):
    return staff_users_for_region(call.region, Role.CALL_MANAGER)


@extra_action(
    Proposal,
    "recommend",
    "推荐至上级征集",
    permitted=lambda proposal, user: may_recommend(user, proposal),
    when=recommendable,
    form="grants.forms.linkage.RecommendForm",
    order=900,
    intro="三级联动：推荐后，申报单位确认即可把这份申报书转入上一级征集，无需重新填写；上级征集可看到本征集的评审得分。",
    success="已将“{obj}”推荐至上一级征集，已通知申报单位。",
)
def recommend(*, proposal: Proposal, by, reason: str) -> Recommendation:
    """Recommend `proposal` to its call's next round. Raises PermissionDenied for anyone but
    a call manager of the lower call's region; ValidationError when the proposal has not
    passed the eligibility check, the call has no next round, the upper call no longer
    takes proposals, no reason is given, or it was recommended there already."""
    if not may_recommend(by, proposal):
        raise PermissionDenied(RECOMMEND_DENIED)
    call = proposal.call
    upper = call.next_round
    if upper is None:
        raise ValidationError("本征集没有设置可推荐的上一级征集。")
    if proposal.status in NOT_YET_RECOMMENDABLE:
        raise ValidationError(f"只能推荐通过资格审查的项目，“{proposal}”当前为{proposal.get_status_display()}。")
    if upper.status not in UPPER_CALL_STATES:
        raise ValidationError(f"上一级征集“{upper}”已截止申报（{upper.get_status_display()}），不能再推荐。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写推荐理由，申报单位和上级征集都会看到。"})
    try:
        with transaction.atomic():
            rec = Recommendation.objects.create(proposal=proposal, to_call=upper, reason=reason, recommended_by=by)
            log_created(rec, by=by, label=f"推荐至{upper}")
            body = f"{call}推荐“{proposal.title}”（{proposal.organisation.name}）参加{upper}。理由：{reason}"
            send_notices(
                [
                    replace(
                        members_notice(
                            proposal,
                            f"您的项目被推荐至上一级征集：{proposal.title}",
                            f"{body} 请在“项目推荐”中确认是否参加，确认后申报书自动转入，无需重新填写。",
                        ),
                        url=reverse("grants:recommendations"),
                    ),
                    Notice(
                        _upper_managers(upper), f"下级征集推荐项目：{proposal.title}", body, proposal.get_admin_url()
                    ),
                ]
            )
    except IntegrityError:
        raise ValidationError(f"“{proposal}”已推荐至“{upper}”。")
    return rec


def _copy_into(source: Proposal, target: Proposal, files) -> None:
    """Every answer of `source` into the new draft `target`: the same columns and rows, and
    each attachment as a file of its own (the draft's files may be removed while the
    original's stay)."""
    upper = target.call
    values = {name: getattr(source, f"{name}_id" if name == "category" else name) for name in COPIED_FIELDS}
    values["category_id"] = values.pop("category")
    first, last = rules.month_start(upper.implement_from), rules.month_start(upper.implement_until)
    # the months are kept when they fit the upper call's implementation period
    if source.start_month and source.end_month and first <= source.start_month and source.end_month <= last:
        values.update(start_month=source.start_month, end_month=source.end_month)
    Proposal.objects.filter(pk=target.pk).update(recommended_from=source, **values)
    target.places.set(source.places.all())
    target.cited_needs.set(source.cited_needs.all())
    for model, keep in COPIED_TABLES.items():
        rows = model.objects.filter(proposal=source).order_by("pk")
        model.objects.bulk_create([model(proposal=target, **{k: getattr(r, k) for k in keep}) for r in rows])
    for a in source.attachments.all():
        copy = ProposalAttachment(
            proposal=target, kind=a.kind, original_name=a.original_name, size=a.size, uploaded_by_id=a.uploaded_by_id
        )
        files.watch(copy, "file")
        with a.file.open("rb") as content:
            copy.file.save(a.original_name, File(content), save=False)
        copy.save()


@action_service(Recommendation, "accept")
def recommendation_accept(*, recommendation: Recommendation, by) -> Proposal:
    """The organisation's 负责人 or 项目联系人 takes up the recommendation: a new draft in
    the upper call, a copy of the recommended proposal, to check and submit there. The
    rules of starting any proposal apply (grants.eligibility.may_apply: the upper call
    must accept applications, the organisation be eligible, within its count): refused
    with ValidationError listing every reason, PermissionDenied for anyone else, and
    WorkflowError when the recommendation was already answered. Returns the new draft."""
    source = recommendation.proposal
    if not may_run(recommendation, "accept", by):
        raise PermissionDenied(EDITOR_DENIED)
    require_can_proceed(recommendation, "accept")
    upper = recommendation.to_call
    with atomic_with_files() as files:
        draft = proposal_start(call=upper, organisation=source.organisation, by=by)
        _copy_into(source, draft, files)
        transition(
            recommendation,
            "accept",
            by=by,
            record={"result": draft},
            reason=f"已转入{upper}（草稿）",
            notify=[
                Notice(
                    _upper_managers(upper),
                    f"推荐项目已转入：{source.title}",
                    f"{source.organisation.name}已确认参加{upper}，申报书提交后进入资格审查。",
                    draft.get_admin_url(),
                ),
            ],
        )
    draft.refresh_from_db()
    return draft


@action_service(Recommendation, "decline")
def recommendation_decline(*, recommendation: Recommendation, by, reason: str = "") -> Recommendation:
    """The organisation does not take part in the upper call; the recommender and the
    upper call's managers are told."""
    if not may_run(recommendation, "decline", by):
        raise PermissionDenied(EDITOR_DENIED)
    reason = (reason or "").strip()
    proposal = recommendation.proposal
    body = f"{proposal.organisation.name}不参加{recommendation.to_call}。" + (f"说明：{reason}" if reason else "")
    recipients = [*_upper_managers(recommendation.to_call), recommendation.recommended_by]
    transition(
        recommendation,
        "decline",
        by=by,
        reason=reason,
        notify=[Notice(recipients, f"推荐未被接受：{proposal.title}", body, proposal.get_admin_url())],
    )
    return recommendation
