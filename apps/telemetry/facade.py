from datetime import datetime
from uuid import UUID

from apps.telemetry import selectors
from evcharge.contracts.telemetry import MeterReading


class TelemetryFacadeImpl:
    def last_meter_reading(self, *, connector_id: UUID) -> MeterReading | None:
        state = selectors.last_meter_state(connector_id)
        if state is None or state.energy_wh is None:
            return None
        return MeterReading(
            connector_id=state.connector_id, energy_wh=state.energy_wh, ts=state.meter_ts, power_w=state.power_w
        )

    def first_meter_reading(self, *, connector_id: UUID, since: datetime) -> MeterReading | None:
        reading = selectors.first_meter_reading(connector_id=connector_id, since=since)
        if reading is None:
            return None
        return MeterReading(
            connector_id=reading.connector_id, energy_wh=reading.energy_wh, ts=reading.ts, power_w=reading.power_w
        )
