"""公示 objections (异议): anyone files one on the public 公示 page while the window is open;
staff of the call's region record how each was handled (异议成立 / 异议不成立).

Filing is open to the public, so it is checked hard and kept private: the contact and the
evidence are for staff only, the client is kept as a keyed hash of its address (never the
address), and one client may file at most OBJECTION_CLIENT_LIMIT objections on one 公示 an
hour (a cache counter, shared by every worker when the cache is Redis). A refused filing
leaves nothing behind: no row, no file, no count."""

import datetime
import re

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.validators import MOBILE_RE, normalise_mobile
from core.dates import chinese_date
from core.errors import UserError
from core.files import DOCUMENT_KINDS, atomic_with_files, safe_filename, validate_upload
from core.workflow import action_service, log_created, transition

from ..models import Objection, Proposal, Publicity, PublicityKind

DEFAULT_CLIENT_LIMIT = 3
THROTTLE_SECONDS = 3600
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
REASON_MIN = 10
REASON_MAX = 2000
HANDLE_DENIED = "您无权处理该异议：须由征集所在区域的业务主管（民政）办理；审计、财务等岗位只能查看。"


class TooManyObjections(UserError):
    """The client used its hourly allowance on this 公示; nothing was saved."""


def client_limit() -> int:
    return int(getattr(settings, "OBJECTION_CLIENT_LIMIT", DEFAULT_CLIENT_LIMIT))


def client_hash(address: str) -> str:
    """The key a client is counted by: a keyed hash of its address (the address itself is
    never stored). The same address always gives the same key on every worker."""
    return salted_hmac("grants.objection.client", address or "", algorithm="sha256").hexdigest()


def receipt_number(objection: Objection) -> str:
    """异议编号 as the objector is told it: the year and the record's number, "26-0012"."""
    return f"{timezone.localtime(objection.created_at):%y}-{objection.pk:04d}"


def window_dates(publicity: Publicity) -> str:
    """2026年12月2日至12月8日 (the year once when both dates share it); the date alone
    for a notice without a window."""
    start, end = publicity.opens_on, publicity.closes_on
    if end is None:
        return chinese_date(start)
    until = f"{end.month}月{end.day}日" if end.year == start.year else chinese_date(end)
    return f"{chinese_date(start)}至{until}"


def window_text(publicity: Publicity) -> str:
    """公示期：2026年12月2日至12月8日, or 发布日期：… for a notice without a window."""
    label = "发布日期" if publicity.closes_on is None else "公示期"
    return f"{label}：{window_dates(publicity)}"


def closed_text(publicity: Publicity, today: datetime.date | None = None) -> str:
    """Why no objection is taken now ("" while the window is open)."""
    today = today or timezone.localdate()
    if publicity.accepts_objections(today):
        return ""
    if publicity.kind != PublicityKind.SHORTLIST or publicity.closes_on is None:
        return "本公告不设异议期，不受理异议。"
    if today < publicity.opens_on:
        return f"公示期自{chinese_date(publicity.opens_on)}开始，届时可在本页提出异议。"
    return f"公示期已于{chinese_date(publicity.closes_on)}结束，不再受理异议。"


def listed_proposal_ids(publicity: Publicity) -> set[int]:
    return {int(r["proposal"]) for r in publicity.rows or [] if r.get("proposal") is not None}


def _clean_contact(value: str) -> str:
    raw = (value or "").strip()
    mobile = normalise_mobile(raw)
    if MOBILE_RE.match(mobile):
        return mobile
    if "@" in raw:
        try:
            validate_email(raw)
        except ValidationError:
            pass
        else:
            return raw.lower()
    raise ValidationError(
        {"contact": "请填写有效的联系方式：11位中国大陆手机号码（如 13800138000）或电子邮箱（如 name@example.com）。"}
    )


def _keys(publicity: Publicity, client: str) -> tuple[str, str]:
    base = f"grants:objections:{publicity.pk}:{client}"
    return f"{base}:n", f"{base}:since"


def _count_filing(publicity: Publicity, client: str) -> None:
    """Count one filing of `client` on this 公示; TooManyObjections (saying when to try
    again) once the hourly allowance is used."""
    count_key, since_key = _keys(publicity, client)
    now = timezone.now()
    cache.add(since_key, now.timestamp(), timeout=THROTTLE_SECONDS)
    cache.add(count_key, 0, timeout=THROTTLE_SECONDS)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(since_key, now.timestamp(), timeout=THROTTLE_SECONDS)
        cache.set(count_key, 1, timeout=THROTTLE_SECONDS)
        count = 1
    if count <= client_limit():
        return
    since = cache.get(since_key) or now.timestamp()
    again = timezone.localtime(datetime.datetime.fromtimestamp(since, tz=datetime.UTC)) + datetime.timedelta(
        seconds=THROTTLE_SECONDS
    )
    when = (
        f"{again:%H:%M}"
        if timezone.localdate(again) == timezone.localdate()
        else f"{chinese_date(again)} {again:%H:%M}"
    )
    raise TooManyObjections(
        f"提交过于频繁：同一网络每小时对同一公示最多提出{client_limit()}件异议。请于 {when} 之后再提交；"
        "您填写的内容仍保留在下方（附件需重新选择）。"
    )


def file_objection(
    *,
    publicity: Publicity,
    name: str,
    contact: str,
    reason: str,
    proposal=None,
    evidence=None,
    client: str,
) -> Objection:
    """Record an objection (待处理) to `publicity`. `proposal` (a Proposal or its id) must be
    on the published list; `evidence` an uploaded PDF/JPG/PNG of at most 10 MB; `client`
    the hash of the filer's address (`client_hash`). Refused with a ValidationError (by
    field where there is one) when the window is not open or the input is wrong, and with
    TooManyObjections past the hourly allowance; nothing is saved then."""
    today = timezone.localdate()
    if not publicity.accepts_objections(today):
        raise ValidationError(closed_text(publicity, today))
    errors: dict[str, list] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["请填写您的姓名。"]
    elif len(name) > 30:
        errors["name"] = ["姓名不能超过30个字。"]
    try:
        contact = _clean_contact(contact)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    reason = re.sub(r"\r\n?", "\n", (reason or "")).strip()
    if len(reason) < REASON_MIN:
        errors["reason"] = [f"请写明异议的事实和理由，至少{REASON_MIN}个字（现在是{len(reason)}个字）。"]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [
            f"异议内容不能超过{REASON_MAX}个字（现在是{len(reason)}个字），请精简，详细材料可作为附件上传。"
        ]
    target = None
    if proposal not in (None, ""):
        pid = getattr(proposal, "pk", proposal)
        try:
            pid = int(pid)
        except (TypeError, ValueError):
            pid = None
        if pid is None or pid not in listed_proposal_ids(publicity):
            errors["proposal"] = ["所选项目不在本次公示名单中，请重新选择。"]
        else:
            target = proposal if isinstance(proposal, Proposal) else Proposal.objects.filter(pk=pid).first()
            if target is None:
                errors["proposal"] = ["所选项目不在本次公示名单中，请重新选择。"]
    if evidence:
        try:
            validate_upload(evidence, kinds=DOCUMENT_KINDS, max_bytes=EVIDENCE_MAX_BYTES)
        except ValidationError as exc:
            errors["evidence"] = exc.messages
    if errors:
        raise ValidationError(errors)
    _count_filing(publicity, client)
    objection = Objection(
        publicity=publicity,
        proposal=target,
        name=name,
        contact=contact,
        reason=reason,
        client_hash=client or "",
    )
    with atomic_with_files() as files:
        if evidence:
            files.watch(objection, "evidence")
            objection.evidence = evidence
            objection.evidence_name = safe_filename(evidence.name)[:200]
        objection.save()
        log_created(objection, by=None, label="提交异议")
    return objection


# ---- staff: how each objection was handled -----------------------------------------------------


def _handle(objection: Objection, name: str, *, by, reason: str) -> Objection:
    reason = (reason or "").strip()
    transition(
        objection,
        name,
        by=by,
        denied=HANDLE_DENIED,
        reason=reason,
        record={"handling": reason, "handled_by": by, "handled_at": timezone.now()},
    )
    return objection


@action_service(Objection, "uphold")
def objection_uphold(*, objection: Objection, by, reason: str = "") -> Objection:
    """异议成立, with how it was checked (required): at approval the project it concerns is
    not funded (grants.services.award)."""
    return _handle(objection, "uphold", by=by, reason=reason)


@action_service(Objection, "dismiss")
def objection_dismiss(*, objection: Objection, by, reason: str = "") -> Objection:
    """异议不成立, with how it was checked (required)."""
    return _handle(objection, "dismiss", by=by, reason=reason)
