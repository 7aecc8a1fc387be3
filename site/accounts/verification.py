"""Proving that a person holds a mobile number or an e-mail address.

`code_send` sends a 6-digit one-time code to the number (through accounts.sms) or the
address (through Django's e-mail backend); `code_check` accepts it back. A code proves one
`scope` (a string the caller chooses, e.g. "orgs.invitation:12") for one destination, so a
code sent for one thing never proves another. Codes are stored as a keyed hash, expire
after 10 minutes, die after 5 wrong tries, and resends are rate-limited per scope and per
destination. This module knows no domain app: callers pass the scope and the wording."""

import datetime
import secrets

from django import forms
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from core.errors import UserError

from .models import VerificationCode
from .sms import send_sms
from .validators import normalise_mobile

CODE_DIGITS = 6
CODE_TTL = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_INTERVAL = datetime.timedelta(seconds=60)
SENDS_PER_HOUR_PER_SCOPE = 5
SENDS_PER_HOUR_PER_DESTINATION = 10


class VerificationError(UserError):
    """A code was refused or cannot be sent now; the message says what to do."""


def normalise_destination(destination: str) -> str:
    destination = (destination or "").strip()
    return destination.lower() if "@" in destination else normalise_mobile(destination)


def is_email(destination: str) -> bool:
    return "@" in destination


def mask(destination: str) -> str:
    """139****6666, z***@example.org: enough for the owner to recognise, not to copy."""
    if is_email(destination):
        local, _, domain = destination.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{destination[:3]}****{destination[-4:]}" if len(destination) >= 7 else destination


def _digest(scope: str, destination: str, code: str) -> str:
    # keyed by SECRET_KEY and bound to scope and destination: a copied hash proves nothing elsewhere
    return salted_hmac("accounts.verification", f"{scope}\n{destination}\n{code}", algorithm="sha256").hexdigest()


def latest_code(*, scope: str, destination: str) -> VerificationCode | None:
    destination = normalise_destination(destination)
    return VerificationCode.objects.filter(scope=scope, destination=destination).order_by("-created_at", "-pk").first()


def resend_wait_seconds(*, scope: str, destination: str) -> int:
    """Seconds before another code may be sent for this scope (0: now)."""
    last = latest_code(scope=scope, destination=destination)
    if last is None:
        return 0
    wait = (last.created_at + RESEND_INTERVAL - timezone.now()).total_seconds()
    return max(0, int(wait + 0.999))


def has_live_code(*, scope: str, destination: str) -> bool:
    """Whether a code sent for this scope may still be typed in (not used, expired or dead)."""
    row = latest_code(scope=scope, destination=destination)
    return bool(row and row.used_at is None and row.attempts < MAX_ATTEMPTS and row.expires_at > timezone.now())


def code_send(*, scope: str, destination: str, message: str, subject: str = "验证码") -> VerificationCode:
    """Send a new code to `destination`; earlier codes for the same scope stop counting.

    `message` is the text sent, with `{code}` and `{minutes}` where they go. The message
    leaves at once (not on commit): a code for a row that was rolled back proves nothing.
    Raises VerificationError when codes were requested too often."""
    destination = normalise_destination(destination)
    now = timezone.now()
    wait = resend_wait_seconds(scope=scope, destination=destination)
    if wait:
        raise VerificationError(f"验证码刚刚已发送，请{wait}秒后再重新获取。")
    recent = VerificationCode.objects.filter(created_at__gte=now - datetime.timedelta(hours=1))
    if recent.filter(scope=scope, destination=destination).count() >= SENDS_PER_HOUR_PER_SCOPE:
        raise VerificationError("获取验证码的次数过多，请1小时后再试。")
    if recent.filter(destination=destination).count() >= SENDS_PER_HOUR_PER_DESTINATION:
        raise VerificationError("发往该号码（邮箱）的验证码过多，请1小时后再试。")
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    row = VerificationCode.objects.create(
        scope=scope,
        destination=destination,
        code_hash=_digest(scope, destination, code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    body = message.format(code=code, minutes=int(CODE_TTL.total_seconds() // 60))
    if is_email(destination):
        send_mail(subject, body, None, [destination])
    else:
        send_sms(destination, body)
    return row


def code_check(*, scope: str, destination: str, code: str) -> None:
    """Accept `code` as proof for `scope` and `destination`, once. Raises VerificationError
    (no code sent, wrong, expired, used, too many tries).

    Call it outside any transaction that its failure would roll back: a wrong try is
    counted by its own UPDATE, and must stay counted."""
    destination = normalise_destination(destination)
    code = "".join((code or "").split())
    if not (code.isdigit() and len(code) == CODE_DIGITS):
        raise VerificationError(f"请输入收到的{CODE_DIGITS}位数字验证码。")
    row = latest_code(scope=scope, destination=destination)
    if row is None:
        raise VerificationError("请先获取验证码。")
    if row.used_at is not None:
        raise VerificationError("该验证码已经用过，请重新获取验证码。")
    if row.attempts >= MAX_ATTEMPTS:
        raise VerificationError("验证码输错次数过多，已失效。请重新获取验证码。")
    if row.expires_at <= timezone.now():
        raise VerificationError("验证码已过期（10分钟内有效），请重新获取验证码。")
    # take one try before comparing: parallel guesses cannot exceed the limit
    tries = VerificationCode.objects.filter(pk=row.pk, attempts__lt=MAX_ATTEMPTS)
    if not tries.update(attempts=F("attempts") + 1):
        raise VerificationError("验证码输错次数过多，已失效。请重新获取验证码。")
    if not constant_time_compare(row.code_hash, _digest(scope, destination, code)):
        left = MAX_ATTEMPTS - VerificationCode.objects.values_list("attempts", flat=True).get(pk=row.pk)
        if left <= 0:
            raise VerificationError("验证码输错次数过多，已失效。请重新获取验证码。")
        raise VerificationError(f"验证码不正确，还可以再试{left}次。")
    if not VerificationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise VerificationError("该验证码已经用过，请重新获取验证码。")


class CodeForm(forms.Form):
    """The one field of every code entry page (accounts/verify_code.html)."""

    code = forms.CharField(
        label="验证码",
        max_length=12,
        error_messages={"required": f"请输入收到的{CODE_DIGITS}位数字验证码。"},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*", "autofocus": True}
        ),
        help_text=f"{CODE_DIGITS}位数字，{int(CODE_TTL.total_seconds() // 60)}分钟内有效。",
    )
