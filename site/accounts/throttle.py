"""Who is asking, and how often: the client address behind the trusted proxy, the account a
typed log-in name stands for, and the per-address limits on log-in failures and sign-ups.

django-axes counts failures per account (`account_key` is its AXES_USERNAME_CALLABLE), so
"zhangsan", "13800138000", "+86 138-0013-8000" and "0086138 0013 8000" are one counter.
On top of that one address may fail `LOGIN_IP_FAILURE_LIMIT` times across all accounts
(read from axes' own table, so every worker process sees the same figure)."""

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone

from .validators import MOBILE_RE, normalise_mobile


def _networks(values):
    nets = []
    for value in values:
        try:
            nets.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            continue
    return nets


def _parse_ip(value: str):
    try:
        return ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None


def _is_trusted(ip, nets) -> bool:
    return ip is not None and any(ip.version == net.version and ip in net for net in nets)


def client_ip(request) -> str:
    """The address of the person, not of our proxy.

    X-Forwarded-For is read only when the direct peer is one of settings.TRUSTED_PROXIES;
    then the right-most hop that is not itself a trusted proxy is the client (entries to
    its left were written by the client and prove nothing)."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = _networks(getattr(settings, "TRUSTED_PROXIES", []))
    if not trusted or not _is_trusted(_parse_ip(remote), trusted):
        return remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _parse_ip(hop)
        if ip is None:
            break  # garbage from a proxy we trust: do not guess further left
        if not _is_trusted(ip, trusted):
            return str(ip)
    return remote


def resolve_user(identifier: str):
    """The account a typed log-in name stands for: the username as typed, else the
    mobile number in any spelling. The log-in backend and the lock use this one rule."""
    from .models import User

    identifier = (identifier or "").strip()
    if not identifier:
        return None
    user = User.objects.filter(username=identifier).first()
    if user is None:
        mobile = normalise_mobile(identifier)
        if MOBILE_RE.match(mobile):
            user = User.objects.filter(mobile=mobile).first()
    return user


def normalised_identifier(identifier: str) -> str:
    identifier = (identifier or "").strip()
    mobile = normalise_mobile(identifier)
    return mobile if MOBILE_RE.match(mobile) else identifier


def account_key(request, credentials) -> str | None:
    """What axes counts failures under: the account's username, or for a name that is no
    account, its normalised form (so spellings of an unknown mobile also share a counter)."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    if credentials:
        typed = credentials.get(field) or credentials.get("username")
    else:
        typed = request.POST.get(field) if request is not None else None
    if not typed:
        return None
    cache_ = getattr(request, "_account_keys", None) if request is not None else None
    if cache_ is None:
        cache_ = {}
        if request is not None:
            request._account_keys = cache_
    if typed not in cache_:
        user = resolve_user(typed)
        cache_[typed] = user.get_username() if user else normalised_identifier(typed)
    return cache_[typed]


# ---- per-address log-in throttle ----


def _cooloff() -> timedelta:
    hours = settings.AXES_COOLOFF_TIME
    return hours if isinstance(hours, timedelta) else timedelta(hours=hours or 1)


def ip_failures(ip: str) -> int:
    from axes.models import AccessAttempt

    since = timezone.now() - _cooloff()
    total = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return total or 0


def ip_login_blocked(request) -> bool:
    return ip_failures(client_ip(request)) >= settings.LOGIN_IP_FAILURE_LIMIT


def lockout_response(request, original_response=None, credentials=None):
    """The page shown by axes (account locked) and by the address throttle."""
    by_ip = getattr(request, "lockout_reason", "") == "ip"
    context = {
        "by_ip": by_ip,
        "failure_limit": settings.LOGIN_IP_FAILURE_LIMIT if by_ip else settings.AXES_FAILURE_LIMIT,
        "cooloff_hours": int(_cooloff().total_seconds() // 3600) or 1,
    }
    return render(request, "accounts/lockout.html", context, status=429)


# ---- per-address sign-up throttle (cache: Redis in production when REDIS_URL is set) ----


def signup_allowed(request) -> bool:
    """Count one sign-up attempt from this address; False once the hourly limit is used."""
    key = f"accounts:signup:{client_ip(request)}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= settings.SIGNUP_IP_LIMIT
