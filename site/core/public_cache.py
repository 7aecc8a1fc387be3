"""The public page cache: whole responses of the public site, served to anonymous visitors
without touching the database, and dropped the moment anything they show changes.

`PublicCacheMiddleware` (after CsrfViewMiddleware, before AuthenticationMiddleware):

- Which requests: GET or HEAD, on a path outside `PUBLIC_CACHE_SKIP_PATHS` (the admin, the
  applicant's /me/, accounts, language switch, documents, media, static), from a visitor
  with no session cookie and no pending messages. Everyone who is logged in has a session,
  and so does a visitor just told something (an objection's receipt number): they get the
  page rendered for them, and what they get is never stored.
- What is stored (GET only): a 200, not streamed, at most `MAX_BYTES`, that sets no cookie,
  is not Cache-Control private/no-cache/no-store/max-age=0, varies on nothing but
  language or encoding, and left the session untouched. Kept `PUBLIC_CACHE_SECONDS`.
- The key: the site's content version, the language, today's date (an objection window,
  a deadline or "open calls" changes at midnight with nothing saved) and the absolute URL
  with its query.
- CSRF: a page with a form carries a token derived from the visitor's own CSRF cookie;
  another visitor posting it would be refused. Before a page is stored, every token in it
  that unmasks to the rendering visitor's secret is replaced by a placeholder, and each
  visitor served from the cache gets a fresh token of their own in its place (and, through
  CsrfViewMiddleware, the cookie that goes with it) — exactly what an uncached page gives.
  A page using the token in a way that cannot be found is not stored.
- `X-Public-Cache: hit | miss` (or `bypass` for a visitor with a session) on public paths.

Invalidation: one content version for the whole public site, kept in the cache beside
the pages. Any save or delete of a model in `PUBLIC_CACHE_MODELS` (app labels or
"app.Model", minus `PUBLIC_CACHE_IGNORE`), a change of one of their many-to-many links, and
Wagtail's publish, unpublish and move signals give it a new value, at once and again when
the transaction commits (a page rendered from the old rows meanwhile was stored under the
version it started with, which is no longer current). A stored page remembers its version
and is served only while it is current, so the page and the version are read in one
round trip. Work that writes rows in bulk (no signals) calls `changed()` itself.

The content stamp: the same changes also count up one row in the database
(core.models.ContentStamp) when they commit, whether the page cache is on or off. What a
public page computes from many rows and that does not depend on the request (the project
list's filter choices, for one) is kept in each process by `remembered(name, compute)`
under the stamp and the date, for one query (the stamp) instead of many: a change
committed in any process makes every process compute it again. Nothing is remembered
inside a transaction (it may read rows not committed, and be rolled back).

core knows no domain app: the models are named in settings (config knows every app) and
matched by label on the signal's sender. `connect()` is called by core's AppConfig.ready,
so every process (web, task worker, management commands) invalidates."""

import hashlib
import logging
import re
import time
from functools import cache

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.crypto import get_random_string

logger = logging.getLogger(__name__)

VERSION_KEY = "public-cache:version"
HEADER = "X-Public-Cache"
MAX_BYTES = 4 * 1024 * 1024
SKIP_PATHS = ("/admin/", "/me/", "/accounts/", "/i18n/", "/documents/", "/media/", "/static/")
TOKEN_SLOT = b"\x00public-cache-csrf-token\x00"
# a masked CSRF token: 64 letters and digits standing alone
TOKEN_PATTERN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
UNCACHEABLE = re.compile(r"\b(private|no-cache|no-store|max-age=0)\b", re.IGNORECASE)
HARMLESS_VARY = {"accept-language", "accept-encoding"}
DROPPED_HEADERS = {"set-cookie", "content-length", HEADER.lower()}


def seconds() -> int:
    return int(getattr(settings, "PUBLIC_CACHE_SECONDS", 0) or 0)


def _cache():
    return caches[getattr(settings, "PUBLIC_CACHE_ALIAS", "default")]


# ---- the version --------------------------------------------------------------------------------


def _new_version() -> str:
    return f"{time.time_ns():x}{get_random_string(6)}"


def current_version() -> str:
    """The content version now, made when there is none (a cache emptied or restarted)."""
    cache = _cache()
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _new_version(), None)
        version = cache.get(VERSION_KEY)
    return version


def _bump() -> None:
    try:
        _cache().set(VERSION_KEY, _new_version(), None)
    except Exception:  # a cache that is down must not stop a save; its pages go stale
        logger.exception("public cache: the content version could not be changed")


def changed(using: str | None = None) -> None:
    """Every cached public page is out of date: a new version now (page cache on) and,
    inside a transaction, once more when it commits, when the content stamp counts up too
    (one callback per transaction)."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        _committed()
        return
    if seconds():
        _bump()
    if not any(entry[1] is _committed for entry in connection.run_on_commit):
        transaction.on_commit(_committed, using=using)


_migrating = False  # migrate saves pages before the stamp's table exists: nothing is remembered then


def _committed() -> None:
    if seconds():
        _bump()
    if _migrating:
        return
    from .models import ContentStamp

    try:
        now = timezone.now()
        if not ContentStamp.objects.filter(pk=1).update(counter=F("counter") + 1, changed_at=now):
            ContentStamp.objects.get_or_create(pk=1, defaults={"counter": 1, "changed_at": now})
    except DatabaseError:  # not migrated yet (a data migration saving pages): nothing was remembered
        logger.warning("public cache: the content stamp could not be counted up", exc_info=True)


# ---- what public pages compute, remembered under the content stamp ------------------------------

_remembered: dict[str, tuple[tuple, object]] = {}


def stamp() -> tuple:
    """The content stamp now (one query): how many changes have committed, and when the
    last did (a database emptied and filled again does not count the same way twice), as
    the database driver returns them (compared, never computed with)."""
    from .models import ContentStamp

    q = connection.ops.quote_name
    with connection.cursor() as cursor:  # plain SQL: the ORM took longer to build it than to run it
        cursor.execute(
            f"SELECT {q('counter')}, {q('changed_at')} FROM {q(ContentStamp._meta.db_table)} WHERE {q('id')} = 1"
        )
        return cursor.fetchone() or (0, None)


def remembered(name: str, compute):
    """`compute()`, kept in this process until the public content changes or the date
    does; computed afresh inside a transaction. Callers must not change what it returns."""
    if transaction.get_connection().in_atomic_block:
        return compute()
    key = (*stamp(), timezone.localdate())
    found = _remembered.get(name)
    if found is not None and found[0] == key:
        return found[1]
    value = compute()
    _remembered[name] = (key, value)
    return value


def forget() -> None:
    """Drop what this process remembered (tests)."""
    _remembered.clear()


@cache
def _watched(label: str, app_label: str, watch: tuple, ignore: tuple) -> bool:
    return (label in watch or app_label in watch) and label not in ignore


def watched(model) -> bool:
    """Whether saving or deleting a `model` row may change a public page."""
    meta = getattr(model, "_meta", None)
    if meta is None:
        return False
    return _watched(
        meta.label,
        meta.app_label,
        tuple(getattr(settings, "PUBLIC_CACHE_MODELS", ())),
        tuple(getattr(settings, "PUBLIC_CACHE_IGNORE", ())),
    )


def _row_changed(sender, raw=False, using=None, **kwargs):
    if not raw and watched(sender):
        changed(using)


def _links_changed(sender, action, using=None, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and watched(sender):
        changed(using)


def _page_changed(sender, **kwargs):
    changed()


def _migration_starts(sender, **kwargs):
    global _migrating
    _migrating = True


def _migration_ends(sender, **kwargs):
    global _migrating
    _migrating = False


def connect() -> None:
    """Listen for changes of the public models (core's AppConfig.ready)."""
    from django.db.models.signals import post_migrate, pre_migrate
    from wagtail.signals import page_published, page_unpublished, post_page_move

    pre_migrate.connect(_migration_starts, dispatch_uid="core.public_cache.migration_starts")
    post_migrate.connect(_migration_ends, dispatch_uid="core.public_cache.migration_ends")

    post_save.connect(_row_changed, dispatch_uid="core.public_cache.save")
    post_delete.connect(_row_changed, dispatch_uid="core.public_cache.delete")
    m2m_changed.connect(_links_changed, dispatch_uid="core.public_cache.links")
    for name, signal in (("published", page_published), ("unpublished", page_unpublished), ("moved", post_page_move)):
        signal.connect(_page_changed, dispatch_uid=f"core.public_cache.page_{name}")


# ---- requests -----------------------------------------------------------------------------------


def _skip_paths() -> tuple:
    return tuple(getattr(settings, "PUBLIC_CACHE_SKIP_PATHS", SKIP_PATHS))


def public_request(request) -> bool:
    """A GET or HEAD of a public path (whoever asks)."""
    return request.method in ("GET", "HEAD") and not request.path.startswith(_skip_paths())


def anonymous(request) -> bool:
    """No session (nobody logged in, nothing kept for this visitor) and no messages waiting."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def page_key(request) -> str:
    url = request.build_absolute_uri().encode()
    language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    return f"public-cache:page:{language}:{timezone.localdate():%Y%m%d}:{hashlib.sha256(url).hexdigest()}"


def _storable(request, response) -> bool:
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if response.cookies or UNCACHEABLE.search(response.get("Cache-Control", "")):
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    if vary - HARMLESS_VARY:
        return False
    session = getattr(request, "session", None)
    return not (session is not None and session.modified) and len(response.content) <= MAX_BYTES


def _token_slots(request, content: bytes) -> bytes | None:
    """`content` with the visitor's CSRF tokens replaced by the slot; None when the page
    used a token that is not found in it as a token."""
    if not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return content  # no token was asked for: nothing of the visitor's is in the page
    secret = request.META.get("CSRF_COOKIE")
    try:
        from django.middleware.csrf import _unmask_cipher_token
    except ImportError:  # pragma: no cover - a Django without it: pages with a form are not stored
        return None
    found = False

    def slot(match):
        nonlocal found
        if _unmask_cipher_token(match.group().decode()) == secret:
            found = True
            return TOKEN_SLOT
        return match.group()

    content = TOKEN_PATTERN.sub(slot, content)
    return content if found else None


def _store(request, response, key: str, version: str) -> None:
    content = _token_slots(request, response.content)
    if content is None:
        return
    headers = [(k, v) for k, v in response.items() if k.lower() not in DROPPED_HEADERS]
    entry = {"version": version, "status": response.status_code, "headers": headers, "content": content}
    _cache().set(key, entry, seconds())


def _served(request, entry) -> HttpResponse:
    content = entry["content"]
    if TOKEN_SLOT in content:
        content = content.replace(TOKEN_SLOT, get_token(request).encode())
    response = HttpResponse(content, status=entry["status"])
    for name, value in entry["headers"]:
        response[name] = value
    response[HEADER] = "hit"
    return response


class PublicCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not seconds() or not public_request(request):
            return self.get_response(request)
        if not anonymous(request):
            response = self.get_response(request)
            response[HEADER] = "bypass"
            return response
        key = page_key(request)
        try:
            found = _cache().get_many([VERSION_KEY, key])
            version = found.get(VERSION_KEY) or current_version()
        except Exception:
            logger.exception("public cache: unreadable, serving uncached")
            return self.get_response(request)
        entry = found.get(key)
        if entry is not None and entry.get("version") == version:
            return _served(request, entry)
        response = self.get_response(request)
        if _storable(request, response):
            try:
                _store(request, response, key, version)
            except Exception:
                logger.exception("public cache: could not store %s", request.path)
        response[HEADER] = "miss"
        return response
