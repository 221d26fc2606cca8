"""What the OCPP gateway tells telemetry: a charger's samples and faults (trusted: the gateway authenticated
it) and its link. A charger holding an OCPP link is in contact however old its last reading; a dropped link
is offline at once."""

from datetime import timedelta

from apps.telemetry.models import Charger
from apps.telemetry.services import charger_health_sweep
from evcharge.contracts import telemetry
from evcharge.contracts.telemetry import ChargerSample
from tests.telemetry.conftest import now_utc


def health_events(outbox, charger):
    return [
        (e.data.old_health, e.data.new_health, e.data.reason)
        for e in outbox("charger.health_changed.v1")
        if e.data.charger_id == charger.charger_id
    ]


def test_the_link_sets_health_at_once_and_the_silence_sweep_leaves_a_connected_charger_alone(charger, outbox):
    facade = telemetry.facade()

    facade.record_charger_link(charger_id=charger.charger_id, connected=True, at=now_utc())
    charger_health_sweep(now=now_utc() + timedelta(hours=3))  # hours without a reading: the link says in contact
    assert Charger.objects.get(charger_id=charger.charger_id).health == "online"

    facade.record_charger_link(charger_id=charger.charger_id, connected=False, at=now_utc())
    facade.record_charger_link(charger_id=charger.charger_id, connected=False, at=now_utc())

    assert Charger.objects.get(charger_id=charger.charger_id).health == "offline"
    assert health_events(outbox, charger) == [
        ("offline", "online", "OCPP link up"),
        ("online", "offline", "OCPP link down"),
    ]


def test_samples_become_readings_and_the_meter_the_sessions_read(charger):
    facade = telemetry.facade()
    connector = charger.connectors[0]
    at = now_utc()

    facade.record_charger_samples(
        charger_id=charger.charger_id,
        samples=[
            ChargerSample(connector_id=connector.connector_id, ts=at, energy_wh=120_000, power_w=22_000),
            ChargerSample(connector_id=connector.connector_id, ts=at + timedelta(seconds=1), energy_wh=-5),
            ChargerSample(connector_id=connector.connector_id, ts=at + timedelta(seconds=60), energy_wh=120_370),
        ],
    )

    latest = facade.last_meter_reading(connector_id=connector.connector_id)
    assert (latest.energy_wh, latest.ts) == (120_370, at + timedelta(seconds=60)), "the negative value was dropped"


def test_a_fault_makes_the_charger_faulted(charger, outbox):
    telemetry.facade().record_charger_fault(
        charger_id=charger.charger_id,
        connector_id=charger.connectors[0].connector_id,
        error_code="GroundFailure",
        info="",
        at=now_utc(),
    )

    assert Charger.objects.get(charger_id=charger.charger_id).health == "faulted"
    assert health_events(outbox, charger)[-1][1:] == ("faulted", "fault GroundFailure")


def test_the_samples_of_many_chargers_are_stored_in_one_ingest_and_strangers_dropped(
    make_station, operator_org, outbox
):
    import uuid

    station = make_station(operator_org, chargers=2, connectors=1)
    first, second = station.chargers
    at = now_utc()
    before = len(outbox("telemetry.ingested.v1"))

    telemetry.facade().record_charger_samples_many(
        batches={
            first.charger_id: [ChargerSample(connector_id=first.connectors[0].connector_id, ts=at, energy_wh=5_000)],
            second.charger_id: [
                ChargerSample(connector_id=second.connectors[0].connector_id, ts=at, energy_wh=7_000),
                ChargerSample(connector_id=first.connectors[0].connector_id, ts=at, energy_wh=9_999),  # not its own
            ],
            uuid.uuid4(): [ChargerSample(connector_id=None, ts=at, energy_wh=1)],  # unknown to telemetry
        }
    )

    facade = telemetry.facade()
    assert facade.last_meter_reading(connector_id=first.connectors[0].connector_id).energy_wh == 5_000
    assert facade.last_meter_reading(connector_id=second.connectors[0].connector_id).energy_wh == 7_000
    (ingested,) = outbox("telemetry.ingested.v1")[before:]
    assert ingested.data.count == 2
