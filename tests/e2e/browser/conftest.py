"""Browser tests: Playwright for Python driving Debian's chromium (/usr/bin/chromium; `playwright install` is never
needed) against pytest-django's live server, at a phone's 360x740. Each step's screenshot is saved under the run's
output folder: $TEST_OUTPUT_DIR/browser/<test>/NN-step.png (TEST_OUTPUT_DIR defaults to ./test-output).
UPDATE_DOCS_IMAGES=1 also refreshes the README's screenshot (docs/img/charging-page.png) from the flow's run."""

import os
import re
import shutil
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.driverweb.conftest import Network, _fresh_test_gateway  # noqa: F401  (a fresh test gateway per test)
from tests.helpers import skip_or_fail

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"the browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("the browser tests need Playwright for Python (pip install -e '.[dev]')")
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls (fixtures, meter readings)
    # are plain synchronous code all the same, so Django is told not to refuse them, for these tests only.
    expect.set_options(timeout=15_000)  # the pages poll every few seconds; events may be on their way over RabbitMQ
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Screenshots:
    """A test's folder of numbered screenshots (01-connector-page.png, 02-...), shared by its phones."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.steps = 0

    def save(self, page, name: str) -> Path:
        self.steps += 1
        path = self.folder / f"{self.steps:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


class Phone:
    """A page at 360x740 in a browser context of its own (its own cookies), saving a screenshot per step."""

    def __init__(self, page, screenshots: Screenshots) -> None:
        self.page = page
        self.screenshots = screenshots

    def shot(self, name: str, *, docs_image: str = "") -> Path:
        """Saves this step's screenshot; with UPDATE_DOCS_IMAGES=1 also as docs/img/<docs_image> (the README's)."""
        path = self.screenshots.save(self.page, name)
        if docs_image and os.environ.get("UPDATE_DOCS_IMAGES") == "1":
            shutil.copyfile(path, ROOT / "docs" / "img" / docs_image)
        return path

    def text(self, testid: str) -> str:
        """The element's text as a reader sees it: runs of whitespace (no-break spaces too) as one space."""
        return " ".join(self.page.get_by_test_id(testid).inner_text().split())


@pytest.fixture(scope="module")
def web_server():
    """A live server of this module's own, started after the plain-HTTP test setting (pytest-django's live server
    is started once per run, its SecurityMiddleware built with production's redirect to HTTPS)."""
    from django.conf import settings
    from pytest_django.live_server_helper import LiveServer

    redirect = settings.SECURE_SSL_REDIRECT
    settings.SECURE_SSL_REDIRECT = False
    server = LiveServer("localhost:0", start=False)
    server._live_server_modified_settings.enable()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server._live_server_modified_settings.disable()
        settings.SECURE_SSL_REDIRECT = redirect


@pytest.fixture
def phone_for(browser, request, web_server, transactional_db):
    """phone_for(locale="en-US") -> Phone: a fresh browser context (its own cookies) on the live server."""
    output = Path(os.environ.get("TEST_OUTPUT_DIR", ROOT / "test-output")) / "browser"
    folder = output / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")  # test_x[y]: test_x-y
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    screenshots = Screenshots(folder)
    contexts = []

    def open_phone(locale: str = "en-US") -> Phone:
        context = browser.new_context(
            viewport={"width": 360, "height": 740},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=locale,
            base_url=web_server.url,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Phone(context.new_page(), screenshots)

    yield open_phone
    for context in contexts:
        context.close()


@pytest.fixture
def phone(phone_for) -> Phone:
    return phone_for()


@pytest.fixture
def network(operator_client, _rabbitmq_bus) -> Network:
    """tests/driverweb's priced station (150 kW CCS2 connector, a €0.39/kWh default plan, the charger's API key),
    set up over HTTP as an operator would. On RabbitMQ the other contexts learn of the station from its events:
    they are handled before the charger reports its meter (telemetry knows its chargers from station.created)."""
    plan = operator_client.post(
        "/api/v1/pricing/rate-plans",
        {
            "name": "Standard",
            "currency": "EUR",
            "energy_price_per_kwh": 39,
            "time_price_per_min": 2,
            "session_fee": 50,
            "idle_fee_per_min": 10,
            "idle_grace_min": 15,
            "is_default": True,
        },
        format="json",
    )
    assert plan.status_code == 201, plan.content
    created = operator_client.post(
        "/api/v1/stations",
        {
            "name": "Harbour Hub",
            "address": "Hafenstraße 1, Berlin",
            "latitude": 52.52,
            "longitude": 13.405,
            "timezone": "Europe/Berlin",
            "chargers": [{"serial": "HH-DC-01", "max_power_kw": 150, "connectors": [{"number": 1, "type": "CCS2"}]}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    station = created.json()
    charger = station["chargers"][0]
    issued = operator_client.post("/api/v1/auth/api-keys", {"name": "HH-DC-01 firmware"}, format="json")
    assert issued.status_code == 201, issued.content
    charger_client = APIClient()
    charger_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.json()['key']}")
    if _rabbitmq_bus is not None:
        _rabbitmq_bus.settle()
    connector = charger["connectors"][0]
    network = Network(station=station, charger=charger, connector=connector, charger_client=charger_client)
    network.report_meter(120_000)  # the charger's meter before any session
    if _rabbitmq_bus is not None:
        _rabbitmq_bus.settle()
    return network
