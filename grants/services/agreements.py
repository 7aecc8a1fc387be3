"""项目协议书: drawn up for an approved project from its call's template, signed by both
sides, after which the project is in progress.

- `agreement_draw_up`: a call manager of the call's region draws up the agreement of an
  APPROVED project (one per project): its number (XY<year>-<call id>-<seq>), the award, the
  implementation period from the proposal's months, and the clauses: the call's
  `agreement_template` with its placeholders (grants.models.calls.AGREEMENT_PLACEHOLDERS)
  filled with the project's facts, frozen into the agreement.
- `agreement_update_clauses`: the manager edits the clauses before the organisation confirms.
- Signing, either way: the organisation's 负责人 confirms (`agreement_confirm_by_org`), then
  the call manager (`agreement_confirm_by_funder`; never first); or the manager uploads the
  scan both sides signed and stamped on paper (`agreement_record_scan`, PDF/JPG/PNG checked
  by its bytes). Once signed, in the same transaction, the project goes 已签订协议 → 实施中
  (its audit rows) and its tranches are planned from the call's plan
  (grants.services.tranches.plan_tranches).

The organisation's members hear of each step (a notice linking to the project's page)."""

import calendar
import datetime
import importlib.util
import re
from dataclasses import replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import Role
from accounts.selectors import has_scoped_perm, staff_users_for_region
from core.dates import chinese_date
from core.files import DOCUMENT_KINDS, atomic_with_files, validate_upload
from core.numerals import capital_amount
from core.workflow import (
    Notice,
    WorkflowError,
    action_service,
    extra_action,
    log_created,
    log_event,
    may_run,
    require_can_proceed,
    run_transition,
    send_notices,
    transition,
)

from ..models import MANAGE_PERMISSION, TRANCHE_GATES, Agreement, AgreementStatus, Call, Proposal, ProposalStatus
from ..models.calls import AGREEMENT_PLACEHOLDERS, PLACEHOLDER_PATTERN, template_problems
from ..rules import fmt_money
from .proposals import members_notice

AG = AgreementStatus
P = ProposalStatus
CN = "一二三四五六七八九十"
MANAGE_DENIED = "您无权办理该项目的协议：须由征集所在区域的业务主管（民政）办理。"
LEADER_DENIED = "只有申报组织的负责人可以确认项目协议。"
CLAUSES_MAX = 20000


# ---- reading ------------------------------------------------------------------------------------


def agreement_of(proposal: Proposal) -> Agreement | None:
    """The project's agreement (with who signed), None before one is drawn up. Read once per
    proposal object: the page's action list and its panel share it."""
    cache = proposal._state.fields_cache
    if "agreement" not in cache:
        agreement = (
            Agreement.objects.select_related("org_signed_by", "funder_signed_by").filter(proposal=proposal).first()
        )
        if agreement is not None:
            agreement.proposal = proposal  # its permissions read the call and the organisation: no query
        cache["agreement"] = agreement
    return cache["agreement"]


def scan_name(agreement: Agreement) -> str:
    """The download name of the signed scan."""
    ext = agreement.signed_scan.name.rsplit(".", 1)[-1] if agreement.signed_scan else "pdf"
    return f"项目协议签字盖章件-{agreement.number}.{ext}"


def may_manage(user, proposal: Proposal) -> bool:
    return has_scoped_perm(user, MANAGE_PERMISSION, proposal.call.region)


def _require_manager(user, proposal: Proposal) -> None:
    if not may_manage(user, proposal):
        raise PermissionDenied(MANAGE_DENIED)


# ---- the terms ----------------------------------------------------------------------------------


def _month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def agreement_period(proposal: Proposal) -> tuple[datetime.date, datetime.date]:
    """The implementation period: the proposal's first month's first day to its last
    month's last day (the call's implementation dates where the proposal has none)."""
    call = proposal.call
    starts = proposal.start_month.replace(day=1) if proposal.start_month else call.implement_from
    ends = _month_end(proposal.end_month) if proposal.end_month else call.implement_until
    return starts, ends


def tranche_rows(plan: list[dict], amount) -> list[dict]:
    """The call's tranche plan applied to an award, as the agreement prints it: each line's
    name, gate, percent and amount (grants.services.tranches.split_award: cents, the
    remainder on the last)."""
    from .tranches import split_award

    amounts = split_award(amount, [line["percent"] for line in plan])
    return [
        {
            "position": i,
            "name": line.get("name") or f"第{i}期",
            "gate": TRANCHE_GATES.get(line.get("gate"), line.get("gate", "")),
            "percent": line["percent"],
            "amount": value,
        }
        for i, (line, value) in enumerate(zip(plan, amounts, strict=True), start=1)
    ]


def _numbered(i: int) -> str:
    return f"（{CN[i - 1]}）" if i <= len(CN) else f"（{i}）"


def _tranche_text(rows: list[dict]) -> str:
    lines = [
        f"{_numbered(r['position'])}{r['name']}：{r['gate']}拨付{r['percent']}%，计人民币{fmt_money(r['amount'])}元"
        for r in rows
    ]
    return "；\n".join(lines) + "。" if lines else "按征集的拨付计划执行。"


def _kpi_text(kpis) -> str:
    lines = [
        f"{i}. {k.indicator}：{k.target.normalize():f}{k.unit}" + (f"（衡量方式：{k.method}）" if k.method else "")
        for i, k in enumerate(kpis, start=1)
    ]
    return "；\n".join(lines) + "。" if lines else "按经批准的申报书所列绩效指标执行。"


def agreement_placeholders(proposal: Proposal, *, number: str, amount, starts_on, ends_on) -> dict[str, str]:
    """What each placeholder of AGREEMENT_PLACEHOLDERS stands for in this project's agreement."""
    call, org = proposal.call, proposal.organisation
    places = "、".join(r.full_name for r in proposal.places.order_by("path")) or call.region.full_name
    values = {
        "协议编号": number,
        "项目名称": proposal.title,
        "项目编号": proposal.number,
        "征集名称": call.title,
        "服务领域": proposal.category.name if proposal.category_id else "—",
        "实施地点": places,
        "开始日期": chinese_date(starts_on),
        "结束日期": chinese_date(ends_on),
        "资助金额": fmt_money(amount),
        "资助金额大写": capital_amount(amount),
        "拨付计划": _tranche_text(tranche_rows(call.tranche_plan, amount)),
        "绩效指标": _kpi_text(proposal.kpis.order_by("position", "pk")),
        "甲方": call.organiser,
        "乙方": org.name,
        "统一社会信用代码": org.uscc or org.filing_number or "—",
        "法定代表人": org.legal_representative or "—",
        "乙方地址": org.address or "—",
        "开户银行": org.bank_name or "—",
        "账户名称": org.bank_account_name or "—",
        "银行账号": org.bank_account or "—",
    }
    assert set(values) == set(AGREEMENT_PLACEHOLDERS), "every placeholder has a value"
    return values


def fill_template(template: str, values: dict[str, str]) -> str:
    """The template with each {占位符} replaced; a template the call's check would refuse
    (an unknown placeholder, a stray brace) is refused here too, with the same words."""
    problems = template_problems(template)
    if problems:
        raise ValidationError(f"征集的协议条款模板有误，请先修改征集：{''.join(problems)}")
    return PLACEHOLDER_PATTERN.sub(lambda m: values[m.group(1)], template)


_NUMBER = re.compile(r"-(\d+)$")


def _next_number(call) -> str:
    """XY<year>-<call id>-<seq>: the call's agreements numbered 001, 002, … in drawing order."""
    numbers = Agreement.objects.filter(proposal__call=call).values_list("number", flat=True)
    seq = max((int(m.group(1)) for n in numbers if (m := _NUMBER.search(n))), default=0) + 1
    return f"XY{call.year}-{call.pk}-{seq:03d}"


# ---- notices ------------------------------------------------------------------------------------


def _members(proposal: Proposal, title: str, body: str) -> Notice:
    return replace(members_notice(proposal, title, body), url=f"{proposal.get_absolute_url()}#agreement")


def _managers(proposal: Proposal, title: str, body: str) -> Notice:
    return Notice(
        staff_users_for_region(proposal.call.region, Role.CALL_MANAGER),
        title,
        body,
        f"{proposal.get_admin_url()}#agreement",
    )


# ---- drawing up ---------------------------------------------------------------------------------


def may_draw_up(proposal: Proposal) -> bool:
    """Approved, with an award, and no agreement yet (the page's action asks)."""
    return proposal.status == P.APPROVED and agreement_of(proposal) is None


@extra_action(
    Proposal,
    "draw-up-agreement",
    "生成项目协议",
    permitted=lambda proposal, user: may_manage(user, proposal),
    when=may_draw_up,
    order=950,
    intro="按征集的协议条款模板生成本项目的协议书；签订前可修改条款。生成后申报单位负责人会收到通知，在线确认。",
    success="已生成“{obj}”的项目协议，已通知申报单位确认。",
)
def agreement_draw_up(*, proposal: Proposal, by) -> Agreement:
    """The agreement of an approved project, drawn up by a call manager of the call's
    region. Refused: PermissionDenied for anyone else (finance, other regions, the
    applicant); WorkflowError for a project not approved, without an award, or whose
    agreement exists; ValidationError when the call's template is wrong."""
    _require_manager(by, proposal)
    with transaction.atomic():
        # one drawing up of a call's agreements at a time: the numbers follow each other
        call = Call.objects.select_for_update().select_related("region").get(pk=proposal.call_id)
        fresh = Proposal.objects.select_related("call__region", "organisation", "category").get(pk=proposal.pk)
        fresh.call = call
        if fresh.status != P.APPROVED:
            raise WorkflowError(f"只有已批复立项的项目可以生成协议，“{fresh}”当前为“{fresh.get_status_display()}”。")
        if Agreement.objects.filter(proposal=fresh).exists():
            raise WorkflowError(f"“{fresh}”已生成项目协议，无需重复生成。")
        amount = fresh.awarded_amount
        if not amount or amount <= 0:
            raise WorkflowError(f"“{fresh}”没有批复的资助金额，不能生成协议。")
        starts_on, ends_on = agreement_period(fresh)
        number = _next_number(call)
        values = agreement_placeholders(fresh, number=number, amount=amount, starts_on=starts_on, ends_on=ends_on)
        agreement = Agreement(
            proposal=fresh,
            number=number,
            amount=amount,
            starts_on=starts_on,
            ends_on=ends_on,
            clauses=fill_template(call.agreement_template, values),
        )
        agreement.full_clean()
        try:
            with transaction.atomic():
                agreement.save()
        except IntegrityError:
            raise WorkflowError(f"“{fresh}”的项目协议刚被其他人生成，请刷新页面查看。") from None
        log_created(agreement, by=by, label=f"生成项目协议{number}")
        send_notices(
            [
                _members(
                    fresh,
                    f"项目协议已生成：{fresh.title}",
                    f"“{fresh.title}”的项目协议（编号{number}，资助金额{fmt_money(amount)}元）已生成。"
                    "请组织负责人登录后核对协议条款并确认；也可下载协议书打印，签字盖章后交资助方。",
                )
            ]
        )
    proposal._state.fields_cache["agreement"] = agreement
    return agreement


# ---- before signing: the clauses ---------------------------------------------------------------


@extra_action(
    Agreement,
    "update-clauses",
    "修改协议条款",
    permitted=lambda agreement, user: may_manage(user, agreement.proposal),
    when=lambda agreement: agreement.status == AG.DRAFT,
    form="grants.forms.agreements.ClausesForm",
    order=30,
    intro="申报单位负责人确认之前可以修改；修改后对方会收到通知。",
    success="已修改协议条款，已通知申报单位。",
)
def agreement_update_clauses(*, agreement: Agreement, by, clauses: str) -> Agreement:
    """New clauses for an agreement not yet confirmed by either side. Refused:
    PermissionDenied for anyone but a call manager of the region; WorkflowError once the
    organisation confirmed (it confirmed these words) or it is signed; ValidationError for
    empty or too long clauses."""
    proposal = agreement.proposal
    _require_manager(by, proposal)
    clauses = (clauses or "").replace("\r\n", "\n").strip()
    if not clauses:
        raise ValidationError({"clauses": "协议条款不能为空。"})
    if len(clauses) > CLAUSES_MAX:
        raise ValidationError({"clauses": f"协议条款不能超过{CLAUSES_MAX}字。"})
    with transaction.atomic():
        current = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if current.status != AG.DRAFT:
            raise WorkflowError(
                f"协议当前为“{current.get_status_display()}”，条款不能再修改"
                "（申报单位已按现有条款确认；如需变更，请另行签订补充协议）。"
            )
        if current.clauses == clauses:
            return current
        Agreement.objects.filter(pk=agreement.pk).update(clauses=clauses)
        agreement.clauses = clauses
        log_event(agreement, "update_clauses", by=by, reason="修改协议条款")
        send_notices(
            [
                _members(
                    proposal,
                    f"项目协议条款已修改：{proposal.title}",
                    f"资助方修改了协议{agreement.number}的条款，请负责人按修改后的条款核对并确认。",
                )
            ]
        )
    return agreement


# ---- signing ------------------------------------------------------------------------------------


def _tranches_module():
    """grants.services.tranches when it exists (it plans the project's tranches)."""
    if importlib.util.find_spec("grants.services.tranches") is None:
        return None
    return importlib.import_module("grants.services.tranches")


def _begin(agreement: Agreement, *, by, signed_on: datetime.date) -> Proposal:
    """The project once its agreement is signed: 已签订协议, then 实施中 (each with its
    audit row), and its tranches planned. Inside the signing's transaction."""
    proposal = Proposal.objects.select_related("call__region", "organisation").get(pk=agreement.proposal_id)
    run_transition(proposal, "sign_agreement", by=by, reason=f"项目协议{agreement.number}已签订")
    run_transition(proposal, "begin", by=by, reason=f"协议于{chinese_date(signed_on)}签订，项目进入实施")
    tranches = _tranches_module()
    if tranches is not None:
        tranches.plan_tranches(proposal=proposal, signed_on=signed_on, by=by)
    agreement.proposal = proposal
    return proposal


def _signed_notice(proposal: Proposal, agreement: Agreement, how: str) -> Notice:
    return _members(
        proposal,
        f"项目协议已签订：{proposal.title}",
        f"项目协议{agreement.number}已{how}，项目进入实施。首期资金将在签订后15个工作日内拨付，"
        "请按协议按时报送进度报告。",
    )


@action_service(Agreement, "confirm_by_org")
def agreement_confirm_by_org(*, agreement: Agreement, by) -> Agreement:
    """The organisation's 负责人 confirms the agreement's terms (its side's signature).
    Refused: PermissionDenied for anyone else (a 项目联系人, staff); WorkflowError when it
    was confirmed or signed already."""
    proposal = agreement.proposal
    if not may_run(agreement, "confirm_by_org", by):
        raise PermissionDenied(LEADER_DENIED)
    transition(
        agreement,
        "confirm_by_org",
        by=by,
        allowed=True,
        record={"org_signed_by": by, "org_signed_at": timezone.now()},
        notify=lambda: [
            _members(
                proposal,
                f"已确认项目协议：{proposal.title}",
                f"{by}代表{proposal.organisation.name}确认了项目协议{agreement.number}，等待资助方签订。",
            ),
            _managers(
                proposal,
                f"申报单位已确认项目协议：{proposal.title}",
                f"{proposal.organisation.name}已确认项目协议{agreement.number}，请核对后签订。",
            ),
        ],
    )
    return agreement


@action_service(Agreement, "confirm_by_funder")
def agreement_confirm_by_funder(*, agreement: Agreement, by) -> Agreement:
    """The call manager signs for the funder, after the organisation confirmed (never
    first); the project is then in progress. Refused: PermissionDenied for anyone but a
    call manager of the region; WorkflowError before the organisation's confirmation or
    once signed."""
    proposal = agreement.proposal
    _require_manager(by, proposal)
    if agreement.status == AG.DRAFT:
        raise WorkflowError(
            "申报单位负责人尚未确认协议，资助方不能先签订。请等待对方在线确认，或上传双方签字盖章的协议扫描件。"
        )
    today = timezone.localdate()
    with transaction.atomic():
        transition(
            agreement,
            "confirm_by_funder",
            by=by,
            allowed=True,
            record={"funder_signed_by": by, "funder_signed_at": timezone.now(), "signed_on": today},
        )
        proposal = _begin(agreement, by=by, signed_on=today)
        send_notices([_signed_notice(proposal, agreement, "由双方在线确认签订")])
    return agreement


def _scan_problems(agreement: Agreement, signed_on) -> dict:
    today = timezone.localdate()
    if signed_on is None:
        return {"signed_on": "请填写签订日期。"}
    if signed_on > today:
        return {"signed_on": "签订日期不能晚于今天。"}
    drawn_up = timezone.localdate(agreement.created_at) if agreement.created_at else None
    if drawn_up and signed_on < drawn_up:
        return {"signed_on": f"签订日期不能早于协议生成日期（{chinese_date(drawn_up)}）。"}
    return {}


@action_service(Agreement, "record_scan")
def agreement_record_scan(*, agreement: Agreement, by, scan, signed_on: datetime.date | None) -> Agreement:
    """The call manager uploads the agreement both sides signed and stamped on paper
    (PDF, JPG or PNG, checked by its bytes and size) with the signing date; the agreement
    is then signed and the project in progress. Refused: PermissionDenied for anyone but a
    call manager of the region; ValidationError (by field) for a wrong or unreadable file
    or a date in the future or before the agreement was drawn up; WorkflowError once
    signed. Nothing is kept when refused (the stored file is deleted again)."""
    proposal = agreement.proposal
    _require_manager(by, proposal)
    require_can_proceed(agreement, "record_scan")
    errors = _scan_problems(agreement, signed_on)
    try:
        kind = validate_upload(scan, kinds=DOCUMENT_KINDS)
    except ValidationError as exc:
        errors["scan"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with atomic_with_files() as files:
        files.watch(agreement, "signed_scan")
        agreement.signed_scan.save(f"{agreement.number}.{kind}", scan, save=False)
        transition(
            agreement,
            "record_scan",
            by=by,
            allowed=True,
            reason=f"上传签字盖章件，签订日期{chinese_date(signed_on)}",
            record={
                "signed_scan": agreement.signed_scan,
                "signed_on": signed_on,
                "funder_signed_by": by,
                "funder_signed_at": timezone.now(),
            },
        )
        proposal = _begin(agreement, by=by, signed_on=signed_on)
        send_notices([_signed_notice(proposal, agreement, f"于{chinese_date(signed_on)}由双方签字盖章")])
    return agreement
