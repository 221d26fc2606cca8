from datetime import datetime
from uuid import UUID

from apps.telemetry import selectors, services
from evcharge.contracts.telemetry import ChargerSample, MeterReading


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

    def record_charger_samples(self, *, charger_id: UUID, samples: list[ChargerSample]) -> None:
        services.charger_samples_record(charger_id=charger_id, samples=samples)

    def record_charger_samples_many(self, *, batches: dict[UUID, list[ChargerSample]]) -> None:
        services.charger_samples_record_many(batches=batches)

    def record_charger_fault(
        self, *, charger_id: UUID, connector_id: UUID | None, error_code: str, info: str, at: datetime
    ) -> None:
        services.charger_fault_record(charger_id=charger_id, connector_id=connector_id, error_code=error_code, at=at)

    def record_charger_link(self, *, charger_id: UUID, connected: bool, at: datetime) -> None:
        services.charger_link_record(charger_id=charger_id, connected=connected, at=at)
