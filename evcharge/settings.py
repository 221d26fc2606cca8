"""Settings: every value comes from the environment, with a working embedded default.

Embedded mode (nothing set): SQLite file, inline events, no broker, DEBUG on.
Real mode: DATABASE_URL=postgres://..., CELERY_BROKER_URL=amqp://..., EVENTS_TRANSPORT=rabbitmq.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'var' / 'evcharge.sqlite3'}"
EMBEDDED = DATABASE_URL.startswith("sqlite")

# Debug pages only ever in the embedded mode: DEBUG=true is ignored once DATABASE_URL points elsewhere.
DEBUG = EMBEDDED and env.bool("DEBUG", default=True)
# Secrets come from the environment only; the embedded mode alone has a (public, insecure) default.
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "embedded-insecure-key-set-SECRET_KEY-in-production" if EMBEDDED else ""
)
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set outside the embedded mode")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"] if EMBEDDED else ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as static files of our own (no CDN)
    "django_prometheus",
    "evcharge.api",
    "evcharge.events",
    "evcharge.platform",
    "apps.identity",
    "apps.stations",
    "apps.reservations",
    "apps.pricing",
    "apps.billing",
    "apps.reporting",
    "apps.telemetry",
    "apps.adminconfig",
    "apps.notifications",
    "apps.chargepoints",
    "apps.driverweb",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "evcharge.api.middleware.RequestContextMiddleware",
    "evcharge.api.middleware.BodySizeLimitMiddleware",  # 413 from Content-Length, before anything reads the body
    "evcharge.platform.health.HealthCheckMiddleware",  # probes answer before ALLOWED_HOSTS/SSL checks
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # /static/ (admin, API docs) from the app itself, DEBUG or not
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the driver pages' language from Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "evcharge.urls"
WSGI_APPLICATION = "evcharge.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0 if EMBEDDED else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if EMBEDDED:
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A database that does not answer fails the request quickly (503) instead of holding the worker.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=3)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

# --- security (production values whenever DEBUG is off) ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["evcharge.api.authentication.JWTClaimsAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "evcharge.api.pagination.LimitOffsetPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "evcharge.api.schema.AutoSchema",  # documents the problem+json errors and pages
    "EXCEPTION_HANDLER": "evcharge.api.errors.problem_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "evcharge.api.parsers.JSONParser",  # refuses nesting deeper than API_MAX_JSON_DEPTH (400)
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Proxies in front of the app whose X-Forwarded-For entries are trusted: 0 = the socket address is the
    # client (a caller-supplied X-Forwarded-For never names a throttled client); the chart sets 1 for its ingress.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("THROTTLE_LOGIN", default="10/min"),  # per client address
        "login_account": env.str("THROTTLE_LOGIN_ACCOUNT", default="10/min"),  # failed logins per account
        "register": env.str("THROTTLE_REGISTER", default="30/hour"),
        "connector_lookup": env.str("THROTTLE_CONNECTOR_LOOKUP", default="120/min"),
    },
    "UNAUTHENTICATED_USER": None,
}

# Request bodies larger than this answer 413 (from Content-Length, before the body is read);
# API_MAX_BODY_BYTES_BY_PATH (below) gives a route its own limit.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2_621_440)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=64)
# Bearer token Prometheus sends for /metrics; empty = no token (then keep /metrics off the ingress: the chart does)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "ALGORITHM": "HS256",
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_OBTAIN_SERIALIZER": "apps.identity.api.serializers.TokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "apps.identity.api.serializers.TokenRefreshSerializer",
    "TOKEN_VERIFY_SERIALIZER": "apps.identity.api.serializers.TokenVerifySerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "evcharge API",
    "DESCRIPTION": "The back end of an EV-charging network. Errors are application/problem+json (RFC 9457).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "evcharge.api.schema.postprocess_paging",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: the docs work offline and under a strict CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per shared choice set (dotted strings: the platform imports no context).
    "ENUM_NAME_OVERRIDES": {
        "ConnectorTypeEnum": "evcharge.contracts.stations.CONNECTOR_TYPES",
        "ConnectorStatusEnum": "evcharge.contracts.stations.CONNECTOR_STATUSES",
        "StationStatusEnum": "evcharge.contracts.stations.STATION_STATUSES",
        "PromotionKindEnum": "apps.pricing.models.Promotion.Kind",
        "InvoiceLineKindEnum": "apps.billing.models.LineKind",
        "StaffLineKindEnum": "apps.billing.models.STAFF_LINE_KINDS",
        "LedgerEntryKindEnum": "apps.billing.models.LedgerEntry.Kind",
        "PaymentMethodKindEnum": ["card"],
        "TelemetryKindEnum": "apps.telemetry.models.Kind",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKeyAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Api-Key <key>`",
            },
        }
    },
}

# --- home page (/) ---
# The connector URL the home page offers to try (the demo sets it; empty: the page shows none).
DEMO_QR_URL = env.str("DEMO_QR_URL", default="")
# WhiteNoise also serves files no collectstatic gathered yet (tests, a fresh clone); the image serves STATIC_ROOT.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
warnings.filterwarnings("ignore", message=r"No directory at: ")  # WhiteNoise, before any collectstatic ran

CACHES = {"default": env.cache_url_config(env.str("CACHE_URL", default="locmemcache://evcharge"))}

# --- events and Celery ---
EVENTS_TRANSPORT = env.str("EVENTS_TRANSPORT", default="inline")  # inline | rabbitmq
EVENTS_EXCHANGE = env.str("EVENTS_EXCHANGE", default="evcharge.events")
EVENTS_QUEUE_PREFIX = env.str("EVENTS_QUEUE_PREFIX", default="evcharge.")
EVENTS_RELAY_BATCH_SIZE = env.int("EVENTS_RELAY_BATCH_SIZE", default=500)
EVENTS_RELAY_MAX_ATTEMPTS = env.int("EVENTS_RELAY_MAX_ATTEMPTS", default=12)
EVENTS_HANDLER_MAX_ATTEMPTS = env.int("EVENTS_HANDLER_MAX_ATTEMPTS", default=5)
EVENTS_RELAY_SWEEP_SECONDS = env.float("EVENTS_RELAY_SWEEP_SECONDS", default=5.0)

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "evcharge.tasks"
CELERY_BEAT_SCHEDULE: dict = {}  # each context adds its periodic tasks in evcharge/celery.py
CELERY_TIMEZONE = "UTC"

# --- pricing: how long a quote holds, the largest energy it quotes, its per-process cache ---
PRICING_QUOTE_VALID_SECONDS = env.int("PRICING_QUOTE_VALID_SECONDS", default=900)
PRICING_QUOTE_MAX_KWH = env.int("PRICING_QUOTE_MAX_KWH", default=1000)
PRICING_QUOTE_CACHE_SECONDS = env.int("PRICING_QUOTE_CACHE_SECONDS", default=300)
PRICING_QUOTE_CACHE_MAX_ENTRIES = env.int("PRICING_QUOTE_CACHE_MAX_ENTRIES", default=10000)
PRICING_QUOTE_RECHECK_SECONDS = env.float("PRICING_QUOTE_RECHECK_SECONDS", default=1.0)

DEMO_SEEDERS = [
    "apps.identity.demo",
    "apps.stations.demo",
    "apps.pricing.demo",
    "apps.reservations.demo",
    "apps.billing.demo",
    "apps.telemetry.demo",
    "apps.adminconfig.demo",
]

# Hours a response stored for an Idempotency-Key is replayed (purged hourly by beat)
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
# Seconds a request holds its Idempotency-Key while running (the web request timeout): a retry after that
# takes over a record its dead worker left in progress
IDEMPOTENCY_LEASE_SECONDS = env.int("IDEMPOTENCY_LEASE_SECONDS", default=30)

# --- tracing (evcharge/observability.py): spans always recorded, exported over OTLP/HTTP only when set ---
OTEL_SDK_DISABLED = env.bool("OTEL_SDK_DISABLED", default=False)
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="evcharge")
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")

# --- logging: JSON lines with request id, user id, status, duration ---
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "evcharge.api.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
    },
}

# --- adminconfig ---
FEATURE_FLAG_CACHE_SECONDS = env.float("FEATURE_FLAG_CACHE_SECONDS", default=5.0)

# --- reservations and charging sessions ---
RESERVATION_MAX_MINUTES = env.int("RESERVATION_MAX_MINUTES", default=120)
RESERVATION_MAX_DAYS_AHEAD = env.int("RESERVATION_MAX_DAYS_AHEAD", default=30)
RESERVATION_CLOCK_SKEW_SECONDS = env.int("RESERVATION_CLOCK_SKEW_SECONDS", default=60)
RESERVATION_EARLY_START_MINUTES = env.int("RESERVATION_EARLY_START_MINUTES", default=10)
RESERVATION_EXPIRY_SWEEP_SECONDS = env.float("RESERVATION_EXPIRY_SWEEP_SECONDS", default=60.0)
RESERVATIONS_MAX_OPEN_PER_DRIVER = env.int("RESERVATIONS_MAX_OPEN_PER_DRIVER", default=3)
SESSION_METER_SWEEP_SECONDS = env.float("SESSION_METER_SWEEP_SECONDS", default=300.0)

# --- telemetry ---
TELEMETRY_MAX_BATCH = env.int("TELEMETRY_MAX_BATCH", default=1000)
TELEMETRY_MAX_FUTURE_SECONDS = env.int("TELEMETRY_MAX_FUTURE_SECONDS", default=300)
TELEMETRY_OFFLINE_AFTER_SECONDS = env.int("TELEMETRY_OFFLINE_AFTER_SECONDS", default=300)
TELEMETRY_HEALTH_SWEEP_SECONDS = env.float("TELEMETRY_HEALTH_SWEEP_SECONDS", default=60.0)
TELEMETRY_RETENTION_DAYS = env.int("TELEMETRY_RETENTION_DAYS", default=30)
TELEMETRY_ROLLUP_RETENTION_DAYS = env.int("TELEMETRY_ROLLUP_RETENTION_DAYS", default=730)
TELEMETRY_MAINTENANCE_SECONDS = env.float("TELEMETRY_MAINTENANCE_SECONDS", default=3600.0)
TELEMETRY_MAX_BODY_BYTES = env.int("TELEMETRY_MAX_BODY_BYTES", default=2 * 1024 * 1024)
API_MAX_BODY_BYTES_BY_PATH = {"/api/v1/telemetry/events": TELEMETRY_MAX_BODY_BYTES}

# --- event bus: RabbitMQ transport, relay lease, consumers (evcharge/events) ---
EVENTS_BROKER_URL = env.str("EVENTS_BROKER_URL", default="") or CELERY_BROKER_URL  # default: the Celery broker
EVENTS_CONNECT_TIMEOUT = env.float("EVENTS_CONNECT_TIMEOUT", default=5.0)
EVENTS_CONFIRM_TIMEOUT = env.float("EVENTS_CONFIRM_TIMEOUT", default=30.0)
EVENTS_RELAY_LEASE_SECONDS = env.float("EVENTS_RELAY_LEASE_SECONDS", default=60.0)
EVENTS_CONSUMERS = env.list("EVENTS_CONSUMERS", default=[])  # contexts this worker consumes; empty = all
EVENTS_CONSUMER_PREFETCH = env.int("EVENTS_CONSUMER_PREFETCH", default=20)  # raised to the batch size
EVENTS_CONSUMER_BATCH = env.int("EVENTS_CONSUMER_BATCH", default=100)  # deliveries applied in one transaction
EVENTS_CONSUMER_BATCH_WAIT_MS = env.float("EVENTS_CONSUMER_BATCH_WAIT_MS", default=10.0)  # to fill a batch, at most
EVENTS_HANDLER_RETRY_DELAY_SECONDS = env.float("EVENTS_HANDLER_RETRY_DELAY_SECONDS", default=1.0)  # doubles
EVENTS_OUTBOX_RETENTION_DAYS = env.int("EVENTS_OUTBOX_RETENTION_DAYS", default=7)
EVENTS_HANDLER_MAX_ATTEMPTS_DB = env.int("EVENTS_HANDLER_MAX_ATTEMPTS_DB", default=12)  # database errors: ~1 h
EVENTS_INBOX_RETENTION_DAYS = env.int("EVENTS_INBOX_RETENTION_DAYS", default=14)  # the dedupe horizon
EVENTS_DEADLETTER_RETENTION_DAYS = env.int("EVENTS_DEADLETTER_RETENTION_DAYS", default=30)
EVENTS_ARCHIVE_RETENTION_MONTHS = env.int("EVENTS_ARCHIVE_RETENTION_MONTHS", default=0)  # 0: keep every event
EVENTS_METRICS_PORT = env.int("EVENTS_METRICS_PORT", default=0)  # a worker's own /metrics port; 0 = none

# --- billing ---
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="") or ("apps.billing.gateways.TestGateway" if EMBEDDED else "")
BILLING_HOLD_ESTIMATE_WH = env.int("BILLING_HOLD_ESTIMATE_WH", default=20000)
BILLING_HOLD_ESTIMATE_MINUTES = env.int("BILLING_HOLD_ESTIMATE_MINUTES", default=60)
BILLING_PENDING_PAYMENT_TIMEOUT_SECONDS = env.int("BILLING_PENDING_PAYMENT_TIMEOUT_SECONDS", default=300)
BILLING_HOLD_UNUSED_MINUTES = env.int("BILLING_HOLD_UNUSED_MINUTES", default=30)

# --- the driver's pages (apps/driverweb): receipts by e-mail, rate limits per hour ---
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="evcharge <receipts@evcharge.invalid>")
DRIVERWEB_STARTS_PER_IP_HOUR = env.int("DRIVERWEB_STARTS_PER_IP_HOUR", default=20)
DRIVERWEB_PAYMENTS_PER_IP_HOUR = env.int("DRIVERWEB_PAYMENTS_PER_IP_HOUR", default=20)
DRIVERWEB_PAYMENTS_PER_CARD_HOUR = env.int("DRIVERWEB_PAYMENTS_PER_CARD_HOUR", default=10)
DRIVERWEB_LOGINS_PER_IP_HOUR = env.int("DRIVERWEB_LOGINS_PER_IP_HOUR", default=30)

# --- OCPP gateway (apps/chargepoints/gateway; `manage.py ocpp_gateway`) ---
OCPP_HOST = env.str("OCPP_HOST", default="0.0.0.0")  # noqa: S104  (a server listening on every interface)
OCPP_PORT = env.int("OCPP_PORT", default=9000)
OCPP_INSTANCE_ID = env.str("OCPP_INSTANCE_ID", default="")  # empty: hostname-pid
OCPP_PING_INTERVAL_S = env.float("OCPP_PING_INTERVAL_S", default=30.0)
OCPP_CALL_TIMEOUT_S = env.float("OCPP_CALL_TIMEOUT_S", default=30.0)
OCPP_ALLOW_UNSECURED = env.bool("OCPP_ALLOW_UNSECURED", default=False)  # profile 0: local development only
OCPP_TLS_CERT = env.str("OCPP_TLS_CERT", default="")
OCPP_TLS_KEY = env.str("OCPP_TLS_KEY", default="")
OCPP_DB_THREADS = env.int("OCPP_DB_THREADS", default=8)
OCPP_LAST_SEEN_FLUSH_S = env.float("OCPP_LAST_SEEN_FLUSH_S", default=5.0)
# MeterValues arriving within this window are stored in one transaction (0: each alone), at most this many
OCPP_METER_BATCH_WINDOW_MS = env.float("OCPP_METER_BATCH_WINDOW_MS", default=10.0)
OCPP_METER_BATCH_MAX = env.int("OCPP_METER_BATCH_MAX", default=500)

# --- OCPP remote commands (apps/chargepoints/routing.py, services/commands.py) ---
OCPP_COMMANDS_EXCHANGE = env.str("OCPP_COMMANDS_EXCHANGE", default="evcharge.ocpp.commands")
OCPP_REMOTE_START_TIMEOUT_S = env.float("OCPP_REMOTE_START_TIMEOUT_S", default=120.0)  # then the session is cancelled
OCPP_COMMAND_SWEEP_S = env.float("OCPP_COMMAND_SWEEP_S", default=30.0)  # timeouts and overdue remote starts
OCPP_RESERVE_NOW_LEAD_S = env.float("OCPP_RESERVE_NOW_LEAD_S", default=300.0)  # ReserveNow this long before the window
