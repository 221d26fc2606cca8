"""What the driver's pages do by themselves in a real browser (their script polling the public API), which no test
client sees: a charger online over OCPP — the page waits, turns to charging when the charger starts, says it is
stopping, and shows the receipt when the charger stops (or that nothing was charged when it refuses, or when the
driver cancels the start before it confirms); a German
phone's live figures written the German way; a promotion code typed at the start taken off the receipt; a connector
going out of service withdrawing the start from an open page; a payment service that does not answer; the print
button. Fixtures and screenshots: conftest.py."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from playwright.sync_api import expect
from rest_framework.test import APIClient

from apps.billing.gateways import TestGateway
from apps.reservations.models import ChargingSession
from evcharge.contracts import chargepoints
from evcharge.contracts import reservations as reservations_contract
from evcharge.contracts.reservations import ChargerStart

URL_SESSION = re.compile(r".*/s/([A-Za-z0-9_-]{40,})$")
MINUS = "\N{MINUS SIGN}"


def euros(minor: int, language: str = "en") -> str:
    if language == "de":
        return f"{minor / 100:.2f}".replace(".", ",") + " €"
    return f"€{minor / 100:.2f}"


def session_api(token: str) -> dict:
    read = APIClient().get(f"/api/v1/adhoc-sessions/{token}")
    assert read.status_code == 200, read.content
    return read.json()


def start_as_guest(page, code: str, *, card: str = "tok_visa", promotion_code: str = "") -> None:
    page.goto(f"/c/{code}")
    page.get_by_test_id("guest-email").fill("guest@example.com")
    page.get_by_test_id("card-token").select_option(card)
    if promotion_code:
        page.get_by_test_id("promotion-code").fill(promotion_code)
    page.get_by_test_id("start-button").click()


def charging_for(minutes: int) -> None:
    """Moves the session's start back: a charger cannot deliver kWh in the seconds a test takes."""
    session = ChargingSession.objects.get()
    ChargingSession.objects.filter(id=session.id).update(started_at=session.started_at - timedelta(minutes=minutes))


class OnlineCharger:
    """The OCPP gateway as reservations sees it: the charger is online; remote starts and stops are sent to it."""

    def __init__(self, charger_id: uuid.UUID):
        self.charger_id = charger_id
        self.started: list[uuid.UUID] = []
        self.stopped: list[uuid.UUID] = []

    def links(self, charger_ids):
        return {}

    def is_online(self, charger_id):
        return charger_id == self.charger_id

    def remote_start(self, *, session_id, charger_id, connector_number, id_tag, requested_by):
        self.started.append(session_id)
        return uuid.uuid4()

    def remote_stop(self, *, session_id, requested_by):
        self.stopped.append(session_id)
        return uuid.uuid4()


@pytest.fixture
def online_charger(network, monkeypatch) -> OnlineCharger:
    """The live server runs in this process: the charger is online over OCPP for its requests too."""
    charger = OnlineCharger(uuid.UUID(network.charger["id"]))
    monkeypatch.setattr(chargepoints._slot, "_implementation", charger)
    return charger


def test_on_an_ocpp_charger_the_open_page_follows_the_charger_from_waiting_to_the_receipt(
    phone, network, online_charger
):
    page = phone.page
    start_as_guest(page, network.code)
    expect(page).to_have_url(URL_SESSION)
    token = URL_SESSION.match(page.url)[1]
    expect(page.get_by_test_id("session-status")).to_have_text("Waiting for the charger")
    expect(page.get_by_test_id("waiting-for-charger")).to_be_visible()
    expect(page.get_by_test_id("stop-button")).to_have_count(0)  # nothing to stop yet
    session = ChargingSession.objects.get()
    assert online_charger.started == [session.id]
    phone.shot("waiting-for-the-charger")

    facade = reservations_contract.facade()
    with transaction.atomic():  # the charger's StartTransaction, while the page is open
        facade.session_start_from_charger(
            ChargerStart(
                connector_id=uuid.UUID(network.connector["id"]),
                user_id=session.user_id,
                meter_start_wh=200_000,
                started_at=datetime.now(UTC),
            )
        )
    charging_for(20)
    expect(page.get_by_test_id("session-status")).to_have_text("Charging")  # the page reloaded by itself
    expect(page.get_by_test_id("waiting-for-charger")).to_have_count(0)
    expect(page.get_by_test_id("elapsed")).to_have_text(re.compile(r"^20:\d\d$"))
    phone.shot("charging")

    page.get_by_test_id("stop-button").click()  # no meter value on the server's side: a remote stop
    expect(page.get_by_test_id("session-status")).to_have_text("Stopping…")
    expect(page.get_by_test_id("stop-button")).to_have_count(0)
    assert online_charger.stopped == [session.id]
    phone.shot("stopping")

    with transaction.atomic():  # the charger's StopTransaction with its meter
        facade.session_stop_from_charger(session_id=session.id, meter_stop_wh=207_000, stopped_at=datetime.now(UTC))
    expect(page.get_by_test_id("receipt-total")).to_have_attribute("data-final", "1")  # again by itself
    expect(page.get_by_test_id("session-status")).to_have_text("Finished")
    receipt = session_api(token)["receipt"]
    assert receipt["total_amount"] in {39 * 7 + 2 * minutes + 50 for minutes in (20, 21)}  # 7 kWh, 20 min, the fee
    expect(page.get_by_test_id("receipt-total")).to_have_text(euros(receipt["total_amount"]))
    expect(page.get_by_test_id("energy-kwh")).to_have_text("7.000")
    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-status", "partially_captured")
    assert TestGateway.calls("capture")[0].amount == receipt["total_amount"]
    phone.shot("receipt")


def test_when_the_charger_refuses_the_remote_start_the_open_page_says_nothing_was_charged(
    phone, network, online_charger
):
    page = phone.page
    start_as_guest(page, network.code)
    expect(page.get_by_test_id("waiting-for-charger")).to_be_visible()
    session = ChargingSession.objects.get()
    with transaction.atomic():  # the charger answers the RemoteStartTransaction with Rejected
        reservations_contract.facade().session_cancel_pending(session_id=session.id, reason="remote start rejected")
    expect(page.get_by_test_id("session-status")).to_have_text("Not started")  # by itself
    expect(page.get_by_text("nothing is charged and the amount held on your card is released")).to_be_visible()
    expect(page.get_by_test_id("stop-button")).to_have_count(0)
    phone.shot("not-started")
    [authorization] = TestGateway.calls("authorize")
    assert [void.amount for void in TestGateway.calls("void")] == [authorization.amount]
    assert TestGateway.calls("capture") == []


def test_a_start_the_charger_has_not_confirmed_is_cancelled_from_the_open_page(phone, network, online_charger):
    page = phone.page
    start_as_guest(page, network.code)
    expect(page.get_by_test_id("waiting-for-charger")).to_be_visible()
    phone.shot("waiting-with-cancel")
    page.get_by_test_id("cancel-button").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Not started")
    expect(page.get_by_test_id("cancel-reason")).to_have_text("You cancelled the start.")
    expect(page.get_by_test_id("cancel-button")).to_have_count(0)
    phone.shot("cancelled-by-the-driver")
    assert ChargingSession.objects.get().status == "cancelled"
    [authorization] = TestGateway.calls("authorize")
    assert [void.amount for void in TestGateway.calls("void")] == [authorization.amount]
    assert TestGateway.calls("capture") == []


def test_a_german_phone_sees_the_live_figures_and_the_receipt_the_german_way(phone_for, network):
    phone = phone_for("de-DE")
    page = phone.page
    start_as_guest(page, network.code)
    expect(page).to_have_url(URL_SESSION)
    token = URL_SESSION.match(page.url)[1]
    expect(page.get_by_test_id("session-status")).to_have_text("Lädt")
    expect(page.get_by_test_id("stop-button")).to_have_text("Laden beenden")
    charging_for(30)
    network.report_meter(126_500)  # written by the page's script, not the server: "6,500", "2,99 €"
    expect(page.get_by_test_id("energy-kwh")).to_have_text("6,500")
    expect(page.get_by_test_id("cost-so-far")).to_have_text(euros(session_api(token)["cost_so_far"], "de"))
    phone.shot("charging-de")

    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("receipt-total")).to_have_attribute("data-final", "1")
    expect(page.get_by_test_id("session-status")).to_have_text("Beendet")
    receipt = session_api(token)["receipt"]
    expect(page.get_by_test_id("receipt-total")).to_have_text(euros(receipt["total_amount"], "de"))
    expect(page.get_by_test_id("receipt-discount")).to_have_text(f"{MINUS}0,00 €")
    expect(page.get_by_test_id("receipt-lines")).to_contain_text("Rabatt")
    expect(page.get_by_test_id("payment-status")).to_have_text("Ihrer Karte belastet, der Rest freigegeben")
    expect(page.get_by_test_id("print-button")).to_have_text("Beleg drucken")
    phone.shot("receipt-de")


def test_a_german_receipt_names_its_lines_in_german(phone_for, network):
    phone = phone_for("de-DE")
    page = phone.page
    start_as_guest(page, network.code)
    expect(page.get_by_test_id("stop-button")).to_be_visible()
    network.report_meter(121_000)  # 1 kWh within seconds: the meter's tolerance, so billed
    expect(page.get_by_test_id("energy-kwh")).to_have_text("1,000")
    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("receipt-total")).to_have_attribute("data-final", "1")
    phone.shot("receipt-de")
    lines = page.get_by_test_id("receipt-lines")
    expect(lines).not_to_contain_text("Energy", timeout=2_000)  # "Energy 1.000 kWh", "Session fee" until now
    expect(lines).to_contain_text("1,000 kWh", timeout=2_000)
    expect(lines).not_to_contain_text("Session fee", timeout=2_000)


def test_a_promotion_code_typed_at_the_start_is_taken_off_the_receipt_which_prints(phone, network, operator_client):
    created = operator_client.post(
        "/api/v1/pricing/promotions",
        {"code": "TEN", "kind": "percent", "value": 10, "currency": "EUR", "max_redemptions": 5},
        format="json",
    )
    assert created.status_code == 201, created.content
    page = phone.page
    page.add_init_script("window.printed = 0; window.print = () => { window.printed += 1; };")
    start_as_guest(page, network.code, promotion_code="TEN")
    expect(page).to_have_url(URL_SESSION)
    token = URL_SESSION.match(page.url)[1]
    charging_for(30)
    network.report_meter(130_000)
    expect(page.get_by_test_id("energy-kwh")).to_have_text("10.000")
    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("receipt-total")).to_have_attribute("data-final", "1")

    receipt = session_api(token)["receipt"]
    subtotal = receipt["subtotal_amount"]
    assert subtotal in {39 * 10 + 2 * minutes + 50 for minutes in (30, 31)}
    assert receipt["discount_amount"] == round(subtotal / 10) and receipt["promotion_code"] == "TEN"
    expect(page.get_by_test_id("receipt-discount")).to_have_text(f"{MINUS}{euros(receipt['discount_amount'])}")
    expect(page.get_by_test_id("receipt-lines")).to_contain_text("Discount (TEN)")
    expect(page.get_by_test_id("receipt-total")).to_have_text(euros(subtotal - receipt["discount_amount"]))
    [capture] = TestGateway.calls("capture")
    assert capture.amount == subtotal - receipt["discount_amount"]
    phone.shot("receipt-with-discount")

    page.get_by_test_id("print-button").click()
    assert page.evaluate("window.printed") == 1


def test_a_promotion_code_that_does_not_apply_is_refused_before_any_card_is_held(phone, network):
    page = phone.page
    start_as_guest(page, network.code, promotion_code="NOSUCHCODE")
    expect(page.get_by_test_id("error-message")).to_have_text(
        "The promotion code NOSUCHCODE cannot be used: it does not exist. Nothing was charged."
    )
    expect(page.get_by_test_id("promotion-code")).to_have_value("NOSUCHCODE")  # the form kept, to correct it
    expect(page.get_by_test_id("guest-email")).to_have_value("guest@example.com")
    phone.shot("promotion-code-refused")
    assert TestGateway.calls("authorize") == [] and not ChargingSession.objects.exists()


def test_an_open_connector_page_withdraws_the_start_when_the_connector_goes_out_of_service(
    phone, network, operator_client
):
    page = phone.page
    page.clock.install()  # the page checks the connector every 10 s: the test moves its clock instead of waiting
    page.goto(f"/c/{network.code}")
    expect(page.get_by_test_id("start-button")).to_be_visible()
    phone.shot("available")
    faulted = operator_client.put(
        f"/api/v1/connectors/{network.connector['id']}/status", {"status": "Faulted"}, format="json"
    )
    assert faulted.status_code == 200, faulted.content
    page.clock.run_for(11_000)
    expect(page.get_by_test_id("connector-status")).to_have_text("Faulted")
    expect(page.get_by_test_id("cannot-start")).to_have_text("This connector is out of service.")
    expect(page.get_by_test_id("start-button")).to_have_count(0)
    phone.shot("out-of-service")


def test_a_payment_service_that_does_not_answer_says_so_keeps_the_form_and_starts_nothing(phone, network):
    page = phone.page
    start_as_guest(page, network.code, card="tok_error")
    expect(page.get_by_test_id("error-message")).to_contain_text("The payment service is not answering")
    expect(page.get_by_test_id("error-message")).to_contain_text("Nothing was charged")
    expect(page.get_by_test_id("guest-email")).to_have_value("guest@example.com")  # no retyping to try again
    expect(page.get_by_test_id("start-button")).to_be_visible()
    phone.shot("payment-service-down")
    assert not ChargingSession.objects.exists()
    assert TestGateway.calls("capture") == []


def test_a_session_link_that_opens_nothing_says_so(phone, network):
    response = phone.page.goto("/s/" + "x" * 43)
    assert response.status == 404
    expect(phone.page.locator("h1")).to_have_text("This link opens no session")
    phone.shot("unknown-session-link")
