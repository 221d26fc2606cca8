"""Browser tests: Playwright for Python driving Debian's chromium (/usr/bin/chromium; `playwright install` is never
needed) against pytest-django's live server, at a phone's 360x740. Each step's screenshot is saved under the run's
output folder: $TEST_OUTPUT_DIR/browser/<test>/NN-step.png (TEST_OUTPUT_DIR defaults to ./test-output)."""

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.driverweb.conftest import _fresh_test_gateway, network  # noqa: F401  (the priced station)
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
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the browser tests need Playwright for Python (pip install -e '.[dev]')")
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls (fixtures, meter readings)
    # are plain synchronous code all the same, so Django is told not to refuse them, for these tests only.
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


class Phone:
    """A page at 360x740 that saves a numbered screenshot per step."""

    def __init__(self, page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.steps = 0

    def shot(self, name: str) -> Path:
        self.steps += 1
        path = self.folder / f"{self.steps:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def text(self, testid: str) -> str:
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
    folder = output / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
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
        return Phone(context.new_page(), folder)

    yield open_phone
    for context in contexts:
        context.close()


@pytest.fixture
def phone(phone_for) -> Phone:
    return phone_for()
