"""Django settings, read from environment variables (documented in ``.env.example``).

The defaults need no variable at all: an SQLite database and generated keys under ``var/``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from sitecare.lib.env import env_bool, env_float, env_int, env_list, env_networks, env_str
from sitecare.lib.filemodes import private_directory, write_private_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SITECARE_VAR_DIR", str(BASE_DIR / "var")))
# 0700: it holds the keys and the database (`sitecare setup` and `run` tighten older ones).
private_directory(VAR_DIR)


def _generated_secret(name: str) -> str:
    """Read a secret kept under var/, creating it on first use (0600 from the start, and
    never seen half-written: ``write_private_file`` publishes it whole)."""
    path = VAR_DIR / name
    if not path.exists():
        # Another process starting at the same moment may have made it: then use that one.
        with contextlib.suppress(FileExistsError):
            write_private_file(path, secrets.token_urlsafe(48))
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        # An empty key would be used as a key (encryption under a known one): stop instead.
        raise ImproperlyConfigured(
            f"{path} is empty. Restore it from your backup; on an install that never stored "
            "anything with it, delete it and sitecare makes a new one."
        )
    return secret


# The two files are filemodes.KEY_FILES (tightened to 0600 by `setup` and `run`).
SECRET_KEY = env_str("SITECARE_SECRET_KEY", "") or _generated_secret("secret_key")
SITECARE_ENCRYPTION_KEY = env_str("SITECARE_ENCRYPTION_KEY", "") or _generated_secret(
    "encryption_key"
)
DEBUG = env_bool("SITECARE_DEBUG", False)
ALLOWED_HOSTS = env_list("SITECARE_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("SITECARE_CSRF_TRUSTED_ORIGINS", [])
SITECARE_BASE_URL = env_str("SITECARE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Reverse proxies whose X-Forwarded-For is believed (sitecare.lib.client_address). By default
# loopback: the documented set-up is a reverse proxy on this machine in front of a server that
# listens on loopback, and no visitor from elsewhere can appear as a loopback peer. Set it
# empty to believe no proxy (the connection's peer is then always the client).
SITECARE_TRUSTED_PROXIES = env_networks("SITECARE_TRUSTED_PROXIES", ["127.0.0.0/8", "::1"])

# django-ninja's templates and static files (the API docs' Swagger UI from our own static
# files, not a CDN: offline, and the Content-Security-Policy admits this origin only), found
# without importing the package: as an installed app it would import itself and pydantic
# at every start of every command (~0.2 s), though only the API needs it.
_ninja_spec = importlib.util.find_spec("ninja")
if _ninja_spec is None or _ninja_spec.origin is None:
    raise ImproperlyConfigured("django-ninja is not installed")
NINJA_DIR = Path(_ninja_spec.origin).parent

INSTALLED_APPS = [
    # Without autodiscovery at start-up: the admin modules import the validators of every
    # check kind (pydantic, dnspython, apprise…), which every command would pay for before
    # doing anything. sitecare.urls discovers them when the URLs are first loaded.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tenancy",
    "sites",
    "monitoring",
    "incidents",
    "sla",
    "jobs",
    "api",
    "front",
    "core",
]

MIDDLEWARE = [
    # First: a status page's custom domain is answered there, with nothing else of sitecare.
    "front.middleware.StatusDomainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Pages without a policy of their own get the strict one (no inline script or style).
    "front.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenancy.middleware.ProfileLanguageMiddleware",
    # Ends sessions that no longer hold (two-factor turned on/off) and sends members to enrol.
    "front.signin_guard.SignInGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sitecare.urls"
WSGI_APPLICATION = "sitecare.wsgi.application"
ASGI_APPLICATION = "sitecare.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = env_str("SITECARE_DATABASE_URL", "")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "sitecare.sqlite3",
            "OPTIONS": {
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    if url.startswith("sqlite:///"):
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": url.removeprefix("sqlite:///"),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    raise ImproperlyConfigured(
        f"SITECARE_DATABASE_URL={url!r}: only sqlite:///path is supported in this release"
    )


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's password sign-in, except that re-hashing a password on sign-in keeps the API
# tokens tied to it (tenancy.passwords).
AUTHENTICATION_BACKENDS = ["tenancy.passwords.PasswordBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # Refuses nothing: Django calls it on every password change, which revokes API tokens.
    {"NAME": "tenancy.passwords.RevokeApiTokensOnChange"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pl", "Polski")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates in each language's own formats (templates name them: DATE_FORMAT, DATETIME_FORMAT…);
# sitecare's English ones in sitecare/formats/en, Polish as Django has it.
FORMAT_MODULE_PATH = ["sitecare.formats"]
TIME_ZONE = env_str("SITECARE_TIME_ZONE", "Europe/Warsaw")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static", NINJA_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing

LOGIN_URL = "front:login"
LOGIN_REDIRECT_URL = "front:dashboard"
LOGOUT_REDIRECT_URL = "front:login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SITECARE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind a reverse proxy that terminates HTTPS and sets X-Forwarded-Proto (replacing what a
# client sent): the requests it forwards over HTTPS count as secure (HSTS is sent on those).
if env_bool("SITECARE_BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTP Strict Transport Security, sent on secure requests only: 0 = off. Browsers then refuse
# plain HTTP to this host for that long, so turn it on once HTTPS works for good.
SECURE_HSTS_SECONDS = env_int("SITECARE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SITECARE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SITECARE_HSTS_PRELOAD", False)

# --- probe engine -------------------------------------------------------------------------
SITECARE_ENGINE_CONCURRENCY = env_int("SITECARE_ENGINE_CONCURRENCY", 200, minimum=1)
SITECARE_ENGINE_MAX_BODY_BYTES = env_int("SITECARE_ENGINE_MAX_BODY_BYTES", 1_048_576, minimum=1024)
SITECARE_ENGINE_MAX_REDIRECTS = env_int("SITECARE_ENGINE_MAX_REDIRECTS", 5, minimum=0)
SITECARE_ENGINE_FLUSH_SECONDS = env_float("SITECARE_ENGINE_FLUSH_SECONDS", 0.5, minimum=0.01)
SITECARE_MIN_INTERVAL_SECONDS = env_int("SITECARE_MIN_INTERVAL_SECONDS", 10, minimum=1)
# How often the probe engine records that it is alive; two beats missed and the time after
# its last beat is unwatched ("unknown" for the SLA). Engine and web server must agree on it.
SITECARE_ENGINE_BEAT_SECONDS = env_float("SITECARE_ENGINE_BEAT_SECONDS", 30.0, minimum=1.0)
# Prometheus /metrics of the probe engine (port 0 = off); loopback unless changed.
SITECARE_ENGINE_METRICS_HOST = env_str("SITECARE_ENGINE_METRICS_HOST", "127.0.0.1")
SITECARE_ENGINE_METRICS_PORT = env_int("SITECARE_ENGINE_METRICS_PORT", 9108, minimum=0)
# Raw check results are kept this long; hourly rollups and state changes are kept forever.
SITECARE_RESULT_RETENTION_DAYS = env_int("SITECARE_RESULT_RETENTION_DAYS", 30, minimum=1)
# Page speed measurements (monitoring.SpeedMeasurement) are kept this long: at least the speed
# page's 90-day trend.
SITECARE_SPEED_RETENTION_DAYS = env_int("SITECARE_SPEED_RETENTION_DAYS", 180, minimum=90)
# Screenshots and traces of browser checks (files; their rows in monitoring.BrowserArtifact).
SITECARE_ARTIFACT_DIR = Path(env_str("SITECARE_ARTIFACT_DIR", str(VAR_DIR / "artifacts")))
# --- browser runner (monitoring.browser) --------------------------------------------------
# Browsers per process (the job runner runs one browser worker process per core); at most this
# many checks of one process use a browser at the same time.
SITECARE_BROWSER_POOL_SIZE = env_int("SITECARE_BROWSER_POOL_SIZE", 1, minimum=1)
# A browser is closed and launched afresh after this many checks.
SITECARE_BROWSER_RECYCLE_CHECKS = env_int("SITECARE_BROWSER_RECYCLE_CHECKS", 50, minimum=1)
# Memory cap of one browser's process tree, in MB (shared pages counted once, as PSS): a check
# pushing it above is stopped (its browser killed); a browser above it after a check is recycled.
SITECARE_BROWSER_MEMORY_MB = env_int("SITECARE_BROWSER_MEMORY_MB", 1024, minimum=128)
# What one browser check's pages may download in all (MB): past it the check stops.
SITECARE_BROWSER_MAX_DOWNLOAD_MB = env_float("SITECARE_BROWSER_MAX_DOWNLOAD_MB", 25.0, minimum=1.0)
# Seconds a check may overrun its timeout before the watchdog kills its browser.
SITECARE_BROWSER_KILL_GRACE_SECONDS = env_float(
    "SITECARE_BROWSER_KILL_GRACE_SECONDS", 2.0, minimum=0.5
)
# Where domain-expiry checks ask for registration data (RDAP bootstrap service).
SITECARE_RDAP_BASE_URL = env_str("SITECARE_RDAP_BASE_URL", "https://rdap.org").rstrip("/")

# --- alert sender -------------------------------------------------------------------------
SITECARE_ALERT_MAX_ATTEMPTS = env_int("SITECARE_ALERT_MAX_ATTEMPTS", 8, minimum=1)
SITECARE_ALERT_BACKOFF_SECONDS = env_float("SITECARE_ALERT_BACKOFF_SECONDS", 15.0, minimum=0.0)
SITECARE_ALERT_POLL_SECONDS = env_float("SITECARE_ALERT_POLL_SECONDS", 1.0, minimum=0.01)
# How often the alert sender works out every client's error budget (sla.alerts).
SITECARE_BUDGET_CHECK_SECONDS = env_float("SITECARE_BUDGET_CHECK_SECONDS", 300.0, minimum=1)
# How often the alert sender works out each client's stored SLA standing again (sla.standings),
# and how old one may be before a page works it out itself (when no sender runs).
SITECARE_STANDINGS_REFRESH_SECONDS = env_float(
    "SITECARE_STANDINGS_REFRESH_SECONDS", 60.0, minimum=1
)
SITECARE_STANDINGS_MAX_AGE_SECONDS = env_float(
    "SITECARE_STANDINGS_MAX_AGE_SECONDS", 600.0, minimum=1
)
SITECARE_ALERT_SEND_TIMEOUT = env_float("SITECARE_ALERT_SEND_TIMEOUT", 15.0, minimum=1.0)
# How long the one-click acknowledgement link in an alert works.
SITECARE_ACK_LINK_HOURS = env_int("SITECARE_ACK_LINK_HOURS", 24, minimum=1)

# --- job layer (jobs/) ----------------------------------------------------------------------
# Who runs jobs: "embedded" (the supervised job runner of ``sitecare run``). Celery comes with
# scale-out; until then any other value is refused at start, not ignored.
SITECARE_JOBS = env_str("SITECARE_JOBS", "embedded").strip().lower()
if SITECARE_JOBS != "embedded":
    _celery = (
        " (Celery comes with scale-out, in a later release)" if SITECARE_JOBS == "celery" else ""
    )
    raise ImproperlyConfigured(
        f"SITECARE_JOBS={SITECARE_JOBS!r} is not supported: use 'embedded'{_celery}"
    )
# Extra modules registering job functions (each app's ``job_functions`` module is loaded anyway).
SITECARE_JOB_MODULES = env_list("SITECARE_JOB_MODULES", [])
# Worker processes of the job runner: for the default queue, for browser checks (one browser
# each, so one per core by default), and one for page speed (never two measurements at once).
SITECARE_JOB_WORKERS = env_int("SITECARE_JOB_WORKERS", 2, minimum=1)
SITECARE_BROWSER_WORKERS = env_int("SITECARE_BROWSER_WORKERS", os.cpu_count() or 1, minimum=1)
# A running job's lease (renewed every third of it): a job of a runner that died is retried
# once it expires (at once when its runner provably ran here and is gone).
SITECARE_JOB_LEASE_SECONDS = env_float("SITECARE_JOB_LEASE_SECONDS", 60.0, minimum=1.0)
# A job past its timeout gets this long more before its worker's process group is killed.
SITECARE_JOB_KILL_GRACE_SECONDS = env_float("SITECARE_JOB_KILL_GRACE_SECONDS", 5.0, minimum=0.0)
SITECARE_JOB_POLL_SECONDS = env_float("SITECARE_JOB_POLL_SECONDS", 1.0, minimum=0.01)
# Finished jobs are kept this long (failed ones four times as long), then pruned.
SITECARE_JOB_RETENTION_DAYS = env_int("SITECARE_JOB_RETENTION_DAYS", 7, minimum=1)
# The hard time limit of one browser check (transaction, speed) as a job.
SITECARE_BROWSER_JOB_TIMEOUT = env_float("SITECARE_BROWSER_JOB_TIMEOUT", 180.0, minimum=5.0)

# --- email (status page subscribers; Django's SMTP backend) --------------------------------
EMAIL_HOST = env_str("SITECARE_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("SITECARE_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("SITECARE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("SITECARE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("SITECARE_EMAIL_STARTTLS", False)
EMAIL_USE_SSL = env_bool("SITECARE_EMAIL_SSL", False)
DEFAULT_FROM_EMAIL = env_str("SITECARE_EMAIL_FROM", "sitecare@localhost")

# --- demo (make run) -----------------------------------------------------------------------
SITECARE_DEMO_PORT = env_int("SITECARE_DEMO_PORT", 8001, minimum=1)
# Longer than the demo monitors' timeout (2 s) and the default timeout (10 s): slow pages fail.
SITECARE_DEMO_SLOW_SECONDS = env_float("SITECARE_DEMO_SLOW_SECONDS", 12.0, minimum=0.0)
# How long the hero image takes in "heavy" mode: past the demo speed monitor's LCP budget (2.5 s).
SITECARE_DEMO_HEAVY_SECONDS = env_float("SITECARE_DEMO_HEAVY_SECONDS", 4.0, minimum=0.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("SITECARE_LOG_LEVEL", "INFO")},
    "loggers": {"apprise": {"level": "WARNING"}},
}
