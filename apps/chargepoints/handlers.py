"""Subscribers of the chargepoints context: what other contexts' events ask of OCPP chargers."""

from apps.chargepoints.services import commands
from evcharge.contracts.adminconfig import StationConfigUpdated
from evcharge.contracts.reservations import ReservationCancelled, ReservationCreated
from evcharge.events import EventEnvelope, subscriber


@subscriber("station.config.updated.v1", consumer="chargepoints")
def on_station_config_updated(event: EventEnvelope[StationConfigUpdated]) -> None:
    """A station disabled makes its connected chargers Inoperative; enabled again, Operative (an older copy of the
    settings arriving after a newer one sends nothing)."""
    data = event.data
    newest = commands.station_availability_record(
        station_id=data.station_id, enabled=data.settings.enabled, version=data.version
    )
    if newest and "enabled" in data.changed:
        commands.charge_boxes_set_availability(station_id=data.station_id, operative=data.settings.enabled)


@subscriber("reservation.created.v1", consumer="chargepoints")
def on_reservation_created(event: EventEnvelope[ReservationCreated]) -> None:
    data = event.data
    commands.ocpp_reservation_record(
        reservation_id=data.reservation_id,
        connector_id=data.connector_id,
        user_id=data.user_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
    )


@subscriber("reservation.cancelled.v1", consumer="chargepoints")
def on_reservation_cancelled(event: EventEnvelope[ReservationCancelled]) -> None:
    commands.ocpp_reservation_cancel(reservation_id=event.data.reservation_id)
