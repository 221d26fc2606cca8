import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import zxingcpp
from django.db import transaction
from PIL import Image

from apps.stations.models import Connector, Station
from evcharge.contracts import stations as stations_contract
from evcharge.contracts.adminconfig import StationConfigUpdated, StationSettings
from evcharge.contracts.pricing import TariffSnapshot
from evcharge.contracts.reservations import SessionCompleted, SessionStarted, SessionStopped
from evcharge.events import publish
from tests.helpers import run_concurrently
from tests.stations.conftest import connectors_of


def put_status(client, connector_id, status):
    return client.put(f"/api/v1/connectors/{connector_id}/status", {"status": status}, format="json")


def station_status(station_id) -> str:
    return Station.objects.get(id=station_id).status


# --- QR codes ---


def test_qr_png_decodes_back_to_the_connector_url(operator_client, berlin, settings):
    settings.PUBLIC_BASE_URL = "https://ev.example.com"
    connector = connectors_of(berlin)[0]
    response = operator_client.get(f"/api/v1/connectors/{connector['id']}/qr")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    (decoded,) = zxingcpp.read_barcodes(image)
    assert decoded.text == f"https://ev.example.com/c/{connector['code']}"


def test_qr_svg(admin_client, berlin):
    connector = connectors_of(berlin)[0]
    response = admin_client.get(f"/api/v1/connectors/{connector['id']}/qr", {"format": "svg"})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<?xml") and b"<svg" in response.content


def test_qr_is_public_and_validates_its_parameters(other_operator_client, driver_client, operator_client, berlin):
    url = f"/api/v1/connectors/{connectors_of(berlin)[0]['id']}/qr"
    assert other_operator_client.get(url).status_code == 200  # it encodes only the public /c/{code} URL
    assert driver_client.get(url).status_code == 200
    bad = operator_client.get(url, {"format": "gif"})
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/problem+json")
    assert "format" in bad.json()["errors"]
    assert operator_client.get(url, {"scale": "0"}).status_code == 400
    assert operator_client.get(f"/api/v1/connectors/{uuid.uuid4()}/qr").status_code == 404


# --- status changes ---


def test_status_change_publishes_once_and_only_when_it_changes(operator_client, berlin, outbox):
    connector = connectors_of(berlin)[0]
    response = put_status(operator_client, connector["id"], "Faulted")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "Faulted"

    (changed,) = outbox("station.status_changed.v1")
    assert changed.data.station_id == uuid.UUID(berlin["id"])
    assert changed.data.charger_id == uuid.UUID(berlin["chargers"][0]["id"])
    assert changed.data.connector_id == uuid.UUID(connector["id"])
    assert (changed.data.old_status, changed.data.new_status) == ("Available", "Faulted")
    assert changed.data.connector_type == "CCS2" and changed.data.changed_at.tzinfo is not None

    assert put_status(operator_client, connector["id"], "Faulted").status_code == 200
    assert len(outbox("station.status_changed.v1")) == 1


def test_bad_status_is_refused(operator_client, berlin):
    response = put_status(operator_client, connectors_of(berlin)[0]["id"], "Sleeping")
    assert response.status_code == 400 and "status" in response.json()["errors"]
    assert put_status(operator_client, uuid.uuid4(), "Faulted").status_code == 404


def test_station_status_is_derived_from_its_connectors(operator_client, berlin):
    ids = [c["id"] for c in connectors_of(berlin)]
    put_status(operator_client, ids[0], "Charging")
    put_status(operator_client, ids[1], "Faulted")
    assert station_status(berlin["id"]) == "available"  # the third is still Available
    put_status(operator_client, ids[2], "Reserved")
    assert station_status(berlin["id"]) == "occupied"
    put_status(operator_client, ids[0], "Faulted")
    put_status(operator_client, ids[2], "Unavailable")
    assert station_status(berlin["id"]) == "unavailable"
    put_status(operator_client, ids[2], "Faulted")
    assert station_status(berlin["id"]) == "faulted"
    listed = operator_client.get("/api/v1/stations", {"status": "faulted"}).json()["results"]
    assert [s["id"] for s in listed] == [berlin["id"]]


def test_api_key_of_the_operator_may_set_status_another_operators_may_not(
    client_for, api_key_for, operator_org, other_operator_org, berlin, outbox
):
    connector_id = connectors_of(berlin)[0]["id"]
    charger = client_for(api_key=api_key_for(operator_org))
    stranger = client_for(api_key=api_key_for(other_operator_org))

    assert put_status(stranger, connector_id, "Preparing").status_code == 403
    assert put_status(charger, connector_id, "Preparing").status_code == 200
    assert Connector.objects.get(id=connector_id).status == "Preparing"
    assert len(outbox("station.status_changed.v1")) == 1
    assert put_status(client_for(api_key="evk_nope_nope"), connector_id, "Faulted").status_code == 401


@pytest.mark.postgres
def test_concurrent_identical_status_changes_publish_one_event(operator_user, berlin, client_for, outbox):
    connector_id = connectors_of(berlin)[0]["id"]

    def change(_):
        return put_status(client_for(operator_user), connector_id, "Faulted").status_code

    assert run_concurrently(change, 8) == [200] * 8
    assert len(outbox("station.status_changed.v1")) == 1


# --- the connector follows charging sessions (events from the reservations context) ---


TARIFF = TariffSnapshot(
    rate_plan_id=None,
    currency="EUR",
    energy_price_per_kwh=39,
    time_price_per_min=0,
    session_fee=0,
    idle_fee_per_min=0,
    idle_grace_min=0,
)


def _session_events(connector_id, station_id, operator_id, user_id):
    session_id = uuid.uuid4()
    started_at = datetime.now(UTC) - timedelta(minutes=30)
    common = {
        "session_id": session_id,
        "connector_id": uuid.UUID(connector_id),
        "station_id": uuid.UUID(station_id),
        "user_id": user_id,
        "operator_id": operator_id,
        "connector_type": "CCS2",
        "reservation_id": None,
        "meter_start_wh": 1000,
        "started_at": started_at,
        "tariff": TARIFF,
    }
    started = SessionStarted(**common)
    completed = SessionCompleted(
        **common,
        meter_stop_wh=21000,
        energy_wh=20000,
        ended_at=started_at + timedelta(minutes=30),
        charging_ended_at=None,
    )
    return started, completed


def test_connector_status_follows_session_events(berlin, operator_org, driver, outbox):
    connector = connectors_of(berlin)[0]
    started, completed = _session_events(connector["id"], berlin["id"], operator_org.id, driver.id)

    with transaction.atomic():
        publish(started)
    assert Connector.objects.get(id=connector["id"]).status == "Charging"
    changes = outbox("station.status_changed.v1")
    assert [(e.data.old_status, e.data.new_status, e.data.reason) for e in changes] == [
        ("Available", "Charging", "session.started")
    ]

    with transaction.atomic():
        publish(completed)
    assert Connector.objects.get(id=connector["id"]).status == "Available"
    changes = outbox("station.status_changed.v1")
    assert [(e.data.old_status, e.data.new_status) for e in changes] == [
        ("Available", "Charging"),
        ("Charging", "Finishing"),
        ("Finishing", "Available"),
    ]
    assert all(e.data.connector_id == uuid.UUID(connector["id"]) for e in changes)


def test_the_connector_is_free_when_the_session_stops_even_before_its_energy_is_known(
    berlin, operator_org, driver, outbox
):
    connector = connectors_of(berlin)[0]
    started, completed = _session_events(connector["id"], berlin["id"], operator_org.id, driver.id)
    stopped = SessionStopped(
        session_id=started.session_id,
        connector_id=started.connector_id,
        station_id=started.station_id,
        user_id=started.user_id,
        operator_id=started.operator_id,
        ended_at=completed.ended_at,
        energy_status="awaiting_meter",
    )
    for event in (started, stopped):
        with transaction.atomic():
            publish(event)
    assert Connector.objects.get(id=connector["id"]).status == "Available"
    with transaction.atomic():
        publish(completed)  # hours later, once the charger's reading is known: nothing moves
    assert [(e.data.old_status, e.data.new_status) for e in outbox("station.status_changed.v1")] == [
        ("Available", "Charging"),
        ("Charging", "Finishing"),
        ("Finishing", "Available"),
    ]


def test_a_late_session_started_does_not_bring_back_charging(berlin, operator_org, driver, outbox):
    connector = connectors_of(berlin)[0]
    started, completed = _session_events(connector["id"], berlin["id"], operator_org.id, driver.id)
    with transaction.atomic():
        publish(completed)
    with transaction.atomic():
        publish(started)
    assert Connector.objects.get(id=connector["id"]).status == "Available"
    assert outbox("station.status_changed.v1") == []


def test_a_faulted_connector_stays_faulted_through_a_session(operator_client, berlin, operator_org, driver, outbox):
    connector = connectors_of(berlin)[0]
    started, completed = _session_events(connector["id"], berlin["id"], operator_org.id, driver.id)
    with transaction.atomic():
        publish(started)
    put_status(operator_client, connector["id"], "Faulted")
    with transaction.atomic():
        publish(completed)
    assert Connector.objects.get(id=connector["id"]).status == "Faulted"
    assert [e.data.new_status for e in outbox("station.status_changed.v1")] == ["Charging", "Faulted"]


# --- station settings from adminconfig ---


def _settings_event(station, enabled=True, reservable=True):
    return StationConfigUpdated(
        station_id=uuid.UUID(station["id"]),
        operator_id=uuid.UUID(station["operator_id"]),
        settings=StationSettings(
            enabled=enabled, reservable=reservable, max_power_kw=None, rate_plan_id=None, idle_grace_min=None
        ),
        changed=["enabled"],
    )


def test_a_disabled_station_reads_unavailable(driver_client, anon, berlin, outbox):
    connector = connectors_of(berlin)[0]
    with transaction.atomic():
        publish(_settings_event(berlin, enabled=False, reservable=False))

    (updated,) = outbox("station.updated.v1")
    assert updated.data.changed == ["enabled", "reservable", "status"]
    assert updated.data.enabled is False and updated.data.reservable is False
    station = driver_client.get(f"/api/v1/stations/{berlin['id']}").json()
    assert (station["status"], station["enabled"], station["reservable"]) == ("unavailable", False, False)
    assert {c["status"] for c in connectors_of(station)} == {"Unavailable"}
    assert {c["ocpp_status"] for c in connectors_of(station)} == {"Available"}
    assert anon.get(f"/api/v1/connectors/by-code/{connector['code']}").json()["status"] == "Unavailable"
    view = stations_contract.facade().connector(uuid.UUID(connector["id"]))
    assert (view.status, view.ocpp_status, view.station_enabled, view.reservable) == (
        "Unavailable",
        "Available",
        False,
        False,
    )
    assert outbox("station.status_changed.v1") == []

    with transaction.atomic():
        publish(_settings_event(berlin, enabled=True, reservable=False))  # only enabled changes
    assert outbox("station.updated.v1")[-1].data.changed == ["enabled", "status"]
    assert driver_client.get(f"/api/v1/stations/{berlin['id']}").json()["status"] == "available"

    with transaction.atomic():
        publish(_settings_event(berlin, enabled=True, reservable=False))  # nothing changes
    assert len(outbox("station.updated.v1")) == 2


# --- the facade other contexts use ---


def test_facade(berlin, operator_org, outbox):
    facade = stations_contract.facade()
    connector = connectors_of(berlin)[1]
    view = facade.connector(uuid.UUID(connector["id"]))
    assert view.station_id == uuid.UUID(berlin["id"]) and view.operator_id == operator_org.id
    assert (view.type, view.max_power_kw, view.status, view.code, view.number) == (
        "CHADEMO",
        50.0,
        "Available",
        connector["code"],
        2,
    )
    assert view.station_timezone == "Europe/Berlin" and view.station_name == "Berlin Hbf"
    assert facade.connector_by_code(connector["code"].lower()) == view
    assert facade.connector(uuid.uuid4()) is None and facade.connector_by_code("NOPE") is None

    with transaction.atomic():
        facade.set_connector_status(connector_id=view.connector_id, status="Unavailable", reason="maintenance")
    assert facade.connector(view.connector_id).status == "Unavailable"
    (changed,) = outbox("station.status_changed.v1")
    assert changed.data.reason == "maintenance" and changed.data.station_status == "available"


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_connector_follows_sessions_over_rabbitmq(bus, berlin, operator_org, driver):
    from apps.notifications.models import Notification

    connector = connectors_of(berlin)[0]
    started, completed = _session_events(connector["id"], berlin["id"], operator_org.id, driver.id)

    with transaction.atomic():
        publish(started)
    bus.wait_until(lambda: Connector.objects.get(id=connector["id"]).status == "Charging")
    with transaction.atomic():
        publish(completed)
    bus.wait_until(lambda: Connector.objects.get(id=connector["id"]).status == "Available")
    bus.settle()
    kinds = set(Notification.objects.filter(user_id=driver.id).values_list("kind", flat=True))
    assert {"session.started", "session.completed"} <= kinds
