from uuid import UUID

from apps.stations import selectors, services
from apps.stations.models import Connector
from evcharge.actor import Actor
from evcharge.contracts.stations import ConnectorView


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
