"""进度报告: the organisation reports what it did in a period (activities, people reached,
spending per grant-funded budget line, KPI progress, photos) and staff review it.

Only the organisation's 负责人 or 项目联系人 start, edit and submit a report, and only
while the project is under way (实施中, 暂停拨付（整改中）, 中期评估通过): a report on a
project that is closed, terminated or not yet started is refused with the project's
status, and nothing is written. A submitted report is locked; a call manager of the
call's region reviews it with a comment (审阅), which the organisation reads."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from accounts.selectors import staff_users_for_region
from core.files import atomic_with_files, safe_filename, validate_upload
from core.workflow import Notice, WorkflowError, action_service, log_created, transition
from orgs.models import Membership
from orgs.selectors import member_role
from orgs.services import members_notice

from ..models import FundingSource, ProgressReport, Proposal, ProposalStatus, ReportPhoto, ReportStatus

P = ProposalStatus
R = ReportStatus
# the project states in which the organisation reports
REPORTING_STATES = (P.IN_PROGRESS, P.SUSPENDED, P.MID_TERM_PASSED)
EDITOR_ROLES = (Membership.Role.LEADER, Membership.Role.CONTACT)
EDITOR_DENIED = "只有该组织的负责人或项目联系人可以填写和提交进度报告。"
PHOTO_KINDS = ("jpg", "png")
PHOTO_MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 20
MAX_AMOUNT = Decimal("1000000000")
# the report's own fields a save may change, with their limits
TEXT_FIELDS = {"period": 30, "narrative": 5000, "public_text": 2000}
COUNT_FIELDS = ("activities_held", "participants", "beneficiaries")
FIELD_LABELS = {
    "period": "报告期",
    "period_start": "报告期开始",
    "period_end": "报告期结束",
    "activities_held": "开展活动（场次）",
    "participants": "参与人次",
    "beneficiaries": "服务对象（人）",
    "narrative": "工作情况",
    "public_text": "公开展示的内容",
}


def may_edit(user, proposal) -> bool:
    return member_role(user, proposal.organisation_id) in EDITOR_ROLES


def _require_editor(user, proposal) -> None:
    if not may_edit(user, proposal):
        raise PermissionDenied(EDITOR_DENIED)


def require_reporting(proposal) -> None:
    """The project is under way: otherwise a clear refusal naming its status."""
    if proposal.status not in REPORTING_STATES:
        raise WorkflowError(
            f"项目当前状态为“{proposal.get_status_display()}”，不能新建、修改或提交进度报告；"
            "进度报告只在项目实施期间（实施中、整改中、中期评估通过后）填写。"
        )


def _require_draft(report) -> None:
    if report.status != R.DRAFT:
        raise WorkflowError(f"这份进度报告{report.get_status_display()}，不能再修改。")


def _period(period, period_start, period_end) -> dict:
    errors = {}
    period = (period or "").strip()
    if not period:
        errors["period"] = "请填写报告期，如“2027年3月”或“第一阶段”。"
    elif len(period) > TEXT_FIELDS["period"]:
        errors["period"] = f"报告期最多{TEXT_FIELDS['period']}个字。"
    if not isinstance(period_start, datetime.date):
        errors["period_start"] = "请填写报告期开始日期。"
    if not isinstance(period_end, datetime.date):
        errors["period_end"] = "请填写报告期结束日期。"
    if not errors and period_end < period_start:
        errors["period_end"] = "报告期结束日期不能早于开始日期。"
    if errors:
        raise ValidationError(errors)
    return {"period": period, "period_start": period_start, "period_end": period_end}


def _staff_notice(proposal, title: str, body: str) -> Notice:
    return Notice(
        staff_users_for_region(proposal.call.region, Role.CALL_MANAGER), title, body, proposal.get_admin_url()
    )


# ---- start ------------------------------------------------------------------------------------


def report_start(*, proposal: Proposal, by, period: str, period_start, period_end) -> ProgressReport:
    """A new draft report of `proposal` for one period."""
    _require_editor(by, proposal)
    require_reporting(proposal)
    values = _period(period, period_start, period_end)
    with transaction.atomic():
        report = ProgressReport.objects.create(proposal=proposal, created_by=by, **values)
        log_created(report, by=by, label="新建进度报告")
    return report


# ---- save -------------------------------------------------------------------------------------


def _amount(raw, label: str, what: str) -> str | None:
    """A typed amount as a Decimal string with two places; None when blank."""
    text = str(raw if raw is not None else "").strip().replace(",", "")
    if text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"“{label}”的{what}须是数字。") from None
    if not value.is_finite() or value < 0 or value >= MAX_AMOUNT:
        raise ValidationError(f"“{label}”的{what}须是不小于0的数。")
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError(f"“{label}”的{what}最多保留两位小数。")
    return f"{value.quantize(Decimal('0.01'))}"


def _clean_amounts(
    rows: dict, values: dict, *, label, what: str, prefix: str, unknown: tuple[str, str]
) -> dict[str, str]:
    """{row id: typed amount} checked against the project's own `rows` (by str id):
    {str(id): "1234.50"}; ValidationError keyed f"{prefix}{id}", or `unknown` (key, message)
    for an id that is not one of them."""
    clean, errors = {}, {}
    for key, raw in (values or {}).items():
        key = str(key)
        row = rows.get(key)
        if row is None:
            errors[unknown[0]] = unknown[1]
            continue
        try:
            value = _amount(raw, label(row), what)
        except ValidationError as exc:
            errors[f"{prefix}{key}"] = exc.messages[0]
            continue
        if value is not None:
            clean[key] = value
    if errors:
        raise ValidationError(errors)
    return clean


def clean_spending(proposal, spending: dict) -> dict[str, str]:
    """{grant line id: amount} → {str(id): "1234.50"}; ValidationError keyed spending_<id>."""
    lines = {str(line.pk): line for line in proposal.budget_lines.all() if line.source == FundingSource.GRANT}
    return _clean_amounts(
        lines,
        spending,
        label=lambda line: line.item,
        what="支出",
        prefix="spending_",
        unknown=("spending", "支出只能填在本项目申请资助的预算科目上。"),
    )


def clean_kpi_progress(proposal, progress: dict) -> dict[str, str]:
    """{KPI id: value reached} → {str(id): "120.00"}; ValidationError keyed kpi_<id>."""
    kpis = {str(k.pk): k for k in proposal.kpis.all()}
    return _clean_amounts(
        kpis,
        progress,
        label=lambda kpi: kpi.indicator,
        what="完成值",
        prefix="kpi_",
        unknown=("kpi_progress", "只能填写本项目的绩效指标。"),
    )


def _fields(report, fields: dict) -> dict:
    unknown = set(fields) - set(FIELD_LABELS)
    if unknown:
        raise ValueError(f"not report fields: {sorted(unknown)}")
    values, errors = {}, {}
    if {"period", "period_start", "period_end"} & set(fields):
        try:
            values.update(
                _period(
                    fields.get("period", report.period),
                    fields.get("period_start", report.period_start),
                    fields.get("period_end", report.period_end),
                )
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
    for name, limit in TEXT_FIELDS.items():
        if name in fields and name != "period":
            text = (fields[name] or "").strip()
            if len(text) > limit:
                errors[name] = f"{FIELD_LABELS[name]}最多{limit}个字（现在是{len(text)}个字）。"
            values[name] = text
    for name in COUNT_FIELDS:
        if name in fields:
            raw = fields[name]
            try:
                value = int(str(raw).strip() or 0) if raw is not None else 0
            except ValueError:
                errors[name] = f"{FIELD_LABELS[name]}须是整数。"
                continue
            if not 0 <= value <= 10_000_000:
                errors[name] = f"{FIELD_LABELS[name]}须在0到10,000,000之间。"
                continue
            values[name] = value
    if errors:
        raise ValidationError(errors)
    return values


def _photo_changes(report, photos: dict) -> list[tuple[ReportPhoto, dict]]:
    by_pk = {p.pk: p for p in report.photos.all()}
    changes, errors = [], {}
    for pk, change in (photos or {}).items():
        photo = by_pk.get(int(pk))
        if photo is None:
            errors["photos"] = "照片不属于这份进度报告，请刷新页面后重试。"
            continue
        new = {}
        if "caption" in change:
            caption = (change["caption"] or "").strip()
            if len(caption) > 100:
                errors[f"photo_{pk}_caption"] = "照片说明最多100个字。"
                continue
            if caption != photo.caption:
                new["caption"] = caption
        if "public" in change and bool(change["public"]) != photo.public:
            new["public"] = bool(change["public"])
        if new:
            changes.append((photo, new))
    if errors:
        raise ValidationError(errors)
    return changes


def _check_photo(upload, caption: str) -> None:
    try:
        validate_upload(upload, kinds=PHOTO_KINDS, max_bytes=PHOTO_MAX_BYTES)
    except ValidationError as exc:
        raise ValidationError({"photo": exc.messages}) from None
    if len((caption or "").strip()) > 100:
        raise ValidationError({"photo_caption": "照片说明最多100个字。"})


def report_save(
    *,
    report: ProgressReport,
    by,
    fields: dict | None = None,
    spending: dict | None = None,
    kpi_progress: dict | None = None,
    photos: dict | None = None,
    new_photos=(),
) -> ProgressReport:
    """Save what the organisation typed into a draft report: `fields` (the report's own,
    FIELD_LABELS), `spending` ({grant budget line id: amount spent in the period}),
    `kpi_progress` ({KPI id: value reached}), `photos` ({photo id: {"caption", "public"}})
    and `new_photos` ([{"upload", "caption", "public"}], JPG or PNG of at most 10 MB each).
    Everything is checked first; a problem anywhere saves nothing (ValidationError keyed by
    field: period, spending_<id>, kpi_<id>, photo …). Saving the form unchanged changes
    nothing."""
    proposal = report.proposal
    _require_editor(by, proposal)
    require_reporting(proposal)
    _require_draft(report)
    errors = {}
    values = {}
    for part in (
        lambda: values.update(_fields(report, fields or {})),
        lambda: spending is not None and values.update(spending=clean_spending(proposal, spending)),
        lambda: kpi_progress is not None and values.update(kpi_progress=clean_kpi_progress(proposal, kpi_progress)),
    ):
        try:
            part()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        changes = _photo_changes(report, photos)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        changes = []
    new_photos = [p for p in new_photos or () if p.get("upload")]
    if new_photos and report.photos.count() + len(new_photos) > MAX_PHOTOS:
        errors["photo"] = f"每份进度报告最多上传{MAX_PHOTOS}张照片。"
    else:
        for p in new_photos:
            try:
                _check_photo(p["upload"], p.get("caption", ""))
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    changed = [name for name, value in values.items() if getattr(report, name) != value]
    with atomic_with_files() as files:
        if changed:
            for name in changed:
                setattr(report, name, values[name])
            report.save(update_fields=changed)
        for photo, new in changes:
            for name, value in new.items():
                setattr(photo, name, value)
            photo.save(update_fields=list(new))
        for p in new_photos:
            _store_photo(report, files, p["upload"], p.get("caption", ""), bool(p.get("public")))
    return report


def _store_photo(report, files, upload, caption: str, public: bool) -> ReportPhoto:
    photo = ReportPhoto(report=report, caption=(caption or "").strip()[:100], public=public)
    files.watch(photo, "image")
    photo.image.save(safe_filename(upload.name), upload, save=False)
    photo.save()
    return photo


def photo_add(*, report: ProgressReport, by, upload, caption: str = "", public: bool = False) -> ReportPhoto:
    """One photo (JPG or PNG, at most 10 MB) added to a draft report."""
    report_save(report=report, by=by, new_photos=[{"upload": upload, "caption": caption, "public": public}])
    return report.photos.order_by("-pk").first()


def photo_remove(*, photo: ReportPhoto, by) -> None:
    """Delete a photo of a draft report; the file goes once committed."""
    report = photo.report
    _require_editor(by, report.proposal)
    require_reporting(report.proposal)
    _require_draft(report)
    stored, storage = photo.image.name, photo.image.storage
    with transaction.atomic():
        photo.delete()
        transaction.on_commit(lambda: storage.delete(stored) if stored else None)


# ---- submit and review ----------------------------------------------------------------------------


def report_problems(report) -> dict[str, str]:
    """What must be filled before the report can be submitted."""
    problems = {}
    if not (report.narrative or "").strip():
        problems["narrative"] = "请填写工作情况后再提交。"
    return problems


def report_submit(*, report: ProgressReport, by) -> ProgressReport:
    """Submit a draft report: it is locked and the call managers are told."""
    proposal = report.proposal
    _require_editor(by, proposal)
    require_reporting(proposal)
    problems = report_problems(report)
    if problems:
        raise ValidationError(problems)
    transition(
        report,
        "submit",
        by=by,
        denied=EDITOR_DENIED,
        record={"submitted_at": timezone.now()},
        notify=[
            _staff_notice(
                proposal,
                f"进度报告待审阅：{proposal.title}",
                f"{proposal.organisation.name}提交了“{proposal.title}”{report.period}的进度报告。",
            )
        ],
    )
    return report


def report_review(*, report: ProgressReport, by, comment: str = "") -> ProgressReport:
    """A call manager of the call's region reviews a submitted report, with a comment the
    organisation reads."""
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError({"reason": "审阅意见最多2000字。"})
    proposal = report.proposal
    transition(
        report,
        "review",
        by=by,
        reason=comment,
        denied="您无权审阅该进度报告：须由征集所在区域的业务主管办理。",
        record={"staff_comment": comment},
        notify=lambda: [
            members_notice(
                proposal.organisation,
                f"进度报告已审阅：{proposal.title}",
                f"“{proposal.title}”{report.period}的进度报告已审阅。" + (f"审阅意见：{comment}" if comment else ""),
                proposal,
            )
        ],
    )
    return report


@action_service(ProgressReport, "review")
def review_action(*, report: ProgressReport, by, reason: str = "") -> ProgressReport:
    """The staff page's 审阅 button (its form's field is the transition's reason)."""
    return report_review(report=report, by=by, comment=reason)


def photo_limit_text() -> str:
    return f"JPG或PNG格式，每张不超过{PHOTO_MAX_BYTES // 1024 // 1024} MB，每份报告最多{MAX_PHOTOS}张。"
