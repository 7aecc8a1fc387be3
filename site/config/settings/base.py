"""Settings shared by every environment. Safe defaults; production.py tightens them."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

ROOT_DIR = Path(__file__).resolve().parents[3]
SITE_DIR = ROOT_DIR / "site"
VAR_DIR = Path(os.environ.get("VAR_DIR", ROOT_DIR / "var"))

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    # this project
    "accounts",
    "core",
    "cms",
    "orgs",
    "incubator",
    "grants",
    "portal",  # /me/ and seed_demo: composed of every app above, so last
    # wagtail
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.redirects",
    "wagtail.sites",
    "accounts.apps.UsersAdminConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # lifecycles, tasks, security
    "django_fsm_log",
    "django_tasks",
    "django_tasks_db",
    "axes",
    # django
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",  # the sitemap.xml template (cms/sitemaps.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.public_cache.PublicCacheMiddleware",  # inside CSRF (fresh tokens), before auth (no query on a hit)
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # axes last: it turns a lockout raised by the backend into a Chinese response
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.site_chrome",
            ],
        },
    },
]

# Database: DATABASE_URL, defaulting to a SQLite file for development.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UsernameOrMobileBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "/"

# Repeated failed log-ins lock the ACCOUNT for an hour, from any address and whatever
# spelling of the username or mobile was typed (django-axes; accounts.throttle says which
# account a typed name stands for). One address may also fail only LOGIN_IP_FAILURE_LIMIT
# times an hour across all accounts.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "accounts.throttle.account_key"
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.lockout_response"
# a refused attempt (account or address locked) checks no password, so it is not counted
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_IP_FAILURE_LIMIT = int(os.environ.get("LOGIN_IP_FAILURE_LIMIT", "30"))
# sign-up attempts per address per hour
SIGNUP_IP_LIMIT = int(os.environ.get("SIGNUP_IP_LIMIT", "20"))
# Community needs (民呼我应) one address may submit per hour.
NEEDS_SUBMIT_IP_LIMIT = int(os.environ.get("NEEDS_SUBMIT_IP_LIMIT", "5"))
# Addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For is believed. Empty:
# the direct peer is the client (runserver). production.py trusts the local nginx.
TRUSTED_PROXIES = [p for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]
# axes would like the address in its lock too; the address limit is our own (above), with
# its own, higher figure, so one office behind one address does not share one account's five tries
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [SITE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [SITE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Private uploads (organisation documents, IDs, bank proofs) live outside any URL and
# are served only through views that check permission.
PRIVATE_MEDIA_ROOT = VAR_DIR / "private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "core.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Upload limits (bytes). Forms enforce them with a Chinese message.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The public page cache (core.public_cache): seconds an anonymous visitor's page is kept (0: off;
# on only where every process shares the cache, e.g. Redis), and the models whose every change
# drops all cached pages (app labels or app.Model; IGNORE: private rows written often)
PUBLIC_CACHE_SECONDS = int(os.environ.get("PUBLIC_CACHE_SECONDS", "0"))
PUBLIC_CACHE_MODELS = [
    *("grants", "orgs", "incubator", "cms", "accounts.Region", "taggit"),
    *("wagtailcore.Page", "wagtailcore.Site", "wagtailcore.PageViewRestriction", "wagtailredirects.Redirect"),
    *("wagtailimages.Image", "wagtaildocs.Document"),
]
PUBLIC_CACHE_IGNORE = [
    *("grants.Assignment", "grants.PanelDraw", "grants.ProposalVersion", "grants.ProposalAttachment"),
    *("orgs.Invitation", "orgs.OrganisationDocument"),
]
# sessions read from the cache, written through to the database (as in production): a
# signed-in page does not pay a session query on every request
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Background jobs (core.jobs): a running job with no progress for this long lost its worker;
# jobs and their files are deleted after JOBS_KEEP_DAYS (manage.py prune_jobs, run daily).
JOBS_STALE_MINUTES = 30
JOBS_KEEP_DAYS = 30

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "公益创投管理平台 <noreply@example.org>")
# Text messages (verification codes): a class with send_messages(), see accounts/sms.py
SMS_BACKEND = os.environ.get("SMS_BACKEND", "accounts.sms.ConsoleBackend")

# Wagtail
WAGTAIL_SITE_NAME = "公益创投管理平台"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
WAGTAIL_CONTENT_LANGUAGES = [("zh-hans", "简体中文")]
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False

# PDF documents: the CJK font family that WeasyPrint must use (fonts-noto-cjk).
PDF_FONT_FAMILY = "Noto Sans CJK SC"
PDF_SERIF_FONT_FAMILY = "Noto Serif CJK SC"
PLATFORM_NAME = _("公益创投管理平台")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no outside requests: initials avatar
# the admin's log-in takes the mobile too, worded in Chinese (accounts.forms)
WAGTAILADMIN_USER_LOGIN_FORM = "accounts.forms.AdminLoginForm"
# one time zone: the account page would otherwise list some 600 English zone names
WAGTAIL_USER_TIME_ZONES = ["Asia/Shanghai"]

# 360Giving open data (grants/opendata.py): the publisher's registered prefix; "360G-gongyi" until
# the operator registers one with 360Giving
OPENDATA_360G_PREFIX = os.environ.get("OPENDATA_360G_PREFIX", "360G-gongyi")
