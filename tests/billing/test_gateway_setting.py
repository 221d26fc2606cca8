"""The test gateway is never the production default: outside the embedded mode the platform refuses to start
(a system check error, at start-up and under `check --deploy`) until PAYMENT_GATEWAY is set explicitly."""

import subprocess
import sys

import pytest

from tests.platform.test_settings import PRODUCTION_ENV, ROOT, SERVING_PROCESSES, clean_env, run_python

WITHOUT_GATEWAY = {k: v for k, v in PRODUCTION_ENV.items() if k != "PAYMENT_GATEWAY"}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("command", [("check", "--deploy"), ("check",)])
def test_without_payment_gateway_the_checks_fail_naming_it(command):
    result = manage(*command, env=clean_env(**WITHOUT_GATEWAY, DEBUG="false"))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "billing.E001" in output and "PAYMENT_GATEWAY" in output


def test_with_the_test_gateway_chosen_explicitly_the_deploy_check_passes():
    env = clean_env(**WITHOUT_GATEWAY, DEBUG="false", PAYMENT_GATEWAY="apps.billing.gateways.TestGateway")
    result = manage("check", "--deploy", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "billing.E" not in result.stdout + result.stderr


def test_a_gateway_that_cannot_be_imported_is_an_error():
    result = manage("check", env=clean_env(**WITHOUT_GATEWAY, PAYMENT_GATEWAY="apps.billing.gateways.Nope"))
    assert result.returncode != 0
    assert "billing.E002" in result.stdout + result.stderr


def test_the_embedded_mode_still_pays_with_the_test_gateway():
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; print(s.PAYMENT_GATEWAY)",
        clean_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "apps.billing.gateways.TestGateway"


@pytest.mark.parametrize("start", SERVING_PROCESSES.values(), ids=SERVING_PROCESSES.keys())
def test_serving_processes_refuse_to_start_without_it(start):
    refused = run_python(start, clean_env(**WITHOUT_GATEWAY, DEBUG="false"))
    assert refused.returncode != 0
    assert "PAYMENT_GATEWAY" in refused.stderr

    env = clean_env(**WITHOUT_GATEWAY, DEBUG="false", PAYMENT_GATEWAY="apps.billing.gateways.TestGateway")
    started = run_python(start, env)
    assert started.returncode == 0, started.stderr
