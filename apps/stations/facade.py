from uuid import UUID

from apps.stations import selectors, services
from apps.stations.models import Charger, Connector
from evcharge.actor import Actor
from evcharge.contracts.stations import ChargerView, ConnectorView


def connector_view(connector: Connector) -> ConnectorView:
    station = connector.charger.station
    return ConnectorView(
        connector_id=connector.id,
        charger_id=connector.charger_id,
        station_id=station.id,
        operator_id=station.operator_id,
        type=connector.type,
        max_power_kw=connector.max_power_kw,
        status=selectors.connector_effective_status(connector),
        code=connector.code,
        station_timezone=station.timezone,
        number=connector.number,
        station_name=station.name,
        station_enabled=station.enabled,
        reservable=station.reservable,
        ocpp_status=connector.status,
        station_address=station.address,
    )


def charger_view(charger: Charger) -> ChargerView:
    return ChargerView(
        charger_id=charger.id,
        serial=charger.serial,
        station_id=charger.station_id,
        operator_id=charger.station.operator_id,
        max_power_kw=charger.max_power_kw,
        station_enabled=charger.station.enabled,
        connectors=services.charger_info(charger).connectors,
    )


class StationsFacadeImpl:
    """In-process answers about connectors for the other contexts (reservations, pricing, telemetry...)."""

    def connector(self, connector_id: UUID) -> ConnectorView | None:
        connector = selectors.connector_get(connector_id)
        return connector_view(connector) if connector else None

    def connector_by_code(self, code: str) -> ConnectorView | None:
        connector = selectors.connector_get_by_code(code)
        return connector_view(connector) if connector else None

    def set_connector_status(self, *, connector_id: UUID, status: str, reason: str = "") -> None:
        services.connector_set_status(
            connector_id=connector_id, status=status, by=Actor.system(), reason=reason or "facade"
        )

    def charger(self, charger_id: UUID) -> ChargerView | None:
        charger = selectors.charger_get(charger_id)
        return charger_view(charger) if charger else None

    def charger_by_serial(self, serial: str) -> ChargerView | None:
        charger = selectors.charger_get_by_serial(serial)
        return charger_view(charger) if charger else None

    def chargers_of_station(self, station_id: UUID) -> list[ChargerView]:
        return [charger_view(charger) for charger in selectors.chargers_of_station(station_id)]
