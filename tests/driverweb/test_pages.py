"""The pages behind a connector's QR code, as a phone's browser uses them (Django's test client, PostgreSQL in CI):
the price as the quote computes it, a guest's start paid by a real card hold, the charging page, the stop without
a meter value, the receipt with the captured payment (and its e-mail, once), a signed-in driver's one tap and
history; and what must be refused."""

import re
import uuid
from datetime import timedelta

from django.core import mail
from django.test import Client

from apps.billing.gateways import TestGateway
from apps.billing.models import PaymentHold
from apps.driverweb.models import WebCheckout
from apps.reservations.models import ChargingSession


def shown(html: str, name: str) -> str:
    """The text of the element with data-testid=name (tags inside it removed, whitespace collapsed)."""
    closing = "(?:td|span|strong|h1|p|div|section|select|table|button)"
    match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</{closing}>', html, re.S)
    assert match, f"no {name} in the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def start_form(client: Client, code: str) -> dict:
    page = client.get(f"/c/{code}").content.decode()
    key = re.search(r'name="checkout_key" value="([0-9a-f]+)"', page).group(1)
    return {"checkout_key": key}


def start_as_guest(client: Client, code: str, *, card: str = "tok_visa", promotion_code: str = ""):
    form = {**start_form(client, code), "email": "guest@example.com", "card_token": card}
    if promotion_code:
        form["promotion_code"] = promotion_code
    return client.post(f"/c/{code}/start", form)


def session_token(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].rsplit("/", 1)[-1]


def test_the_connector_page_shows_the_station_and_the_quotes_price(network, anon):
    html = Client().get(f"/c/{network.code}").content.decode()
    quote = anon.get(
        "/api/v1/pricing/quote",
        {"station_id": network.station["id"], "connector_type": "CCS2", "kWh": 20},
    ).json()
    assert shown(html, "station-name") == "Harbour Hub"
    assert "Hafenstraße 1, Berlin" in html and "CCS2" in html and network.code in html
    assert shown(html, "connector-status") == "Available"
    assert shown(html, "price-per-kwh") == "€0.39 / kWh"
    assert shown(html, "price-per-minute") == "€0.02 / min"
    assert shown(html, "price-session-fee") == "€0.50"
    assert shown(html, "price-idle-fee") == "€0.10 / min"
    assert "after 15 minutes of not charging" in html
    assert quote["estimated_total"] == 39 * 20 + 50
    assert shown(html, "price-example-total") == "€8.30"
    # the components in the order the EU rule names them: per kWh, per minute, per session, other
    order = [html.index(f'data-testid="price-{key}"') for key in ("per-kwh", "per-minute", "session-fee", "idle-fee")]
    assert order == sorted(order)
    assert 'data-testid="start-button"' in html


def test_an_unknown_code_gets_a_friendly_404_page():
    response = Client().get("/c/NOSUCH99")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="not-found"' in html and "NOSUCH99" in html


def test_a_guest_starts_with_a_card_hold_and_lands_on_the_charging_page(network):
    client = Client()
    token = session_token(start_as_guest(client, network.code))

    checkout = WebCheckout.objects.get()
    assert (checkout.kind, checkout.email, checkout.connector_code) == ("guest", "guest@example.com", network.code)
    assert token not in checkout.token_sha256  # only its digest is stored
    session = ChargingSession.objects.get(id=checkout.session_id)
    assert (session.status, session.meter_start_wh) == ("active", 120_000)
    hold = PaymentHold.objects.get(id=checkout.hold_id)
    assert (hold.status, hold.amount, hold.session_id) == ("authorized", 5000, session.id)
    [authorization] = TestGateway.calls("authorize")
    assert (authorization.amount, authorization.currency) == (5000, "EUR")

    page = client.get(f"/s/{token}").content.decode()
    assert shown(page, "session-status") == "Charging"
    assert shown(page, "energy-kwh") == "0.000"
    assert 'data-testid="stop-button"' in page
    busy = Client().get(f"/c/{network.code}").content.decode()
    assert shown(busy, "connector-status") == "Charging"
    assert 'data-testid="start-button"' not in busy and 'data-testid="cannot-start"' in busy


def test_a_declined_card_says_why_and_starts_nothing(network):
    response = start_as_guest(Client(), network.code, card="tok_declined")
    assert response.status_code == 422
    assert "declined" in shown(response.content.decode(), "error-message")
    assert not ChargingSession.objects.exists() and not WebCheckout.objects.exists()
    assert PaymentHold.objects.get().status == "declined"


def test_a_failing_gateway_says_so_and_starts_nothing(network):
    response = start_as_guest(Client(), network.code, card="tok_error")
    assert response.status_code == 502
    assert "not answering" in shown(response.content.decode(), "error-message")
    assert not ChargingSession.objects.exists()


def test_a_start_on_a_busy_connector_is_refused_before_any_card_is_held(network):
    start_as_guest(Client(), network.code)
    form = {"checkout_key": uuid.uuid4().hex, "email": "late@example.com", "card_token": "tok_visa"}
    response = Client().post(f"/c/{network.code}/start", form)  # a page loaded before the first start, say
    assert response.status_code == 409
    assert "in use" in shown(response.content.decode(), "error-message")
    assert WebCheckout.objects.count() == 1 and ChargingSession.objects.count() == 1
    assert len(TestGateway.calls("authorize")) == 1  # the first guest's only


def test_a_session_that_cannot_start_after_the_card_is_held_releases_the_hold(network, monkeypatch):
    from apps.reservations.facade import ReservationsFacadeImpl
    from evcharge.errors import Conflict

    def charger_went_offline(self, **_):
        raise Conflict("The charger is offline.", code="charger_offline")

    monkeypatch.setattr(ReservationsFacadeImpl, "session_start_for", charger_went_offline)
    response = start_as_guest(Client(), network.code)
    assert response.status_code == 409
    assert "offline" in shown(response.content.decode(), "error-message")
    assert PaymentHold.objects.get().status == "voided"
    assert [call.operation for call in TestGateway.calls()] == ["authorize", "void"]
    assert not WebCheckout.objects.exists()


def test_the_charging_page_shows_rising_energy_and_cost_and_stop_gives_the_receipt(network, anon):
    client = Client()
    token = session_token(start_as_guest(client, network.code))
    checkout = WebCheckout.objects.get()
    ChargingSession.objects.filter(id=checkout.session_id).update(
        started_at=ChargingSession.objects.get(id=checkout.session_id).started_at - timedelta(minutes=30)
    )
    network.report_meter(126_000)
    live = anon.get(f"/api/v1/adhoc-sessions/{token}").json()
    assert (live["status"], live["energy_wh"], live["currency"]) == ("active", 6_000, "EUR")
    assert live["cost_so_far"] == 39 * 6 + 2 * 30 + 50
    assert shown(client.get(f"/s/{token}").content.decode(), "energy-kwh") == "6.000"
    network.report_meter(130_000)
    assert anon.get(f"/api/v1/adhoc-sessions/{token}").json()["energy_wh"] == 10_000

    stopped = client.post(f"/s/{token}/stop")  # no meter value: the energy is the charger's
    assert stopped.status_code == 302
    page = client.get(f"/s/{token}").content.decode()
    session = ChargingSession.objects.get(id=checkout.session_id)
    assert (session.status, session.energy_wh) == ("completed", 10_000)
    total = 39 * 10 + 2 * 30 + 50
    assert shown(page, "session-status") == "Finished"
    assert shown(page, "receipt-total") == f"€{total / 100:.2f}"
    assert shown(page, "payment-status") == "Charged to your card, the rest released"
    assert 'data-status="partially_captured"' in page
    assert 'data-settled="1"' in page  # paid and captured: the page stops asking
    assert "Energy 10.000 kWh" in shown(page, "receipt-lines")
    [capture] = TestGateway.calls("capture")
    assert capture.amount == total
    body = anon.get(f"/api/v1/adhoc-sessions/{token}").json()
    assert (body["receipt"]["total_amount"], body["receipt"]["payment_status"]) == (total, "partially_captured")
    assert (body["receipt"]["hold"]["captured_amount"], body["receipt"]["status"]) == (total, "paid")

    [receipt_mail] = mail.outbox
    assert receipt_mail.to == ["guest@example.com"]
    assert f"€{total / 100:.2f}" in receipt_mail.body
    client.get(f"/s/{token}")
    assert len(mail.outbox) == 1  # once


def test_a_session_link_opens_only_its_own_session(network):
    session_token(start_as_guest(Client(), network.code))
    assert Client().get(f"/s/{uuid.uuid4().hex}").status_code == 404
    assert Client().post(f"/s/{uuid.uuid4().hex}/stop").status_code == 404
    assert ChargingSession.objects.get().status == "active"


def test_the_same_form_submitted_twice_is_one_checkout(network):
    client = Client()
    form = {**start_form(client, network.code), "email": "guest@example.com", "card_token": "tok_visa"}
    first = client.post(f"/c/{network.code}/start", form)
    second = client.post(f"/c/{network.code}/start", form)
    assert session_token(first) == session_token(second)
    assert WebCheckout.objects.count() == 1 and len(TestGateway.calls("authorize")) == 1


def test_forms_need_the_csrf_token(network):
    client = Client(enforce_csrf_checks=True)
    form = {"checkout_key": uuid.uuid4().hex, "email": "a@example.com", "card_token": "tok_visa"}
    response = client.post(f"/c/{network.code}/start", form)
    assert response.status_code == 403
    assert not ChargingSession.objects.exists()


def test_starts_are_rate_limited_per_client_address(network, settings):
    settings.DRIVERWEB_STARTS_PER_IP_HOUR = 1
    start_as_guest(Client(), network.code, card="tok_declined")  # the one start this address may try this hour
    response = start_as_guest(Client(), network.code)
    assert response.status_code == 429
    assert "Too many attempts" in shown(response.content.decode(), "error-message")
    assert not ChargingSession.objects.exists()


def test_guest_payments_are_rate_limited_per_card(network, settings):
    settings.DRIVERWEB_PAYMENTS_PER_CARD_HOUR = 2
    for _ in range(2):
        assert start_as_guest(Client(REMOTE_ADDR="10.0.0.1"), network.code, card="tok_declined").status_code == 422
    response = start_as_guest(Client(REMOTE_ADDR="10.0.0.2"), network.code, card="tok_declined")
    assert response.status_code == 429
    assert "with this card" in shown(response.content.decode(), "error-message")


def test_a_signed_in_driver_starts_with_one_tap_and_sees_the_session_in_history(network, driver, driver_client):
    saved = driver_client.post("/api/v1/billing/payment-methods", {"token": "tok_visa"}, format="json")
    assert saved.status_code == 201, saved.content
    driver.set_password("a-long-driver-password")
    driver.save()
    browser = Client()
    assert browser.get("/me/sessions").status_code == 302  # sign in first
    wrong = browser.post("/login", {"email": driver.email, "password": "nope"})
    assert wrong.status_code == 401
    signed_in = browser.post("/login", {"email": driver.email, "password": "a-long-driver-password"})
    assert signed_in.status_code == 302

    page = browser.get(f"/c/{network.code}").content.decode()
    assert 'data-testid="one-tap-start"' in page
    key = re.search(r'name="checkout_key" value="([0-9a-f]+)"', page).group(1)
    token = session_token(browser.post(f"/c/{network.code}/start", {"checkout_key": key, "one_tap": "1"}))
    checkout = WebCheckout.objects.get()
    assert (checkout.kind, checkout.user_id, checkout.email) == ("driver", driver.id, driver.email)
    assert ChargingSession.objects.get(id=checkout.session_id).user_id == driver.id
    assert len(TestGateway.calls("authorize")) == 1
    assert PaymentHold.objects.get(id=checkout.hold_id).card_label == "Visa ending 4242"  # the saved card

    browser.post(f"/s/{token}/stop")
    history = browser.get("/me/sessions").content.decode()
    assert history.count('data-testid="session-row"') == 1
    assert driver_client.get(f"/api/v1/sessions/{checkout.session_id}").status_code == 200  # the same session


def test_a_guest_identity_cannot_sign_in_and_is_not_anyones_account(network, driver):
    start_as_guest(Client(), network.code)
    session = ChargingSession.objects.get()
    assert session.user_id != driver.id
    from django.contrib.auth import get_user_model

    guest = get_user_model().objects.get(id=session.user_id)
    assert guest.is_guest and not guest.has_usable_password() and guest.email.endswith("@guest.invalid")


def test_a_session_the_charger_never_started_releases_the_hold_and_says_so(network):
    client = Client()
    token = session_token(start_as_guest(client, network.code))
    checkout = WebCheckout.objects.get()
    # as the OCPP gateway's sweep leaves a remote start the charger never confirmed
    ChargingSession.objects.filter(id=checkout.session_id).update(status="cancelled", cancel_reason="no answer")
    page = client.get(f"/s/{token}").content.decode()
    assert shown(page, "session-status") == "Not started"
    assert "released" in page and "no answer" in page
    assert PaymentHold.objects.get(id=checkout.hold_id).status == "voided"
    assert [call.operation for call in TestGateway.calls()] == ["authorize", "void"]


def test_the_pages_speak_german_to_a_german_browser(network):
    client = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    html = client.get(f"/c/{network.code}").content.decode()
    assert '<html lang="de">' in html
    assert shown(html, "start-button") == "Laden starten"
    assert shown(html, "connector-status") == "Frei"
    assert shown(html, "price-per-kwh") == "0,39 € / kWh"
    assert shown(html, "price-example-total") == "8,30 €"
    assert "nach 15 Minuten ohne Laden" in html
    declined = start_as_guest(client, network.code, card="tok_declined")
    assert shown(declined.content.decode(), "error-message").startswith("Ihre Karte wurde abgelehnt")
    assert Client().get(f"/c/{network.code}").content.decode().count("Start charging") >= 1  # English otherwise


def test_a_remote_start_shows_waiting_for_the_charger_until_it_confirms(network):
    client = Client()
    token = session_token(start_as_guest(client, network.code))
    checkout = WebCheckout.objects.get()
    # as a start on a charger online over OCPP stands until its StartTransaction arrives
    ChargingSession.objects.filter(id=checkout.session_id).update(status="pending")
    page = client.get(f"/s/{token}").content.decode()
    assert shown(page, "session-status") == "Waiting for the charger"
    assert 'data-testid="waiting-for-charger"' in page and 'data-testid="stop-button"' not in page
    ChargingSession.objects.filter(id=checkout.session_id).update(status="active")
    assert shown(client.get(f"/s/{token}").content.decode(), "session-status") == "Charging"


def test_a_promotion_code_given_at_start_is_on_the_receipt_and_the_capture(network, operator_org):
    from apps.pricing import services as pricing_services
    from evcharge.actor import Actor

    pricing_services.promotion_create(
        by=Actor.system(), operator_id=operator_org.id, code="TEN", kind="percent", value=10, max_redemptions=5
    )
    client = Client()
    token = session_token(start_as_guest(client, network.code, promotion_code="TEN"))
    checkout = WebCheckout.objects.get()
    ChargingSession.objects.filter(id=checkout.session_id).update(
        started_at=ChargingSession.objects.get(id=checkout.session_id).started_at - timedelta(minutes=30)
    )
    network.report_meter(130_000)
    client.post(f"/s/{token}/stop")
    page = client.get(f"/s/{token}").content.decode()
    subtotal = 39 * 10 + 2 * 30 + 50
    discount = round(subtotal / 10)
    assert shown(page, "receipt-discount") == f"\N{MINUS SIGN}€{discount / 100:.2f}"
    assert shown(page, "receipt-total") == f"€{(subtotal - discount) / 100:.2f}"
    assert "(TEN)" in page
    [capture] = TestGateway.calls("capture")
    assert capture.amount == subtotal - discount
