"""Demo telemetry: a few meter readings and a heartbeat for one Voltway connector, so that
GET /telemetry/stations/{id}/latest shows something, and a first meter reading for every other demo
connector, so that a demo session knows its start meter from the first second (the simulated chargers
report the rest). Idempotent (a connector with a reading gets none)."""

from datetime import UTC, datetime, timedelta

from apps.telemetry import selectors, services
from apps.telemetry.readings import ReadingIn
from evcharge.actor import Actor

DEMO_METER_WH = (1_250_000, 1_262_500, 1_275_000, 1_287_500)


def seed(context: dict) -> None:
    _seed_showcase(context)
    _seed_first_readings(context)


def _seed_first_readings(context: dict) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    readings = []
    for operator_id in context.get("operators", {}).values():
        for charger in selectors.chargers_of_operator(operator_id):
            for connector in selectors.connectors_of_charger(charger.charger_id):
                if selectors.last_meter_state(connector.connector_id) is None:
                    readings.append(
                        ReadingIn(
                            index=len(readings),
                            charger_id=charger.charger_id,
                            connector_id=connector.connector_id,
                            ts=now,
                            kind="meter",
                            energy_wh=0,
                        )
                    )
    if readings:
        services.telemetry_ingest(readings=readings, by=Actor.system())


def _seed_showcase(context: dict) -> None:
    voltway_id = context.get("operators", {}).get("voltway")
    charger = selectors.chargers_of_operator(voltway_id).first() if voltway_id else None
    if charger is None:
        context.setdefault("summary", []).append("Telemetry: no Voltway charger known yet; no readings seeded.")
        return
    connector = selectors.connectors_of_charger(charger.charger_id).first()
    summary = (
        f"Telemetry: readings for charger {charger.serial}; "
        f"GET /api/v1/telemetry/stations/{charger.station_id}/latest. "
        'Chargers post with an API key: as operator@evcharge.test, POST /api/v1/auth/api-keys {"name": "charger"}, '
        "then POST /api/v1/telemetry/events with 'Authorization: Api-Key <key>'."
    )
    if connector is None or selectors.last_meter_state(connector.connector_id) is not None:
        context.setdefault("summary", []).append(summary)
        return
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    readings = [
        ReadingIn(
            index=i,
            charger_id=charger.charger_id,
            connector_id=connector.connector_id,
            ts=now - timedelta(minutes=5 * (len(DEMO_METER_WH) - i)),
            kind="meter",
            energy_wh=energy,
            power_w=11_000,
            voltage_v=400.0,
            current_a=16.0,
            soc_pct=40.0 + 5 * i,
        )
        for i, energy in enumerate(DEMO_METER_WH)
    ]
    readings.append(
        ReadingIn(index=len(readings), charger_id=charger.charger_id, connector_id=None, ts=now, kind="heartbeat")
    )
    services.telemetry_ingest(readings=readings, by=Actor.system())
    context.setdefault("summary", []).append(summary)
