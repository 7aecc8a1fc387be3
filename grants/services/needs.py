"""需求征集 (民呼我应): residents, committees and grid workers submit needs, anonymously if
they like; staff in the need's region accept them (tagged with one of a call's categories),
merge duplicates into an accepted need, or reject them with a reason.

Submissions are limited per client address (NEEDS_SUBMIT_IP_LIMIT an hour, a cache counter
shared by every worker when the cache is Redis). Nobody outside the system is told
anything (a resident without an account left only a phone, which staff call if needed);
a submitter with an account gets a notice of the outcome."""

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.selectors import has_scoped_perm, region_in_scope
from core.errors import UserError
from core.workflow import Notice, action_service, log_created, transition

from ..models import MODERATE_PERMISSION, CallStatus, Need, NeedStatus

DEFAULT_IP_LIMIT = 5
THROTTLE_SECONDS = 3600
MODERATE_DENIED = "您无权审核该需求：需要社区需求审核权限，且需求须在您负责的区域内。"


def ip_limit() -> int:
    return int(getattr(settings, "NEEDS_SUBMIT_IP_LIMIT", DEFAULT_IP_LIMIT))


def throttle_message() -> str:
    return (
        f"提交过于频繁：同一网络每小时最多提交{ip_limit()}条需求，请一小时后再提交。"
        "您填写的内容仍保留在下方，无需重新填写。"
    )


class TooManyNeeds(UserError):
    """The address used its hourly allowance; nothing was saved."""


def _count_submission(ip: str) -> bool:
    """Count one submission from `ip`; False once the hourly allowance is used."""
    key = f"grants:needs:{ip}"
    cache.add(key, 0, timeout=THROTTLE_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=THROTTLE_SECONDS)
        count = 1
    return count <= ip_limit()


def need_submit(
    *,
    region,
    title: str,
    description: str,
    affected: str,
    people_count: int,
    submitter_kind: str,
    submitter_name: str,
    phone: str,
    place: str = "",
    call=None,
    by=None,
    ip: str | None = None,
) -> Need:
    """Record a need (待审核). Anyone may submit: `by` is the account if logged in.
    Refused with ValidationError by field (a region that is not a community, a call not
    collecting needs or not covering the community, a bad phone) and TooManyNeeds when
    `ip` has submitted NEEDS_SUBMIT_IP_LIMIT needs in the last hour; nothing is saved."""
    need = Need(
        region=region,
        title=(title or "").strip(),
        description=(description or "").strip(),
        affected=(affected or "").strip(),
        people_count=people_count,
        place=(place or "").strip(),
        submitter_kind=submitter_kind,
        submitter_name=(submitter_name or "").strip(),
        phone=phone,
        submitted_by=by if getattr(by, "is_authenticated", False) else None,
        submitted_ip=ip or None,
    )
    need.full_clean(exclude=["call", "category", "merged_into"])
    if call is not None:
        if call.status != CallStatus.NEEDS:
            raise ValidationError({"call": f"“{call}”当前不在需求征集期（{call.get_status_display()}）。"})
        if not call.region.contains(region):
            raise ValidationError({"region": f"所选社区不在“{call}”的征集区域（{call.region.name}）内。"})
        need.call = call
    if ip and not _count_submission(ip):
        raise TooManyNeeds(throttle_message())
    with transaction.atomic():
        need.save()
        log_created(need, by=need.submitted_by, label="提交需求")
    return need


# ---- moderation --------------------------------------------------------------------------------------


def can_moderate(user, need: Need) -> bool:
    return has_scoped_perm(user, MODERATE_PERMISSION, need.region)


def _require_moderator(user, need: Need) -> None:
    if not can_moderate(user, need):
        raise PermissionDenied(MODERATE_DENIED)


def _submitter_notice(need: Need, title: str, body: str, url="") -> list[Notice]:
    return [Notice([need.submitted_by], title, body, url)] if need.submitted_by_id else []


@action_service(Need, "accept")
def need_accept(*, need: Need, by, category, call=None, reason: str = "") -> Need:
    """Accept and publish a need, tagged with `category` (one of `call`'s categories when
    a call is given). The call must be open or collecting (not yet closed), lie in the
    moderator's scope and contain the need's community. Raises PermissionDenied outside
    the moderator's region, ValidationError by field, WorkflowError if already handled."""
    _require_moderator(by, need)
    if category is None:
        raise ValidationError({"category": "请选择服务领域。"})
    if call is not None:
        if call.status not in (CallStatus.DRAFT, CallStatus.NEEDS, CallStatus.OPEN):
            raise ValidationError({"call": f"“{call}”已截止申报（{call.get_status_display()}），不能再归入需求。"})
        if not region_in_scope(by, call.region):
            raise ValidationError({"call": f"“{call}”不在您负责的区域内。"})
        if not call.region.contains(need.region):
            raise ValidationError({"call": f"需求所在的{need.region.name}不在“{call}”的征集区域内。"})
        if not call.categories.filter(pk=category.pk).exists():
            raise ValidationError({"category": f"服务领域“{category.name}”不在“{call}”的服务领域内。"})
    transition(
        need,
        "accept",
        by=by,
        denied=MODERATE_DENIED,
        reason=reason,
        record={
            "category": category,
            "call": call,
            "status_reason": (reason or "").strip(),
            "moderated_at": timezone.now(),
        },
        notify=lambda: _submitter_notice(
            need, f"您提交的需求已采纳：{need.title}", "需求已在网站公开（不含您的联系电话）。", need
        ),
    )
    return need


@action_service(Need, "merge")
def need_merge(*, need: Need, by, into: Need) -> Need:
    """Merge a duplicate into an accepted need in the moderator's scope: the duplicate
    takes the accepted one's call and category, and its supporters are added to it."""
    _require_moderator(by, need)
    if into is None:
        raise ValidationError({"into": "请选择要合并到的需求。"})
    if into.pk == need.pk:
        raise ValidationError({"into": "不能合并到需求本身。"})
    if into.status != NeedStatus.ACCEPTED:
        raise ValidationError({"into": f"只能合并到已采纳的需求，“{into}”当前为{into.get_status_display()}。"})
    if not can_moderate(by, into):
        raise ValidationError({"into": f"“{into}”不在您负责的区域内。"})
    with transaction.atomic():
        transition(
            need,
            "merge",
            by=by,
            denied=MODERATE_DENIED,
            reason=f"与“{into.title}”重复，已合并（需求编号{into.pk}）",
            record={
                "merged_into": into,
                "call": into.call,
                "category": into.category,
                "status_reason": f"与已采纳的需求“{into.title}”重复，已合并。",
                "moderated_at": timezone.now(),
            },
            notify=lambda: _submitter_notice(
                need,
                f"您提交的需求已合并：{need.title}",
                f"同一社区已有相同的需求“{into.title}”，您的需求已合并到该需求并计入同类需求数。",
                into,
            ),
        )
        Need.objects.filter(pk=into.pk).update(supporters=F("supporters") + need.supporters)
    into.refresh_from_db(fields=["supporters"])
    return need


@action_service(Need, "reject")
def need_reject(*, need: Need, by, reason: str = "") -> Need:
    """Not accepted, with the reason (required; a submitter with an account reads it)."""
    _require_moderator(by, need)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写不采纳的理由。"})
    transition(
        need,
        "reject",
        by=by,
        denied=MODERATE_DENIED,
        reason=reason,
        record={"status_reason": reason, "moderated_at": timezone.now()},
        notify=lambda: _submitter_notice(need, f"您提交的需求未被采纳：{need.title}", f"理由：{reason}"),
    )
    return need
