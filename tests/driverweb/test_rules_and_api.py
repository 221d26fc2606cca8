"""The driver pages' rules beyond the happy path (a faulted, busy or offline connector offers no start; a charger
online over OCPP starts and stops remotely; a signed-in driver's session is theirs whichever card pays; limits per
client address behind the ingress; CSRF on every form) and the same flow through the API
(/api/v1/adhoc-connectors, /api/v1/adhoc-sessions), problem+json on every refusal."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.test import Client

from apps.billing.gateways import TestGateway
from apps.billing.models import PaymentHold
from apps.driverweb.models import WebCheckout
from apps.reservations.models import ChargingSession
from evcharge.contracts import chargepoints
from evcharge.contracts import reservations as reservations_contract
from evcharge.contracts.reservations import ChargerStart
from evcharge.contracts.telemetry import ChargerHealthChanged
from evcharge.events import publish
from tests.driverweb.test_pages import session_token, shown, start_as_guest, start_form


def charging_for(session_id, minutes: int) -> None:
    """Moves the session's start back: a charger cannot deliver kWh in the milliseconds a test takes."""
    session = ChargingSession.objects.get(id=session_id)
    ChargingSession.objects.filter(id=session_id).update(started_at=session.started_at - timedelta(minutes=minutes))


def guest_body(network, **overrides) -> dict:
    return {
        "connector_code": network.code,
        "checkout_key": uuid.uuid4().hex,
        "email": "guest@example.com",
        "card_token": "tok_visa",
        **overrides,
    }


def set_status(operator_client, network, status: str) -> None:
    response = operator_client.put(
        f"/api/v1/connectors/{network.connector['id']}/status", {"status": status}, format="json"
    )
    assert response.status_code == 200, response.content


# --- what the connector's page offers ----------------------------------------------------------------


def test_a_faulted_connector_says_so_and_offers_no_start(network, operator_client, anon):
    set_status(operator_client, network, "Faulted")
    html = Client().get(f"/c/{network.code}").content.decode()
    assert shown(html, "connector-status") == "Faulted"
    assert shown(html, "cannot-start") == "This connector is out of service."
    assert 'data-testid="start-form"' not in html and 'data-testid="start-button"' not in html
    assert shown(html, "price-per-kwh") == "€0.39 / kWh"  # the price is still shown

    form = {"checkout_key": uuid.uuid4().hex, "email": "a@example.com", "card_token": "tok_visa"}
    refused = Client().post(f"/c/{network.code}/start", form)  # a page loaded before the fault, say
    assert refused.status_code == 409
    assert TestGateway.calls("authorize") == [] and not ChargingSession.objects.exists()

    offer = anon.get(f"/api/v1/adhoc-connectors/{network.code}").json()
    assert (offer["status"], offer["can_start"], offer["refusal"]) == ("Faulted", False, "out_of_service")


def test_a_connector_whose_charger_is_offline_offers_no_start(network, anon):
    with transaction.atomic():
        publish(
            ChargerHealthChanged(
                charger_id=uuid.UUID(network.charger["id"]),
                station_id=uuid.UUID(network.station["id"]),
                old_health="online",
                new_health="offline",
                reason="no heartbeat",
                changed_at=datetime.now(UTC),
            )
        )
    html = Client().get(f"/c/{network.code}").content.decode()
    assert shown(html, "connector-status") == "Unavailable"
    assert shown(html, "cannot-start") == "This connector is out of service."
    assert 'data-testid="start-button"' not in html
    refused = anon.post("/api/v1/adhoc-sessions", guest_body(network), format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "connector_out_of_service"
    assert TestGateway.calls("authorize") == []


def test_a_connector_with_a_running_session_offers_no_start_even_before_its_status_changes(
    network, driver, driver_client, anon
):
    started = driver_client.post("/api/v1/sessions", {"connector_id": network.connector["id"]}, format="json")
    assert started.status_code == 201, started.content
    offer = anon.get(f"/api/v1/adhoc-connectors/{network.code}").json()
    assert (offer["can_start"], offer["refusal"]) == (False, "busy")
    assert 'data-testid="start-button"' not in Client().get(f"/c/{network.code}").content.decode()


# --- a charger online over OCPP ----------------------------------------------------------------------


class FakeChargepoints:
    """The OCPP gateway as reservations sees it: the charger is online, remote starts and stops are sent."""

    def __init__(self, charger_id: uuid.UUID):
        self.online = {charger_id}
        self.started: list[uuid.UUID] = []
        self.stopped: list[uuid.UUID] = []

    def links(self, charger_ids):
        return {}

    def is_online(self, charger_id):
        return charger_id in self.online

    def remote_start(self, *, session_id, charger_id, connector_number, id_tag, requested_by):
        self.started.append(session_id)
        return uuid.uuid4()

    def remote_stop(self, *, session_id, requested_by):
        self.stopped.append(session_id)
        return uuid.uuid4()


@pytest.fixture
def ocpp(network, monkeypatch) -> FakeChargepoints:
    fake = FakeChargepoints(uuid.UUID(network.charger["id"]))
    monkeypatch.setattr(chargepoints._slot, "_implementation", fake)
    return fake


def test_on_an_ocpp_charger_the_page_waits_for_the_remote_start_and_the_stop_is_a_remote_stop(network, ocpp, anon):
    client = Client()
    token = session_token(start_as_guest(client, network.code))
    checkout = WebCheckout.objects.get()
    assert ocpp.started == [checkout.session_id]
    page = client.get(f"/s/{token}").content.decode()
    assert shown(page, "session-status") == "Waiting for the charger"
    assert 'data-testid="waiting-for-charger"' in page and 'data-testid="stop-button"' not in page
    assert anon.get(f"/api/v1/adhoc-sessions/{token}").json()["status"] == "pending"

    facade = reservations_contract.facade()
    with transaction.atomic():  # the charger's StartTransaction
        facade.session_start_from_charger(
            ChargerStart(
                connector_id=checkout_connector_id(network),
                user_id=checkout.user_id,
                meter_start_wh=200_000,
                started_at=datetime.now(UTC),
            )
        )
    charging_for(checkout.session_id, 30)
    page = client.get(f"/s/{token}").content.decode()
    assert shown(page, "session-status") == "Charging" and 'data-testid="stop-button"' in page

    assert client.post(f"/s/{token}/stop").status_code == 302  # no meter value: a remote stop
    assert ocpp.stopped == [checkout.session_id]
    page = client.get(f"/s/{token}").content.decode()
    assert shown(page, "session-status") == "Stopping…" and 'data-testid="stop-button"' not in page
    assert anon.get(f"/api/v1/adhoc-sessions/{token}").json()["stop_requested"] is True

    with transaction.atomic():  # the charger's StopTransaction with its meter
        facade.session_stop_from_charger(
            session_id=checkout.session_id, meter_stop_wh=208_000, stopped_at=datetime.now(UTC)
        )
    page = client.get(f"/s/{token}").content.decode()
    total = 39 * 8 + 2 * 30 + 50  # 8 kWh, 30 minutes, the session fee
    assert shown(page, "receipt-total") == f"€{total / 100:.2f}"
    assert TestGateway.calls("capture")[0].amount == total


def checkout_connector_id(network) -> uuid.UUID:
    return uuid.UUID(network.connector["id"])


# --- signed-in drivers --------------------------------------------------------------------------------


def signed_in(driver) -> Client:
    driver.set_password("a-long-driver-password")
    driver.save()
    browser = Client()
    assert browser.post("/login", {"email": driver.email, "password": "a-long-driver-password"}).status_code == 302
    return browser


def test_a_signed_in_driver_paying_with_another_card_charges_as_themselves(network, driver):
    browser = signed_in(driver)
    page = browser.get(f"/c/{network.code}").content.decode()
    assert f'value="{driver.email}" data-testid="guest-email"' in page  # their address, filled in
    form = {**start_form(browser, network.code), "email": driver.email, "card_token": "tok_visa"}
    session_token(browser.post(f"/c/{network.code}/start", form))
    checkout = WebCheckout.objects.get()
    assert (checkout.kind, checkout.user_id) == ("driver", driver.id)
    assert ChargingSession.objects.get().user_id == driver.id
    assert browser.get("/me/sessions").content.decode().count('data-testid="session-row"') == 1


def test_one_tap_without_a_saved_card_says_so_and_holds_nothing(network, driver):
    browser = signed_in(driver)
    response = browser.post(f"/c/{network.code}/start", {**start_form(browser, network.code), "one_tap": "1"})
    assert response.status_code == 400
    assert "no saved card" in shown(response.content.decode(), "error-message")
    assert TestGateway.calls("authorize") == [] and not ChargingSession.objects.exists()


def test_a_guest_cannot_sign_in_and_a_wrong_password_is_refused(network):
    start_as_guest(Client(), network.code)
    guest = WebCheckout.objects.get()
    from django.contrib.auth import get_user_model

    guest_email = get_user_model().objects.get(id=guest.user_id).email
    assert Client().post("/login", {"email": guest_email, "password": ""}).status_code == 401


# --- CSRF and limits ------------------------------------------------------------------------------------


def test_the_stop_and_sign_in_forms_need_the_csrf_token(network, driver):
    token = session_token(start_as_guest(Client(), network.code))
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/s/{token}/stop").status_code == 403
    assert ChargingSession.objects.get().status == "active"
    driver.set_password("a-long-driver-password")
    driver.save()
    assert strict.post("/login", {"email": driver.email, "password": "a-long-driver-password"}).status_code == 403

    page = strict.get(f"/s/{token}").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert strict.post(f"/s/{token}/stop", {"csrfmiddlewaretoken": csrf}).status_code == 302
    assert ChargingSession.objects.get().status == "completed"


def test_limits_count_per_client_behind_the_trusted_proxy_not_per_proxy(network, settings):
    settings.DRIVERWEB_STARTS_PER_IP_HOUR = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    ingress = "10.9.9.9"

    def start_from(client_address: str, card: str = "tok_declined"):
        client = Client(REMOTE_ADDR=ingress, HTTP_X_FORWARDED_FOR=client_address)
        return start_as_guest(client, network.code, card=card)

    assert start_from("203.0.113.1").status_code == 422
    assert start_from("203.0.113.2").status_code == 422  # another phone behind the same ingress
    assert start_from("203.0.113.1").status_code == 429


def test_a_forged_forwarded_for_header_does_not_reset_the_limit(network, settings):
    settings.DRIVERWEB_STARTS_PER_IP_HOUR = 1
    assert (
        start_as_guest(Client(HTTP_X_FORWARDED_FOR="198.51.100.1"), network.code, card="tok_declined").status_code
        == 422
    )
    again = start_as_guest(Client(HTTP_X_FORWARDED_FOR="198.51.100.2"), network.code, card="tok_declined")
    assert again.status_code == 429


# --- the API --------------------------------------------------------------------------------------------


def test_the_api_offers_what_the_connector_page_shows(network, anon):
    offer = anon.get(f"/api/v1/adhoc-connectors/{network.code.lower()}")
    assert offer.status_code == 200, offer.content
    body = offer.json()
    quote = anon.get(
        "/api/v1/pricing/quote", {"station_id": network.station["id"], "connector_type": "CCS2", "kWh": 20}
    ).json()
    assert (body["station_name"], body["station_address"], body["type"]) == (
        "Harbour Hub",
        "Hafenstraße 1, Berlin",
        "CCS2",
    )
    assert [(c["key"], c["amount"], c["unit"]) for c in body["price_components"]] == [
        ("per_kwh", 39, "kWh"),
        ("per_minute", 2, "min"),
        ("session_fee", 50, "session"),
        ("idle_fee", 10, "min"),
    ]
    assert (body["example_energy_wh"], body["example_total"]) == (20_000, quote["estimated_total"])
    assert (body["currency"], body["idle_grace_min"], body["can_start"], body["refusal"]) == ("EUR", 15, True, "")
    unknown = anon.get("/api/v1/adhoc-connectors/NOSUCH99")
    assert unknown.status_code == 404 and unknown["Content-Type"].startswith("application/problem+json")


def test_the_api_starts_reads_and_stops_a_guest_session_with_its_receipt(network, anon):
    started = anon.post("/api/v1/adhoc-sessions", guest_body(network), format="json")
    assert started.status_code == 201, started.content
    body = started.json()
    token = body["session_token"]
    assert body["session_url"].endswith(f"/s/{token}")
    assert (body["session"]["status"], body["session"]["receipt"]) == ("active", None)
    checkout = WebCheckout.objects.get()
    assert PaymentHold.objects.get(id=checkout.hold_id).session_id == checkout.session_id

    charging_for(checkout.session_id, 30)
    network.report_meter(125_000)
    live = anon.get(f"/api/v1/adhoc-sessions/{token}").json()
    assert (live["energy_wh"], live["connector_code"]) == (5_000, network.code)

    stopped = anon.post(f"/api/v1/adhoc-sessions/{token}/stop", {}, format="json")
    assert stopped.status_code == 200, stopped.content
    receipt = stopped.json()["receipt"]
    assert (stopped.json()["status"], stopped.json()["energy_wh"]) == ("completed", 5_000)
    total = 39 * 5 + 2 * 30 + 50
    assert receipt["total_amount"] == total and receipt["hold"]["captured_amount"] == total
    again = anon.post(f"/api/v1/adhoc-sessions/{token}/stop", {}, format="json")
    assert again.status_code == 409 and again["Content-Type"].startswith("application/problem+json")
    assert anon.get(f"/api/v1/adhoc-sessions/{uuid.uuid4().hex}").status_code == 404


def test_the_api_refuses_with_problem_json_and_starts_nothing(network, anon, settings):
    declined = anon.post("/api/v1/adhoc-sessions", guest_body(network, card_token="tok_declined"), format="json")
    assert declined.status_code == 422 and declined.json()["code"] == "card_declined"
    assert declined["Content-Type"].startswith("application/problem+json")
    failing = anon.post("/api/v1/adhoc-sessions", guest_body(network, card_token="tok_error"), format="json")
    assert failing.status_code == 502
    no_email = anon.post("/api/v1/adhoc-sessions", guest_body(network, email=""), format="json")
    assert no_email.status_code == 400 and "email" in no_email.json()["errors"]
    bad_email = anon.post("/api/v1/adhoc-sessions", guest_body(network, email="not an address"), format="json")
    assert bad_email.status_code == 400
    unknown = anon.post("/api/v1/adhoc-sessions", guest_body(network, connector_code="NOSUCH99"), format="json")
    assert unknown.status_code == 404
    assert not ChargingSession.objects.exists() and not WebCheckout.objects.exists()

    assert anon.post("/api/v1/adhoc-sessions", guest_body(network), format="json").status_code == 201
    busy = anon.post("/api/v1/adhoc-sessions", guest_body(network, email="late@example.com"), format="json")
    assert busy.status_code == 409 and busy.json()["code"] == "connector_busy"

    settings.DRIVERWEB_PAYMENTS_PER_CARD_HOUR = 1
    limited = anon.post("/api/v1/adhoc-sessions", guest_body(network, card_token="tok_other"), format="json")
    limited = anon.post("/api/v1/adhoc-sessions", guest_body(network, card_token="tok_other"), format="json")
    assert limited.status_code == 429 and limited.json()["code"] == "payment_card_rate_limited"


def test_a_checkout_key_reused_by_another_payer_never_opens_the_first_ones_session(network, anon):
    key = "12345678"  # a weak key an API client might choose
    first = anon.post("/api/v1/adhoc-sessions", guest_body(network, checkout_key=key), format="json")
    assert first.status_code == 201
    same = anon.post("/api/v1/adhoc-sessions", guest_body(network, checkout_key=key), format="json")
    assert same.json()["session_token"] == first.json()["session_token"]  # the same request again: one checkout
    other = anon.post(
        "/api/v1/adhoc-sessions", guest_body(network, checkout_key=key, email="someone@example.com"), format="json"
    )
    assert other.status_code == 409  # its own checkout, refused: the connector is busy
    assert "session_token" not in other.json()
    assert WebCheckout.objects.count() == 1 and PaymentHold.objects.filter(status="authorized").count() == 1


def test_a_driver_with_a_bearer_token_starts_with_the_saved_card_through_the_api(network, driver, driver_client):
    assert (
        driver_client.post("/api/v1/billing/payment-methods", {"token": "tok_visa"}, format="json").status_code == 201
    )
    started = driver_client.post(
        "/api/v1/adhoc-sessions",
        {"connector_code": network.code, "checkout_key": uuid.uuid4().hex},
        format="json",
    )
    assert started.status_code == 201, started.content
    session_id = started.json()["session"]["session_id"]
    assert driver_client.get(f"/api/v1/sessions/{session_id}").json()["status"] == "active"
    assert PaymentHold.objects.get().card_label == "Visa ending 4242"
    assert WebCheckout.objects.get().kind == "driver"


def test_a_promotion_code_that_cannot_apply_is_refused_before_any_card_is_held(network, anon, operator_client):
    unknown = anon.post("/api/v1/adhoc-sessions", guest_body(network, promotion_code="NOSUCHCODE"), format="json")
    assert unknown.status_code == 422, unknown.content
    assert unknown["Content-Type"].startswith("application/problem+json")
    body = unknown.json()
    assert body["code"] == "promotion_refused" and "NOSUCHCODE" in body["detail"]
    assert body["errors"] == {"promotion_code": ["This promotion code does not exist."]}
    assert TestGateway.calls("authorize") == [] and not ChargingSession.objects.exists()
    assert not WebCheckout.objects.exists()

    created = operator_client.post(
        "/api/v1/pricing/promotions",
        {"code": "BIGSPEND", "kind": "fixed", "value": 100, "currency": "EUR", "min_amount": 1_000_000},
        format="json",
    )
    assert created.status_code == 201, created.content
    waits = anon.post("/api/v1/adhoc-sessions", guest_body(network, promotion_code="BIGSPEND"), format="json")
    assert waits.status_code == 201, waits.content  # a minimum amount is decided on the real total, at the invoice


def test_the_page_names_a_refused_promotion_code_in_german_and_keeps_the_form(network):
    page = Client(HTTP_ACCEPT_LANGUAGE="de")
    response = page.post(
        f"/c/{network.code}/start",
        {
            **start_form(page, network.code),
            "email": "gast@example.com",
            "card_token": "tok_visa",
            "promotion_code": "NOSUCHCODE",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert shown(html, "error-message") == (
        "Der Aktionscode NOSUCHCODE kann nicht verwendet werden: es gibt ihn nicht. Es wurde nichts belastet."
    )
    assert 'value="gast@example.com"' in html and 'value="NOSUCHCODE"' in html  # nothing to type again
    assert TestGateway.calls("authorize") == [] and not ChargingSession.objects.exists()


# --- withdrawing a start the charger has not confirmed ----------------------------------------------------


def test_a_start_the_charger_has_not_confirmed_can_be_cancelled_and_the_hold_is_released(network, ocpp, anon):
    from apps.identity.models import IdTag
    from evcharge.contracts import identity as identity_contract

    client = Client()
    token = session_token(start_as_guest(client, network.code))
    checkout = WebCheckout.objects.get()
    page = client.get(f"/s/{token}").content.decode()
    assert shown(page, "session-status") == "Waiting for the charger" and 'data-testid="cancel-button"' in page
    [tag] = IdTag.objects.filter(user_id=checkout.user_id)  # the one the remote start carried

    assert client.post(f"/s/{token}/cancel").status_code == 302
    page = client.get(f"/s/{token}").content.decode()
    assert shown(page, "session-status") == "Not started" and shown(page, "cancel-reason") == "You cancelled the start."
    assert 'data-testid="cancel-button"' not in page and 'data-testid="stop-button"' not in page
    assert ChargingSession.objects.get(id=checkout.session_id).status == "cancelled"
    [authorization] = TestGateway.calls("authorize")
    assert [void.amount for void in TestGateway.calls("void")] == [authorization.amount]
    assert TestGateway.calls("capture") == [] and PaymentHold.objects.get().status == "voided"
    # the charger accepted the remote start: a StartTransaction it sends late with the guest's tag starts nothing
    assert identity_contract.facade().authorize_id_tag(tag.tag).status == "Blocked"

    again = anon.post(f"/api/v1/adhoc-sessions/{token}/cancel")  # a second tap, or the API: the same answer
    assert again.status_code == 200, again.content
    assert again.json()["status"] == "cancelled"
    assert len(TestGateway.calls("void")) == 1
    german = Client(HTTP_ACCEPT_LANGUAGE="de").get(f"/s/{token}").content.decode()
    assert shown(german, "cancel-reason") == "Sie haben den Start abgebrochen."


def test_a_start_the_charger_has_confirmed_is_not_cancelled_but_stopped(network, ocpp, anon):
    client = Client()
    token = session_token(start_as_guest(client, network.code))
    checkout = WebCheckout.objects.get()
    with transaction.atomic():  # the charger's StartTransaction came first
        reservations_contract.facade().session_start_from_charger(
            ChargerStart(
                connector_id=checkout_connector_id(network),
                user_id=checkout.user_id,
                meter_start_wh=200_000,
                started_at=datetime.now(UTC),
            )
        )
    refused = anon.post(f"/api/v1/adhoc-sessions/{token}/cancel")
    assert refused.status_code == 409, refused.content
    assert refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["code"] == "session_not_pending"
    assert client.post(f"/s/{token}/cancel").status_code == 302  # the page: back to the session, charging
    page = client.get(f"/s/{token}").content.decode()
    assert shown(page, "session-status") == "Charging" and 'data-testid="stop-button"' in page
    assert ChargingSession.objects.get(id=checkout.session_id).status == "active"
    assert PaymentHold.objects.get().status == "authorized" and TestGateway.calls("void") == []


def test_a_signed_in_drivers_tags_are_not_blocked_by_a_cancelled_start(network, ocpp):
    from apps.identity import services as identity_services
    from apps.identity.models import IdTag, User

    driver = User.objects.create_user(email="driver@example.com", password="a long password 1")
    tag = IdTag.objects.create(user_id=driver.id, tag="RFID0001")
    assert identity_services.guest_driver_retire(user_id=driver.id) == 0
    tag.refresh_from_db()
    assert tag.status == IdTag.Status.ACCEPTED
