"""Energy comes only from the charger, end to end on PostgreSQL with pricing, telemetry and billing running:
a driver's meter values are refused (and absurd ones never reach billing or reporting), a plain stop bills what
the charger reported, and a session whose reading is unknown at stop keeps its invoice waiting until the
charger reports (or staff settle it)."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from apps.reservations.models import ChargingSession
from evcharge.events.models import DeadLetter

pytestmark = pytest.mark.postgres

PRICE_PER_KWH = 39


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Site:
    """A priced station with one 150 kW connector and its charger (the operator's API key)."""

    def __init__(self, operator_client):
        plan = operator_client.post(
            "/api/v1/pricing/rate-plans",
            {"name": "DC", "currency": "EUR", "energy_price_per_kwh": PRICE_PER_KWH, "is_default": True},
            format="json",
        )
        assert plan.status_code == 201, plan.content
        created = operator_client.post(
            "/api/v1/stations",
            {
                "name": "Trust Hub",
                "latitude": 48.1,
                "longitude": 11.5,
                "timezone": "Europe/Berlin",
                "chargers": [{"serial": "TH-1", "max_power_kw": 150, "connectors": [{"number": 1, "type": "CCS2"}]}],
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        self.charger_id = created.json()["chargers"][0]["id"]
        self.connector_id = created.json()["chargers"][0]["connectors"][0]["id"]
        key = operator_client.post("/api/v1/auth/api-keys", {"name": "TH-1"}, format="json")
        assert key.status_code == 201, key.content
        self.charger = APIClient()
        self.charger.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.json()['key']}")

    def report(self, energy_wh: int, *, at: datetime | None = None) -> None:
        reading = {
            "charger_id": self.charger_id,
            "connector_id": self.connector_id,
            "ts": iso(at or datetime.now(UTC)),
            "kind": "meter",
            "energy_wh": energy_wh,
        }
        posted = self.charger.post("/api/v1/telemetry/events", reading, format="json")
        assert posted.status_code == 202, posted.content

    def start(self, driver_client, *, minutes_ago: int = 60) -> dict:
        started = driver_client.post("/api/v1/sessions", {"connector_id": self.connector_id}, format="json")
        assert started.status_code == 201, started.content
        ChargingSession.objects.filter(id=started.json()["id"]).update(
            started_at=datetime.now(UTC) - timedelta(minutes=minutes_ago)
        )
        return started.json()


@pytest.fixture
def site(operator_client):
    return Site(operator_client)


def _invoice(client, session_id) -> dict:
    [invoice] = [i for i in client.get("/api/v1/billing/invoices").json()["results"] if i["session_id"] == session_id]
    return invoice


def _energy_amount(invoice) -> int:
    return next(line["amount"] for line in invoice["lines"] if line["kind"] == "energy")


def test_the_driver_cannot_bill_zero_after_the_charger_reported_50_kwh(site, driver_client):
    site.report(100_000, at=datetime.now(UTC) - timedelta(hours=2))
    session = site.start(driver_client)
    site.report(150_000)  # the charger delivered 50 kWh

    url = f"/api/v1/sessions/{session['id']}/stop"
    cheat = driver_client.post(url, {"meter_stop_wh": session["meter_start_wh"]}, format="json")
    assert cheat.status_code == 400 and "meter_stop_wh" in cheat.json()["errors"]
    stopped = driver_client.post(url, {}, format="json")
    assert stopped.status_code == 200, stopped.content
    assert stopped.json()["energy_wh"] == 50_000

    invoice = _invoice(driver_client, session["id"])
    assert invoice["status"] == "open"
    assert _energy_amount(invoice) == 50 * PRICE_PER_KWH


@pytest.mark.parametrize("value", [9223372036854775807, 2**70])
@pytest.mark.parametrize("who", ["driver", "charger"])
def test_an_absurd_meter_never_reaches_billing_or_reporting(site, driver_client, who, value):
    site.report(100_000, at=datetime.now(UTC) - timedelta(hours=2))
    session = site.start(driver_client)
    client = driver_client if who == "driver" else site.charger
    response = client.post(f"/api/v1/sessions/{session['id']}/stop", {"meter_stop_wh": value}, format="json")
    assert response.status_code == 400 and "meter_stop_wh" in response.json()["errors"]
    assert ChargingSession.objects.get(id=session["id"]).status == "active"
    assert _invoice(driver_client, session["id"])["status"] == "draft"
    assert DeadLetter.objects.count() == 0


def test_a_charger_meter_beyond_the_connector_is_refused(site, driver_client):
    site.report(100_000, at=datetime.now(UTC) - timedelta(hours=2))
    session = site.start(driver_client, minutes_ago=10)  # 150 kW for 10 minutes: 25 kWh at most
    response = site.charger.post(f"/api/v1/sessions/{session['id']}/stop", {"meter_stop_wh": 200_000}, format="json")
    assert (response.status_code, response.json()["code"]) == (422, "meter_beyond_capacity")
    assert _invoice(driver_client, session["id"])["status"] == "draft"


def test_an_unknown_reading_at_stop_keeps_the_invoice_waiting_until_the_charger_reports(
    site, driver_client, operator_client
):
    site.report(100_000, at=datetime.now(UTC) - timedelta(hours=2))
    session = site.start(driver_client)
    stopped = driver_client.post(f"/api/v1/sessions/{session['id']}/stop", {}, format="json").json()
    assert (stopped["status"], stopped["energy_status"], stopped["meter_pending"]) == (
        "completed",
        "awaiting_meter",
        True,
    )
    assert _invoice(driver_client, session["id"])["status"] == "draft"  # waiting, visibly
    waiting = operator_client.get("/api/v1/sessions", {"awaiting_meter": "true"}).json()
    assert [s["id"] for s in waiting["results"]] == [session["id"]]

    site.report(142_000, at=datetime.now(UTC) + timedelta(seconds=2))  # the charger's reading after the stop
    after = driver_client.get(f"/api/v1/sessions/{session['id']}").json()
    assert (after["energy_status"], after["energy_wh"]) == ("metered", 42_000)
    invoice = _invoice(driver_client, session["id"])
    assert invoice["status"] == "open"
    assert _energy_amount(invoice) == 42 * PRICE_PER_KWH


def test_staff_settle_a_session_whose_charger_never_reports(site, driver_client, operator_client):
    site.report(100_000, at=datetime.now(UTC) - timedelta(hours=2))
    session = site.start(driver_client)
    driver_client.post(f"/api/v1/sessions/{session['id']}/stop", {}, format="json")

    url = f"/api/v1/sessions/{session['id']}/settle"
    body = {"energy_wh": 20_000, "reason": "charger offline since; energy from the vehicle's log"}
    assert driver_client.post(url, body, format="json").status_code == 403
    settled = operator_client.post(url, body, format="json")
    assert settled.status_code == 200, settled.content
    assert settled.json()["energy_status"] == "settled"
    invoice = _invoice(driver_client, session["id"])
    assert invoice["status"] == "open"
    assert _energy_amount(invoice) == 20 * PRICE_PER_KWH


def test_a_station_pricing_has_no_tariff_for_refuses_sessions(operator_client, driver_client, outbox):
    created = operator_client.post(
        "/api/v1/stations",
        {
            "name": "Unpriced",
            "latitude": 48.1,
            "longitude": 11.5,
            "timezone": "Europe/Berlin",
            "chargers": [{"serial": "UP-1", "max_power_kw": 50, "connectors": [{"number": 1, "type": "CCS2"}]}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    connector_id = created.json()["chargers"][0]["connectors"][0]["id"]
    response = driver_client.post("/api/v1/sessions", {"connector_id": connector_id}, format="json")
    assert response.status_code == 409, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "no_tariff"
    assert outbox("session.started.v1") == []
    assert driver_client.get("/api/v1/billing/invoices").json()["count"] == 0


def test_a_start_meter_learned_after_the_start_reaches_the_invoice(site, driver_client):
    from apps.billing.models import Invoice

    session = site.start(driver_client)  # the charger has reported nothing yet
    site.report(5_000, at=datetime.now(UTC) - timedelta(minutes=30))
    site.report(25_000, at=datetime.now(UTC) - timedelta(minutes=1))
    driver_client.post(f"/api/v1/sessions/{session['id']}/stop", {}, format="json")

    invoice = Invoice.objects.get(session_id=session["id"])
    assert (invoice.meter_start_wh, invoice.meter_stop_wh, invoice.energy_wh) == (5_000, 25_000, 20_000)
    assert _energy_amount(_invoice(driver_client, session["id"])) == 20 * PRICE_PER_KWH
