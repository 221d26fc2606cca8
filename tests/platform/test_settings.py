"""Settings come from the environment: embedded defaults, DEBUG only embedded, production check clean."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://evcharge:secret@db.internal:5432/evcharge",
    "CELERY_BROKER_URL": "amqp://evcharge:secret@mq.internal:5672/evcharge",
    "EVENTS_TRANSPORT": "rabbitmq",
    "SECRET_KEY": "k3Vq9-production-like-secret-8f1c2e7d6b5a4f3e2d1c0b9a8f7e6d5c4b3a2",
    "ALLOWED_HOSTS": "evcharge.example.com",
    "PAYMENT_GATEWAY": "apps.billing.gateways.TestGateway",
}

# How each kind of serving process starts the platform.
SERVING_PROCESSES = {
    "gunicorn/uwsgi (evcharge.wsgi)": "import evcharge.wsgi",
    "an ASGI server (evcharge.asgi)": "import evcharge.asgi",
    "a Celery worker": "from evcharge.celery import app, StartupChecks\n"
    "assert StartupChecks in app.steps['worker']\n"
    "StartupChecks(None)",
}


def clean_env(**overrides: str) -> dict[str, str]:
    """The process environment without any evcharge setting (nor a .env file's), plus overrides."""
    names = setting_names()
    env = {k: v for k, v in os.environ.items() if k not in names and k != "CI"}
    env.update(overrides)
    env["DJANGO_SETTINGS_MODULE"] = "evcharge.settings"
    return env


def run_python(code: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def setting_names() -> set[str]:
    source = (ROOT / "evcharge" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            pairs[match[1]] = match[2]
    return pairs


SHOW = "import django; django.setup(); from django.conf import settings as s; print(s.DEBUG, s.EMBEDDED)"


def test_every_setting_is_listed_in_env_example():
    missing = setting_names() - set(env_example())
    assert not missing, f"add these to .env.example with their default: {sorted(missing)}"


def test_the_embedded_mode_needs_nothing_and_debugs():
    result = run_python(SHOW, clean_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_env_example_copied_as_is_still_runs_embedded():
    result = run_python(SHOW, clean_env(**env_example()))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_debug_is_never_on_outside_the_embedded_mode():
    result = run_python(SHOW, clean_env(**PRODUCTION_ENV, DEBUG="true"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_outside_the_embedded_mode_the_secret_key_must_come_from_the_environment():
    env = clean_env(**{k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"})
    result = run_python(SHOW, env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("extra", [{}, {"JWT_SIGNING_KEY": "", "DEBUG": "true"}])
def test_production_settings_pass_check_deploy(extra):
    """Security checks are clean; drf-spectacular's schema warnings (also reported by `check`) are
    test_api_schema's business, so they do not fail this test (CI runs the strict check too)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env=clean_env(**PRODUCTION_ENV, **extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    issues = re.findall(r"^\S*: \(([\w.]+)\)", output, flags=re.MULTILINE)
    assert all(issue.startswith("drf_spectacular.") for issue in issues), output
