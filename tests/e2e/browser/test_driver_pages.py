"""The driver's pages in a real browser (Debian's chromium through Playwright) on a phone-sized screen, against a
live server: scan → price → guest start with a card → live energy as the charger reports → stop → receipt; a
declined card; an unknown code; a signed-in driver's one tap and history; German. Screenshots of every step are
saved under the run's output folder (see conftest.py)."""

import re
from datetime import timedelta

import pytest
from django.db.models.functions import Now
from playwright.sync_api import expect
from rest_framework.test import APIClient

from apps.billing.gateways import TestGateway
from apps.reservations.models import ChargingSession

URL_SESSION = re.compile(r".*/s/([A-Za-z0-9_-]{40,})$")  # JavaScript's syntax too: Playwright matches it there
PRICE_ROWS_IN_AFIR_ORDER = ["price-per-kwh", "price-per-minute", "price-session-fee", "price-idle-fee"]


def quote_of(network) -> dict:
    quoted = APIClient().get(
        "/api/v1/pricing/quote", {"station_id": network.station["id"], "connector_type": "CCS2", "kWh": 20}
    )
    assert quoted.status_code == 200, quoted.content
    return quoted.json()


def session_api(token: str) -> dict:
    read = APIClient().get(f"/api/v1/adhoc-sessions/{token}")
    assert read.status_code == 200, read.content
    return read.json()


def euros(minor: int, language: str = "en") -> str:
    """How a reader sees an amount in euros: "€0.39" in English, "0,39 €" in German."""
    if language == "de":
        return f"{minor / 100:.2f}".replace(".", ",") + " €"
    return f"€{minor / 100:.2f}"


def price_rows_shown(page) -> list[str]:
    return page.locator("[data-testid^='price-']").evaluate_all(
        "rows => rows.map(row => row.dataset.testid).filter(id => id !== 'price-example-total')"
    )


@pytest.mark.parametrize(
    "events",
    [
        "in-process",  # any database: what a newcomer's first `pytest` walks
        # as in production: PostgreSQL, and billing hears session.completed from RabbitMQ, a moment later
        pytest.param("rabbitmq", marks=[pytest.mark.postgres, pytest.mark.rabbitmq]),
    ],
)
def test_a_guest_scans_pays_charges_stops_and_gets_the_receipt(phone_for, network, events):
    phone = phone_for()
    page = phone.page
    page.goto(f"/c/{network.code}")
    expect(page.get_by_test_id("station-name")).to_have_text("Harbour Hub")
    expect(page.get_by_test_id("connector-status")).to_have_text("Available")
    quote = quote_of(network)  # the tariff's prices at its top level, and the 20 kWh example
    assert phone.text("price-per-kwh") == f"{euros(quote['energy_price_per_kwh'])} / kWh"
    assert phone.text("price-per-minute") == f"{euros(quote['time_price_per_min'])} / min"
    assert phone.text("price-session-fee") == euros(quote["session_fee"])
    assert phone.text("price-idle-fee") == f"{euros(quote['idle_fee_per_min'])} / min"
    idle_row = page.get_by_role("row", name=re.compile("Idle fee")).inner_text()
    assert f"after {quote['idle_grace_min']} minutes" in idle_row
    assert phone.text("price-example-total") == euros(quote["estimated_total"])
    assert price_rows_shown(page) == PRICE_ROWS_IN_AFIR_ORDER  # 150 kW: the price per kWh leads
    phone.shot("connector-page")

    page.get_by_label("E-mail address for the receipt").fill("guest@example.com")
    page.get_by_label("Card").select_option("tok_visa")
    phone.shot("checkout-filled")
    page.get_by_test_id("start-button").click()
    expect(page).to_have_url(URL_SESSION)
    token = URL_SESSION.match(page.url)[1]
    expect(page.get_by_test_id("session-status")).to_have_text("Charging")
    expect(page.get_by_test_id("energy-kwh")).to_have_text("0.000")
    phone.shot("charging-started")
    [authorization] = TestGateway.calls("authorize")
    assert (authorization.amount, authorization.result.status) == (5000, "succeeded")  # billing.adhoc_hold_amount

    # Half an hour on (12.5 kWh in seconds would be more than the charger can deliver, and not billed), the phone
    # wakes with its browser restarted: the link alone opens the session again.
    ChargingSession.objects.update(started_at=Now() - timedelta(minutes=30))
    phone = phone_for()
    page = phone.page
    page.goto(f"/s/{token}")
    expect(page.get_by_test_id("elapsed")).to_have_text(re.compile(r"^30:\d\d$"))
    network.report_meter(126_000)  # the charger's meter, 6 kWh into the session
    expect(page.get_by_test_id("energy-kwh")).to_have_text("6.000")
    network.report_meter(132_500)
    expect(page.get_by_test_id("energy-kwh")).to_have_text("12.500")
    cost_so_far = session_api(token)["cost_so_far"]
    expect(page.get_by_test_id("cost-so-far")).to_have_text(euros(cost_so_far))
    phone.shot("charging", docs_image="charging-page.png" if events == "rabbitmq" else "")

    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Finished")
    expect(page.get_by_test_id("receipt-total")).to_have_attribute("data-final", "1")  # paid
    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-status", "partially_captured")
    receipt = session_api(token)["receipt"]
    energy_amount = round(12_500 * quote["energy_price_per_kwh"] / 1000)
    at_least = energy_amount + quote["session_fee"] + 30 * quote["time_price_per_min"]
    assert at_least <= receipt["total_amount"] <= at_least + 2 * quote["time_price_per_min"], receipt  # a minute on
    assert phone.text("receipt-total") == euros(receipt["total_amount"])
    assert phone.text("receipt-discount") == "\N{MINUS SIGN}€0.00"
    assert "Energy 12.500 kWh" in phone.text("receipt-lines")
    [capture] = TestGateway.calls("capture")
    assert (capture.amount, capture.released) == (receipt["total_amount"], 5000 - receipt["total_amount"])
    assert receipt["hold"]["captured_amount"] == receipt["total_amount"]
    expect(page.get_by_test_id("print-button")).to_be_visible()
    phone.shot("receipt")


def test_a_declined_card_says_why_and_starts_nothing(phone, network):
    page = phone.page
    page.goto(f"/c/{network.code}")
    page.get_by_label("E-mail address for the receipt").fill("guest@example.com")
    page.get_by_label("Card").select_option("tok_declined")
    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("error-message")).to_contain_text("declined")
    expect(page.get_by_test_id("start-button")).to_be_visible()  # free to try another card
    phone.shot("declined")
    assert not ChargingSession.objects.exists()
    assert [call.result.status for call in TestGateway.calls("authorize")] == ["declined"]
    assert TestGateway.calls("capture") == []


def test_an_unknown_code_shows_a_friendly_page(phone, network):
    response = phone.page.goto("/c/NOSUCH99")
    assert response.status == 404
    expect(phone.page.get_by_test_id("not-found")).to_contain_text("NOSUCH99")
    phone.shot("unknown-code")


def test_a_signed_in_driver_starts_with_one_tap_and_finds_it_in_the_history(phone, network, driver, driver_client):
    saved = driver_client.post("/api/v1/billing/payment-methods", {"token": "tok_visa"}, format="json")
    assert saved.status_code == 201, saved.content
    driver.set_password("a-long-driver-password")
    driver.save()
    page = phone.page
    page.goto(f"/c/{network.code}")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_test_id("login-email").fill(driver.email)
    page.get_by_test_id("login-password").fill("a-long-driver-password")
    phone.shot("login")
    page.get_by_test_id("login-button").click()
    expect(page).to_have_url(re.compile(rf".*/c/{network.code}$"))
    expect(page.get_by_test_id("one-tap-start")).to_have_text("Start charging with my saved card")
    phone.shot("connector-signed-in")
    page.get_by_test_id("one-tap-start").click()
    expect(page).to_have_url(URL_SESSION)
    expect(page.get_by_test_id("session-status")).to_have_text("Charging")
    network.report_meter(121_000)
    expect(page.get_by_test_id("energy-kwh")).to_have_text("1.000")
    phone.shot("charging")
    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("receipt-total")).to_have_attribute("data-final", "1")
    total = phone.text("receipt-total")
    phone.shot("receipt")
    page.get_by_role("link", name="My sessions").click()
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    expect(page.get_by_test_id("session-row")).to_contain_text(total)
    expect(page.get_by_test_id("session-row")).to_contain_text("1.000")
    phone.shot("history")


def test_a_german_browser_gets_german_pages_and_prices(phone_for, network):
    phone = phone_for("de-DE")  # the browser sends Accept-Language: de-DE
    page = phone.page
    page.goto(f"/c/{network.code}")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_test_id("start-button")).to_have_text("Laden starten")
    expect(page.get_by_test_id("connector-status")).to_have_text("Frei")
    quote = quote_of(network)
    assert phone.text("price-per-kwh") == f"{euros(quote['energy_price_per_kwh'], 'de')} / kWh"  # "0,39 € / kWh"
    assert phone.text("price-session-fee") == euros(quote["session_fee"], "de")
    assert phone.text("price-example-total") == euros(quote["estimated_total"], "de")
    phone.shot("connector-page-de")
    response = page.goto("/c/NOSUCH99")
    assert response.status == 404
    expect(page.get_by_test_id("not-found")).to_contain_text("Diesen Anschluss kennen wir nicht")
    phone.shot("unknown-code-de")


def test_a_receipt_waiting_for_the_bank_shows_the_capture_when_it_lands(phone, network):
    from apps.billing.gateways import GatewayTimeout
    from apps.billing.services.holds import holds_sweep

    page = phone.page
    page.goto(f"/c/{network.code}")
    page.get_by_label("E-mail address for the receipt").fill("guest@example.com")
    page.get_by_test_id("start-button").click()
    expect(page).to_have_url(URL_SESSION)
    network.report_meter(121_000)
    expect(page.get_by_test_id("energy-kwh")).to_have_text("1.000")
    TestGateway.fail_next("capture", GatewayTimeout("no answer"))  # the bank's answer to the capture is lost
    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("receipt-total")).to_have_attribute("data-final", "0")
    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-status", "pending")
    phone.shot("receipt-waiting-for-the-bank")
    assert holds_sweep(unused_after=timedelta(minutes=30)) == 1  # the beat asks again: the capture is done
    expect(page.get_by_test_id("payment-status")).to_have_attribute(
        "data-status", "partially_captured", timeout=8_000
    )  # the page polls every 3 s
    phone.shot("receipt-paid")
