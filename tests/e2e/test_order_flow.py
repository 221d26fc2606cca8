"""The order flow of the plan's success criteria, over HTTP with JWT, with the event backbone on RabbitMQ:
an operator opens a priced station; its charger reports its meter with the operator's API key; a driver scans a
connector's QR code, starts a session with its code; the charger stops it with its meter reading; the invoice
appears with several items; the driver checks out with a
promotion code; the payment succeeds; the order history shows it."""

import io
import uuid
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from urllib.parse import urlparse

import pytest
import zxingcpp
from PIL import Image
from rest_framework.test import APIClient

from apps.reservations.models import ChargingSession

PASSWORD = "correct-horse-42"  # what the make_user fixture gives everyone


def signed_in(email: str, password: str = PASSWORD) -> APIClient:
    """A client holding a JWT obtained the way a real client does: POST /auth/token."""
    client = APIClient()
    tokens = client.post("/api/v1/auth/token", {"email": email, "password": password}, format="json")
    assert tokens.status_code == 200, tokens.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    return client


def scan(png: bytes) -> str:
    """What a phone does with the sticker: decode the QR code; the connector's code ends its URL."""
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return urlparse(decoded.text).path.rstrip("/").rsplit("/", 1)[-1]


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_scan_charge_invoice_checkout_with_a_promotion(bus, operator_user, outbox):
    operator = signed_in(operator_user.email)
    registered = APIClient().post(
        "/api/v1/auth/register", {"email": "eve.driver@example.test", "password": PASSWORD}, format="json"
    )
    assert registered.status_code == 201, registered.content
    driver = signed_in("eve.driver@example.test")

    # The operator prices its network (energy, time, a session fee) and opens a station.
    plan = operator.post(
        "/api/v1/pricing/rate-plans",
        {
            "name": "Standard DC",
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
    station = operator.post(
        "/api/v1/stations",
        {
            "name": "Harbour Hub",
            "address": "Hafenstrasse 1, Hamburg",
            "latitude": 53.54,
            "longitude": 9.98,
            "timezone": "Europe/Berlin",
            "chargers": [
                {
                    "serial": f"HH-{uuid.uuid4().hex[:6]}",
                    "max_power_kw": 150,
                    "connectors": [{"number": 1, "type": "CCS2"}],
                }
            ],
        },
        format="json",
    )
    assert station.status_code == 201, station.content
    connector_id = station.json()["chargers"][0]["connectors"][0]["id"]
    promotion = operator.post(
        "/api/v1/pricing/promotions",
        {
            "code": "SPRING10",
            "kind": "percent",
            "value": 10,
            "valid_from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "valid_to": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "max_per_user": 1,
        },
        format="json",
    )
    assert promotion.status_code == 201, promotion.content
    bus.settle()  # pricing, reservations and telemetry have learned about the station from its events

    # The charger holds its operator's API key and reports its meter (1,234.5 kWh so far).
    key = operator.post("/api/v1/auth/api-keys", {"name": "HH charger"}, format="json")
    assert key.status_code == 201, key.content
    charger = APIClient()
    charger.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.json()['key']}")
    reading = {
        "charger_id": station.json()["chargers"][0]["id"],
        "connector_id": connector_id,
        "ts": datetime.now(UTC).isoformat(),
        "kind": "meter",
        "energy_wh": 1_234_500,
    }
    assert charger.post("/api/v1/telemetry/events", reading, format="json").status_code == 202

    # The driver scans the connector's QR code and starts charging with the code.
    qr = operator.get(f"/api/v1/connectors/{connector_id}/qr")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png"
    code = scan(qr.content)
    assert driver.get(f"/api/v1/connectors/by-code/{code}").status_code == 200
    started = driver.post("/api/v1/sessions", {"code": code}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert started.status_code == 201, started.content
    session = started.json()
    assert session["connector_id"] == connector_id
    assert (session["tariff"]["energy_price_per_kwh"], session["tariff"]["session_fee"]) == (39, 50)

    # Billing opened a draft invoice (a provisional hold) when it heard the session start.
    draft = bus.wait_until(lambda: driver.get("/api/v1/billing/invoices").json()["results"], message="draft invoice")
    assert (draft[0]["session_id"], draft[0]["status"]) == (session["id"], "draft")
    assert draft[0]["hold_amount"] > 0

    # An hour later the charger stops it with its meter reading: 18.5 kWh.
    assert session["meter_start_wh"] == 1_234_500
    ChargingSession.objects.filter(id=session["id"]).update(started_at=datetime.now(UTC) - timedelta(hours=1))
    stopped = charger.post(f"/api/v1/sessions/{session['id']}/stop", {"meter_stop_wh": 1_253_000}, format="json")
    assert stopped.status_code == 200, stopped.content
    assert stopped.json()["energy_wh"] == 18_500

    # The invoice appears, finalized, with several items.
    def open_invoice():
        results = driver.get("/api/v1/billing/invoices", {"status": "open"}).json()["results"]
        return results[0] if results else None

    invoice = bus.wait_until(open_invoice, message="the invoice is finalized")
    kinds = [line["kind"] for line in invoice["lines"]]
    assert kinds[:1] == ["energy"] and {"time", "session_fee"} <= set(kinds)
    lines = {line["kind"]: line for line in invoice["lines"]}
    assert lines["energy"]["amount"] == 722  # 18.5 kWh x 39 = 721.5 -> 722 (half to even)
    assert lines["session_fee"]["amount"] == 50
    assert invoice["subtotal_amount"] == sum(line["amount"] for line in invoice["lines"])
    assert invoice["total_amount"] == invoice["subtotal_amount"]

    # The driver adds a card and checks out with the promotion code (a tap on the exchange listens).
    payments_on_the_wire = bus.tap("payment.#")
    card = driver.post("/api/v1/billing/payment-methods", {"kind": "card", "token": "tok_visa"}, format="json")
    assert card.status_code == 201, card.content
    paid = driver.post(
        f"/api/v1/billing/invoices/{invoice['id']}/checkout",
        {"payment_method_id": card.json()["id"], "promotion_code": "spring10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-flow-checkout",
    )
    assert paid.status_code == 201, paid.content
    body = paid.json()
    assert body["payment"]["status"] == "succeeded"
    subtotal = invoice["subtotal_amount"]
    discount = round(Fraction(subtotal * 10, 100))  # round() of a Fraction is half to even, as the contract
    assert (body["invoice"]["status"], body["invoice"]["discount_amount"]) == ("paid", discount)
    assert body["payment"]["amount"] == subtotal - discount

    payment = driver.get(f"/api/v1/billing/payments/{body['payment']['id']}")
    assert (payment.status_code, payment.json()["status"]) == (200, "succeeded")

    # The order history shows it, paid, with its discount and payment.
    history = driver.get("/api/v1/billing/invoices").json()
    assert history["count"] == 1
    order = history["results"][0]
    assert (order["id"], order["session_id"], order["status"]) == (invoice["id"], session["id"], "paid")
    assert [d["amount"] for d in order["discounts"]] == [discount]
    assert [(p["status"], p["amount"]) for p in order["payments"]] == [("succeeded", subtotal - discount)]

    # What billing told the others, on the wire.
    [delivery] = payments_on_the_wire.wait_for(1)
    assert delivery.routing_key == "payment.succeeded.v1"
    assert (delivery.json["source"], delivery.json["data"]["payment_id"]) == (
        "/evcharge/billing",
        body["payment"]["id"],
    )
    bus.settle()
    [generated] = outbox("invoice.generated.v1")
    assert (str(generated.data.session_id), generated.data.total_amount) == (session["id"], subtotal)
    [succeeded] = outbox("payment.succeeded.v1")
    assert (str(succeeded.data.invoice_id), succeeded.data.amount, succeeded.data.discount_amount) == (
        invoice["id"],
        subtotal - discount,
        discount,
    )
