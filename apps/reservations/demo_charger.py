"""The demo's simulated chargers: while a session runs on a demo connector, its charger reports a rising
meter through the telemetry API, with its operator's API key, as a real charger would.

Started by `manage.py demo` (a daemon thread beside the development server). Each tick it
- gives every demo connector a first meter reading, so a session knows its start meter;
- for each active session, reports the meter risen by what the connector delivers since the last reading
  (at most DEMO_POWER_KW, never more than the connector's rated power: the readings stay billable);
- for each session stopped before any reading during it, reports the meter once more, which completes it.
The charger's view comes from this context's read models (sessions, connectors) and the telemetry facade's
last reading; the readings themselves go over HTTP, like any charger's.
"""

import logging
import threading
from datetime import UTC, datetime
from uuid import UUID

import requests

from apps.reservations import selectors
from apps.reservations.models import ChargingSession, Connector
from evcharge.contracts import chargepoints

logger = logging.getLogger("evcharge.demo.charger")

DEMO_POWER_KW = 50.0


class SimulatedChargers:
    def __init__(self, *, base_url: str, keys: dict[UUID, str], interval_s: float = 2.0):
        self.base_url = base_url.rstrip("/")
        self.keys = keys  # operator id -> raw API key of that operator's chargers
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-chargers", daemon=True)

    def start(self) -> "SimulatedChargers":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with requests.Session() as client:
            while not self._stop.wait(self.interval_s):
                try:
                    self.tick(client)
                except Exception:  # the server may not listen yet, or is going down: try again next tick
                    logger.debug("simulated chargers: tick failed", exc_info=True)
                finally:
                    from django.db import connection

                    connection.close()

    def tick(self, client: requests.Session) -> int:
        """Reports one round of readings; returns how many were accepted."""
        now = datetime.now(UTC)
        readings: dict[UUID, list[dict]] = {}
        connectors = Connector.objects.filter(operator_id__in=list(self.keys), present=True)
        # a charger with OCPP credentials (the gateway's simulator, say) reports its own meter: the telemetry API
        # refuses energy for it
        ocpp = _ocpp_chargers({c.charger_id for c in connectors})
        by_id = {c.id: c for c in connectors if c.charger_id not in ocpp}
        for connector in by_id.values():
            if selectors.last_meter_reading(connector.id) is None:
                readings.setdefault(connector.operator_id, []).append(_meter(connector, 0, now))
        active = ChargingSession.objects.filter(connector_id__in=list(by_id), status=ChargingSession.Status.ACTIVE)
        for session in active:
            connector = by_id[session.connector_id]
            last = selectors.last_meter_reading(connector.id)
            base_wh, since = (last.energy_wh, max(last.ts, session.started_at)) if last else (0, session.started_at)
            power_kw = min(connector.max_power_kw or DEMO_POWER_KW, DEMO_POWER_KW)
            delivered_wh = int(power_kw * 1000 * max(0.0, (now - since).total_seconds()) / 3600)
            readings.setdefault(connector.operator_id, []).append(
                _meter(connector, base_wh + delivered_wh, now, power_w=power_kw * 1000)
            )
        awaiting = selectors.sessions_awaiting_meter(connector_ids=list(by_id))
        for connector_id in set(awaiting.values_list("connector_id", flat=True)):
            connector = by_id[connector_id]
            last = selectors.last_meter_reading(connector_id)
            readings.setdefault(connector.operator_id, []).append(_meter(connector, last.energy_wh if last else 0, now))
        accepted = 0
        for operator_id, batch in readings.items():
            response = client.post(
                f"{self.base_url}/api/v1/telemetry/events",
                json=batch,
                headers={"Authorization": f"Api-Key {self.keys[operator_id]}"},
                timeout=10,
            )
            if response.status_code == 202:
                accepted += response.json()["accepted"]
            else:
                logger.warning("simulated chargers: readings refused", extra={"status": response.status_code})
        return accepted


def _meter(connector: Connector, energy_wh: int, ts: datetime, power_w: float = 0.0) -> dict:
    return {
        "charger_id": str(connector.charger_id),
        "connector_id": str(connector.id),
        "ts": ts.isoformat(),
        "kind": "meter",
        "energy_wh": energy_wh,
        "power_w": power_w,
    }


def _ocpp_chargers(charger_ids: set[UUID]) -> set[UUID]:
    if not chargepoints.registered() or not charger_ids:
        return set()
    return set(chargepoints.facade().links(sorted(charger_ids)))
