"""The applicant's side of a proposal: start it from a call, save it section by section,
submit, correct and resubmit, withdraw. Every change checks who acts; every status change
goes through core.workflow.transition (audit log, notices in the same transaction).

Saving is guarded by `Proposal.revision`: the page sends the revision it was opened at,
and a save from a page that is behind (another tab, another device) is refused with
`StaleProposal` instead of silently overwriting what was saved meanwhile."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.roles import Role
from accounts.selectors import staff_users_for_region
from core.errors import UserError
from core.files import atomic_with_files, safe_filename
from core.workflow import Notice, action_service, log_created, transition
from orgs import services as org_services
from orgs.models import Membership
from orgs.selectors import current_grade, member_role

from .. import rules
from ..eligibility import may_apply
from ..models import (
    KPI,
    Activity,
    AttachmentKind,
    BudgetLine,
    Call,
    Proposal,
    ProposalAttachment,
    ProposalStatus,
    ProposalVersion,
    TeamMember,
)

P = ProposalStatus
EDITOR_ROLES = (Membership.Role.LEADER, Membership.Role.CONTACT)
EDITOR_DENIED = "只有该组织的负责人或项目联系人可以填写和提交申报书。"


class StaleProposal(UserError):
    """The page was behind: someone saved the proposal since it was opened."""


STALE_MESSAGE = (
    "这份申报书在您打开之后已在其他窗口或设备上保存过。为免覆盖对方的修改，本次内容没有保存，"
    "已暂存在本浏览器中。请刷新页面查看最新内容，再把需要的修改重新填上。"
)


def can_edit(user, proposal: Proposal) -> bool:
    return member_role(user, proposal.organisation_id) in EDITOR_ROLES


def require_editor(user, organisation) -> None:
    if member_role(user, organisation) not in EDITOR_ROLES:
        raise PermissionDenied(EDITOR_DENIED)


def _staff_notice(proposal: Proposal, title: str, body: str) -> Notice:
    return Notice(
        staff_users_for_region(proposal.call.region, Role.CALL_MANAGER), title, body, proposal.get_admin_url()
    )


def members_notice(proposal: Proposal, title: str, body: str) -> Notice:
    """A notice to the organisation's members, linking to the proposal in the portal."""
    return org_services.members_notice(proposal.organisation, title, body, proposal)


# ---- start ----------------------------------------------------------------------------------------


def proposal_start(*, call: Call, organisation, by) -> Proposal:
    """A new draft of `organisation` for `call`. Refused (PermissionDenied) for anyone but
    its 负责人/项目联系人, and (ValidationError with every reason) when the organisation may
    not apply: the reasons are the same the call page shows before anything is typed."""
    require_editor(by, organisation)
    verdict = may_apply(call, organisation)
    if not verdict:
        raise ValidationError(verdict.reasons)
    with transaction.atomic():
        # lock the organisation's row: two tabs starting at once cannot pass the count twice
        type(organisation).objects.select_for_update().filter(pk=organisation.pk).first()
        verdict = may_apply(call, organisation)
        if not verdict:
            raise ValidationError(verdict.reasons)
        proposal = Proposal.objects.create(
            call=call,
            organisation=organisation,
            created_by=by,
            start_month=rules.month_start(call.implement_from),
            end_month=rules.month_start(call.implement_until),
        )
        if call.level == Call.Level.COMMUNITY:
            proposal.places.set([call.region])
        log_created(proposal, by=by, label="开始填写申报书")
    return proposal


# ---- saving a section -----------------------------------------------------------------------------

# the child tables a section replaces wholesale, and the fields each row keeps
LINE_TABLES = {
    "budget_lines": (BudgetLine, ("category", "item", "unit", "quantity", "unit_price", "source", "nature", "note")),
    "activities": (Activity, ("name", "month", "content", "sessions")),
    "team": (TeamMember, ("user", "name", "role", "qualifications")),
    "kpis": (KPI, ("indicator", "target", "unit", "method")),
}


def proposal_save(
    *,
    proposal: Proposal,
    by,
    revision: int,
    fields: dict | None = None,
    places=None,
    cited_needs=None,
    **tables,
) -> Proposal:
    """Save part of a draft (or of a proposal returned for correction): plain `fields`
    (column → cleaned value), the `places` and `cited_needs` sets, and any of the tables
    in LINE_TABLES as a list of row dicts (the table is replaced by these rows).

    `revision` is the revision the page was opened at; the save is refused with
    StaleProposal when the proposal has moved on. Returns the proposal with its new
    revision and recomputed totals. Rules are not enforced on a draft (nothing typed is
    refused for breaking a rule; `proposal_problems` shows them), only at submission."""
    if not can_edit(by, proposal):
        raise PermissionDenied(EDITOR_DENIED)
    if not proposal.editable:
        raise UserError(f"申报书当前状态为“{proposal.get_status_display()}”，不能修改。")
    unknown = set(tables) - set(LINE_TABLES)
    if unknown:
        raise TypeError(f"unknown tables: {sorted(unknown)}")
    fields = dict(fields or {})
    forbidden = set(fields) & {"status", "call", "organisation", "revision", "number", *_COMPUTED}
    if forbidden:
        raise TypeError(f"not editable here: {sorted(forbidden)}")
    now = timezone.now()
    # the rows are built (and the budget's totals summed) before the one UPDATE that moves
    # the revision on and stores the totals with it
    built = {}
    for name, rows in tables.items():
        model, keep = LINE_TABLES[name]
        objs = [
            model(proposal=proposal, position=i, **{k: row.get(k) for k in keep if k in row})
            for i, row in enumerate(rows)
        ]
        if model is BudgetLine:
            for line in objs:
                line.amount = rules.line_amount(line.quantity, line.unit_price)
        built[name] = (model, objs)
    totals = _totals(built["budget_lines"][1]) if "budget_lines" in built else {}
    with transaction.atomic():
        moved = Proposal.objects.filter(pk=proposal.pk, revision=revision, status__in=[P.DRAFT, P.RETURNED]).update(
            revision=F("revision") + 1, last_saved_at=now, updated_at=now, **fields, **totals
        )
        if not moved:
            raise StaleProposal(STALE_MESSAGE)
        for name, value in {**fields, **totals}.items():
            setattr(proposal, name, value)
        prefetched = getattr(proposal, "_prefetched_objects_cache", {})
        for name, chosen in (("places", places), ("cited_needs", cited_needs)):
            loaded = prefetched.get(name)
            if chosen is None or (
                loaded is not None and {o.pk for o in loaded} == {getattr(o, "pk", o) for o in chosen}
            ):
                continue  # unchanged from the rows the page's proposal holds
            getattr(proposal, name).set(chosen)
        for name, (model, objs) in built.items():
            prefetched.pop(name, None)  # a page's prefetched rows are replaced below
            model.objects.filter(proposal=proposal).delete()
            model.objects.bulk_create(objs)
        proposal.revision = revision + 1
        proposal.last_saved_at = now
    return proposal


_COMPUTED = ("budget_total", "grant_amount", "self_funded", "personnel_amount")


def _totals(lines) -> dict:
    """The budget's stored totals (the columns of _COMPUTED) from its lines."""
    totals = rules.budget_totals(lines)
    return {
        "budget_total": totals.total,
        "grant_amount": totals.grant,
        "self_funded": totals.self_funded,
        "personnel_amount": totals.personnel,
    }


# ---- what is still wrong -------------------------------------------------------------------------

REQUIRED = {
    "title": "请填写项目名称。",
    "category": "请选择服务领域。",
    "start_month": "请填写开始年月。",
    "end_month": "请填写结束年月。",
    "beneficiaries_direct": "请填写直接受益人数。",
    "need_analysis": "请填写需求分析。",
    "objectives": "请填写项目目标。",
    "risks": "请填写风险与应对。",
}


def proposal_problems(proposal: Proposal, *, on: datetime.date | None = None) -> dict[str, list[str]]:
    """Everything that stops submission, by the field (or section) it belongs to:
    missing answers, the call's rules on the budget, category, period and places, and the
    organisation's eligibility ("organisation"). Empty when it may be submitted."""
    call = proposal.call
    errors: dict[str, list[str]] = {}

    def add(found):
        for key, messages in found.items():
            errors.setdefault(key, []).extend(messages)

    for name, message in REQUIRED.items():
        value = getattr(proposal, f"{name}_id" if name == "category" else name)
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            errors.setdefault(name, []).append(message)
    places = list(proposal.places.all())
    if not places:
        errors.setdefault("places", []).append("请选择实施地点（街道或社区）。")
    lines = list(proposal.budget_lines.all())
    add(rules.budget_problems(call, rules.budget_totals(lines), lines))
    add(
        rules.plan_problems(
            call,
            category=proposal.category,
            start_month=proposal.start_month,
            end_month=proposal.end_month,
            places=places,
        )
    )
    activities = list(proposal.activities.all())
    if not activities:
        errors.setdefault("activities", []).append("请至少安排一项活动。")
    add(activity_problems(proposal, activities))
    if not proposal.kpis.exists():
        errors.setdefault("kpis", []).append("请至少填写一项绩效指标。")
    if not proposal.team.exists():
        errors.setdefault("team", []).append("请至少填写一名项目团队成员。")
    # whether the call still takes applications is the submit service's own check (a
    # proposal returned for correction is resubmitted after the close)
    verdict = may_apply(call, proposal.organisation, on=on, proposal=proposal, check_period=False)
    if not verdict:
        errors.setdefault("organisation", []).extend(verdict.reasons)
    return errors


def activity_problems(proposal: Proposal, activities) -> dict[str, list[str]]:
    """An activity planned outside the project's own months (起止年月)."""
    first, last = rules.month_start(proposal.start_month), rules.month_start(proposal.end_month)
    found = []
    for i, a in enumerate(activities, start=1):
        month = rules.month_start(a.month)
        if month and ((first and month < first) or (last and month > last)):
            found.append(
                f"第{i}项活动“{a.name}”安排在{month.year}年{month.month}月，不在项目起止年月"
                f"（{_ym(first)}至{_ym(last)}）内。"
            )
    return {"activities": found} if found else {}


def _ym(day) -> str:
    return f"{day.year}年{day.month}月" if day else "—"


# ---- attachments --------------------------------------------------------------------------------

ATTACHMENT_KINDS = ("pdf", "jpg", "png", "xlsx")
MAX_ATTACHMENTS = 20


def _require_editable(proposal: Proposal, by) -> None:
    if not can_edit(by, proposal):
        raise PermissionDenied(EDITOR_DENIED)
    if not proposal.editable:
        raise UserError(f"申报书当前状态为“{proposal.get_status_display()}”，不能修改。")


def attachment_add(*, proposal: Proposal, by, upload, kind: str = AttachmentKind.OTHER) -> ProposalAttachment:
    """Store an uploaded file (already checked by core.files.SafeFileField) as an attachment
    of a draft or a returned proposal. The file is deleted again if the row is not saved."""
    _require_editable(proposal, by)
    if proposal.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError({"file": f"每份申报书最多上传{MAX_ATTACHMENTS}个附件，请先删除不需要的附件。"})
    name = safe_filename(upload.name)[:200]
    with atomic_with_files() as files:
        attachment = ProposalAttachment(
            proposal=proposal, kind=kind, original_name=name, size=upload.size or 0, uploaded_by=by
        )
        files.watch(attachment, "file")
        attachment.file.save(name, upload, save=False)
        attachment.save()
    return attachment


def attachment_remove(*, attachment: ProposalAttachment, by) -> None:
    """Delete an attachment of a draft or returned proposal; the file goes once committed."""
    _require_editable(attachment.proposal, by)
    stored = attachment.file.name
    storage = attachment.file.storage
    with transaction.atomic():
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(stored) if stored else None)


# ---- the frozen copy at each submission ---------------------------------------------------------


def organisation_facts(org) -> dict:
    """What the organisation's profile says, as a proposal shows it (never retyped) and as
    each version freezes it."""
    grade = current_grade(org)
    return {
        "name": org.name,
        "uscc": org.uscc or "",
        "org_type": org.get_org_type_display(),
        "region": org.region.full_name,
        "address": org.address,
        "legal_representative": org.legal_representative,
        "contact_name": org.contact_name,
        "contact_phone": org.contact_phone,
        "bank_name": org.bank_name,
        "bank_account_name": org.bank_account_name,
        "bank_account": org.bank_account,
        "grade": grade.grade if grade else "",
    }


def snapshot(proposal: Proposal) -> dict:
    """Every field, line and the organisation's facts now, as JSON-safe values; what the
    version keeps and what two versions are compared by."""

    def rows(qs, keep):
        return [{k: _plain(getattr(r, k if k != "user" else "user_id")) for k in keep} for r in qs]

    data = {
        "organisation": organisation_facts(proposal.organisation),
        "fields": {
            "title": proposal.title,
            "category": proposal.category.name if proposal.category_id else "",
            "places": [p.full_name for p in proposal.places.all()],
            "start_month": _plain(proposal.start_month),
            "end_month": _plain(proposal.end_month),
            "beneficiaries_direct": proposal.beneficiaries_direct,
            "beneficiaries_indirect": proposal.beneficiaries_indirect,
            "summary": proposal.summary,
            "need_analysis": proposal.need_analysis,
            "cited_needs": [n.title for n in proposal.cited_needs.all()],
            "objectives": proposal.objectives,
            "approach": proposal.approach,
            "risks": proposal.risks,
            "budget_total": _plain(proposal.budget_total),
            "grant_amount": _plain(proposal.grant_amount),
            "self_funded": _plain(proposal.self_funded),
            "personnel_amount": _plain(proposal.personnel_amount),
        },
        "attachments": [a.original_name for a in proposal.attachments.all()],
    }
    for name, (_model, keep) in LINE_TABLES.items():
        data[name] = rows(getattr(proposal, name).all(), keep)
    return data


def _plain(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal
        return f"{value:.2f}"
    return value


def _write_version(proposal: Proposal, by) -> ProposalVersion:
    number = proposal.versions.count() + 1
    return ProposalVersion.objects.create(proposal=proposal, number=number, data=snapshot(proposal), submitted_by=by)


def _number(proposal: Proposal) -> str:
    return proposal.number or f"GY{proposal.call.year}-{proposal.call_id:03d}-{proposal.pk:05d}"


# ---- submit, resubmit, withdraw ---------------------------------------------------------------


@action_service(Proposal, "submit")
@action_service(Proposal, "resubmit")
def proposal_submit(*, proposal: Proposal, by) -> Proposal:
    """Submit a draft while the call accepts applications, or resubmit one returned for
    correction before its deadline. Refused with PermissionDenied (not an editor),
    ValidationError (every problem by field, nothing changed) or WorkflowError (the call
    closed, the deadline passed, the state moved on)."""
    if not can_edit(by, proposal):
        raise PermissionDenied(EDITOR_DENIED)
    name = "resubmit" if proposal.status == P.RETURNED else "submit"
    if name == "submit" and not proposal.call.accepts_applications:
        raise UserError(
            f"“{proposal.call}”当前不接受申报（{proposal.call.get_status_display()}，申报截止{proposal.call.apply_until:%Y-%m-%d}）。"
        )
    if name == "resubmit" and proposal.correction_deadline and timezone.localdate() > proposal.correction_deadline:
        raise UserError(f"补正截止日期（{proposal.correction_deadline:%Y-%m-%d}）已过，不能再提交。")
    problems = proposal_problems(proposal)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        number = _number(proposal)
        title = "申报书已重新提交" if name == "resubmit" else "新的项目申报"
        transition(
            proposal,
            name,
            by=by,
            record={"submitted_at": timezone.now(), "number": number, "correction_deadline": None},
            notify=lambda: [
                _staff_notice(
                    proposal, f"{title}：{proposal.title}", f"{proposal.organisation.name}（{proposal.call}）"
                ),
                members_notice(
                    proposal,
                    f"申报书已提交：{proposal.title}",
                    f"申报编号 {number}。资格审查结果会通知您。",
                ),
            ],
        )
        _write_version(proposal, by)
    return proposal


@action_service(Proposal, "withdraw")
def proposal_withdraw(*, proposal: Proposal, by, reason: str = "") -> Proposal:
    if not can_edit(by, proposal):
        raise PermissionDenied(EDITOR_DENIED)
    transition(
        proposal,
        "withdraw",
        by=by,
        reason=reason,
        notify=lambda: (
            [_staff_notice(proposal, f"申报已撤回：{proposal.title}", (reason or "").strip())]
            if proposal.submitted_at
            else []
        ),
    )
    return proposal
