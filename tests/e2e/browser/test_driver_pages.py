"""The driver's pages in a real browser (Debian's chromium through Playwright) on a phone-sized screen, against a
live server: scan → price → guest start with a card → live energy as the charger reports → stop → receipt; a
declined card; an unknown code; a signed-in driver's one tap and history; German. Screenshots of every step are
saved under the run's output folder (see conftest.py)."""

import re
from datetime import timedelta

from django.db.models.functions import Now
from playwright.sync_api import expect
from rest_framework.test import APIClient

from apps.reservations.models import ChargingSession

URL_SESSION = re.compile(r".*/s/[A-Za-z0-9_-]{40,}$")


def quote_of(network) -> dict:
    return (
        APIClient()
        .get("/api/v1/pricing/quote", {"station_id": network.station["id"], "connector_type": "CCS2", "kWh": 20})
        .json()
    )


def test_a_guest_scans_pays_charges_stops_and_gets_the_receipt(phone, network):
    page = phone.page
    page.goto(f"/c/{network.code}")
    expect(page.get_by_test_id("station-name")).to_have_text("Harbour Hub")
    expect(page.get_by_test_id("connector-status")).to_have_text("Available")
    quote = quote_of(network)
    tariff = quote  # the quote carries the tariff's prices at its top level
    assert phone.text("price-per-kwh") == f"€{tariff['energy_price_per_kwh'] / 100:.2f} / kWh"
    assert phone.text("price-session-fee") == f"€{tariff['session_fee'] / 100:.2f}"
    assert phone.text("price-example-total") == f"€{quote['estimated_total'] / 100:.2f}"
    phone.shot("connector-page")

    page.get_by_label("E-mail address for the receipt").fill("guest@example.com")
    page.get_by_test_id("card-token").select_option("tok_visa")
    phone.shot("checkout-filled")
    page.get_by_test_id("start-button").click()
    expect(page).to_have_url(URL_SESSION)
    expect(page.get_by_test_id("session-status")).to_have_text("Charging")
    expect(page.get_by_test_id("energy-kwh")).to_have_text("0.000")
    phone.shot("charging-started")
    # Half an hour on: 12.5 kWh in seconds would be more than the charger can deliver, and not billed.
    ChargingSession.objects.update(started_at=Now() - timedelta(minutes=30))

    network.report_meter(126_000)  # the charger's meter, 6 kWh into the session
    expect(page.get_by_test_id("energy-kwh")).to_have_text("6.000", timeout=15_000)
    network.report_meter(132_500)
    expect(page.get_by_test_id("energy-kwh")).to_have_text("12.500", timeout=15_000)
    phone.shot("charging")

    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Finished")
    expect(page.get_by_test_id("receipt-total")).to_be_visible()
    phone.shot("receipt")
    energy_amount = round(12_500 * tariff["energy_price_per_kwh"] / 1000)
    minimum = energy_amount + tariff["session_fee"] + 30 * tariff["time_price_per_min"]
    total = int(re.sub(r"[^0-9]", "", phone.text("receipt-total")))
    assert minimum <= total <= minimum + 2 * tariff["time_price_per_min"], (total, minimum)  # a minute's time, at most
    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-status", "partially_captured")
    assert "Energy 12.500 kWh" in phone.text("receipt-lines")
    expect(page.get_by_test_id("print-button")).to_be_visible()
    phone.shot("receipt")


def test_a_declined_card_says_why_and_starts_nothing(phone, network):
    page = phone.page
    page.goto(f"/c/{network.code}")
    page.get_by_label("E-mail address for the receipt").fill("guest@example.com")
    page.get_by_test_id("card-token").select_option("tok_declined")
    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("error-message")).to_contain_text("declined")
    expect(page.get_by_test_id("start-button")).to_be_visible()  # still free to try another card
    phone.shot("declined")


def test_an_unknown_code_shows_a_friendly_page(phone, network):
    response = phone.page.goto("/c/NOSUCH99")
    assert response.status == 404
    expect(phone.page.get_by_test_id("not-found")).to_contain_text("NOSUCH99")
    phone.shot("unknown-code")


def test_a_signed_in_driver_starts_with_one_tap_and_finds_it_in_the_history(phone, network, driver, driver_client):
    assert (
        driver_client.post("/api/v1/billing/payment-methods", {"token": "tok_visa"}, format="json").status_code == 201
    )
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
    phone.shot("connector-signed-in")
    page.get_by_test_id("one-tap-start").click()
    expect(page).to_have_url(URL_SESSION)
    expect(page.get_by_test_id("session-status")).to_have_text("Charging")
    network.report_meter(121_000)
    expect(page.get_by_test_id("energy-kwh")).to_have_text("1.000", timeout=15_000)
    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("receipt-total")).to_be_visible()
    page.get_by_role("link", name="My sessions").click()
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    phone.shot("history")


def test_a_german_browser_gets_german_pages_and_prices(phone_for, network):
    phone = phone_for("de-DE")
    page = phone.page
    page.goto(f"/c/{network.code}")
    expect(page.get_by_test_id("start-button")).to_have_text("Laden starten")
    expect(page.get_by_test_id("connector-status")).to_have_text("Frei")
    assert phone.text("price-per-kwh") == "0,39 € / kWh"
    phone.shot("connector-page-de")
