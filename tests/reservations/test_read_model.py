"""The connector read model follows the stations and adminconfig contexts' events."""

import dataclasses
from datetime import UTC, datetime, timedelta

from apps.reservations.models import Connector
from evcharge.contracts.stations import StationStatusChanged, StationUpdated
from tests.reservations.conftest import publish_in_transaction


def _status_change(station, connector, new_status, *, at=None) -> StationStatusChanged:
    return StationStatusChanged(
        station_id=station.station_id,
        charger_id=station.chargers[0].charger_id,
        connector_id=connector.connector_id,
        connector_type=connector.type,
        old_status=connector.status,
        new_status=new_status,
        changed_at=at or datetime.now(UTC),
    )


def test_station_created_fills_the_read_model(station, operator_org):
    rows = {c.id: c for c in Connector.objects.filter(station_id=station.station_id)}
    assert len(rows) == 2
    for info in station.chargers[0].connectors:
        row = rows[info.connector_id]
        assert (row.operator_id, row.type, row.code, row.status) == (operator_org.id, info.type, info.code, "Available")
        assert row.station_name == "Harbour Hub"
        assert row.charger_id == station.chargers[0].charger_id


def test_status_changes_apply_in_time_order(station, connector):
    publish_in_transaction(_status_change(station, connector, "Faulted"))
    assert Connector.objects.get(id=connector.connector_id).status == "Faulted"
    stale = _status_change(station, connector, "Charging", at=datetime.now(UTC) - timedelta(hours=1))
    publish_in_transaction(stale)
    assert Connector.objects.get(id=connector.connector_id).status == "Faulted"


def test_station_updated_drops_connectors_it_no_longer_lists(station, connector, driver_client, reserve):
    kept = dataclasses.replace(station.chargers[0], connectors=[station.chargers[0].connectors[1]])
    publish_in_transaction(
        StationUpdated(
            station_id=station.station_id,
            operator_id=station.operator_id,
            changed=["chargers", "name"],
            name="Harbour Hub North",
            timezone=station.timezone,
            location=station.location,
            chargers=[kept],
        )
    )
    assert not Connector.objects.get(id=connector.connector_id).present
    assert Connector.objects.get(id=kept.connectors[0].connector_id).station_name == "Harbour Hub North"
    assert reserve(driver_client, connector.connector_id).status_code == 404


def test_status_of_an_unknown_connector_is_ignored(station, connector):
    other = dataclasses.replace(connector, connector_id=connector.connector_id.__class__(int=1))
    publish_in_transaction(_status_change(station, other, "Faulted"))
    assert not Connector.objects.filter(id=other.connector_id).exists()
