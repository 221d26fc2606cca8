import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from evcharge.contracts.stations import CONNECTOR_STATUSES, CONNECTOR_TYPES, STATION_STATUSES

# Connector statuses are OCPP 1.6's; a station's status is derived from its connectors (see derive_station_status).
AVAILABLE, PREPARING, CHARGING = "Available", "Preparing", "Charging"
SUSPENDED_EVSE, SUSPENDED_EV, FINISHING = "SuspendedEVSE", "SuspendedEV", "Finishing"
RESERVED, UNAVAILABLE, FAULTED = "Reserved", "Unavailable", "Faulted"
IN_USE_STATUSES = (PREPARING, CHARGING, SUSPENDED_EVSE, SUSPENDED_EV, FINISHING, RESERVED)

STATION_AVAILABLE, STATION_OCCUPIED, STATION_FAULTED, STATION_UNAVAILABLE = STATION_STATUSES

MAX_POWER_KW = 1000.0


def derive_station_status(*, enabled: bool, connector_statuses: list[str]) -> str:
    """available: a connector is Available; occupied: none is, but one is in use (Preparing, Charging,
    Suspended*, Finishing, Reserved); faulted: every connector is Faulted; unavailable: otherwise
    (disabled station, no connectors, or only Unavailable/Faulted ones)."""
    if not enabled or not connector_statuses:
        return STATION_UNAVAILABLE
    if AVAILABLE in connector_statuses:
        return STATION_AVAILABLE
    if any(status in IN_USE_STATUSES for status in connector_statuses):
        return STATION_OCCUPIED
    if all(status == FAULTED for status in connector_statuses):
        return STATION_FAULTED
    return STATION_UNAVAILABLE


class Station(models.Model):
    """A charging site of one operator (referenced by id: the operator lives in the identity context)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    operator_id = models.UUIDField(db_index=True)
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=500, blank=True)
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    timezone = models.CharField(max_length=64, default="UTC")
    enabled = models.BooleanField(default=True, help_text="Set from station.config.updated.v1 (admin config).")
    reservable = models.BooleanField(default=True, help_text="Set from station.config.updated.v1.")
    status = models.CharField(
        max_length=12,
        choices=[(s, s) for s in STATION_STATUSES],
        default=STATION_UNAVAILABLE,
        db_index=True,
        help_text="Derived from the connectors' statuses and `enabled`; kept current by the services.",
    )
    version = models.PositiveIntegerField(
        default=0, help_text="Bumped with every station.created/updated/status_changed.v1 it publishes."
    )
    config_version = models.PositiveIntegerField(default=0, help_text="Of the station.config.updated.v1 applied.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["latitude", "longitude"], name="station_location_idx")]

    def __str__(self) -> str:
        return self.name


UNHEALTHY = ("offline", "faulted")
"""Charger health values (telemetry's) under which its connectors read Unavailable to drivers."""


class Charger(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="chargers")
    serial = models.CharField(max_length=100, unique=True)
    max_power_kw = models.FloatField(validators=[MinValueValidator(0.1), MaxValueValidator(MAX_POWER_KW)])
    health = models.CharField(
        max_length=10, blank=True, default="", help_text="From charger.health_changed.v1; empty: never reported."
    )
    health_changed_at = models.DateTimeField(null=True, blank=True)
    health_version = models.PositiveIntegerField(default=0, help_text="Of the charger.health_changed.v1 applied.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "serial"]

    def __str__(self) -> str:
        return self.serial


class Connector(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    charger = models.ForeignKey(Charger, on_delete=models.CASCADE, related_name="connectors")
    number = models.PositiveSmallIntegerField(help_text="OCPP connector id on its charger, from 1.")
    type = models.CharField(max_length=10, choices=[(t, t) for t in CONNECTOR_TYPES])
    max_power_kw = models.FloatField(validators=[MinValueValidator(0.1), MaxValueValidator(MAX_POWER_KW)])
    code = models.CharField(max_length=16, unique=True, editable=False, help_text="What its QR code carries.")
    status = models.CharField(
        max_length=16, choices=[(s, s) for s in CONNECTOR_STATUSES], default=AVAILABLE, db_index=True
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    active_session_id = models.UUIDField(
        null=True, blank=True, help_text="The session charging here (from session.started.v1)."
    )
    last_completed_session_id = models.UUIDField(
        null=True, blank=True, help_text="From session.completed.v1; guards against out-of-order events."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["charger", "number"], name="connector_number_unique_per_charger")
        ]

    def __str__(self) -> str:
        return f"{self.code} (#{self.number} {self.type})"
