import uuid

from django.db import models
from django.db.models import F, Q

FAULTED, UNAVAILABLE = "Faulted", "Unavailable"
OUT_OF_SERVICE_STATUSES = (FAULTED, UNAVAILABLE)


class Connector(models.Model):
    """Read model: what reservations knows about a connector, built from the stations context's events.

    Never written by this context's users; the stations context owns the truth."""

    id = models.UUIDField(primary_key=True, help_text="The connector id in the stations context.")
    station_id = models.UUIDField(db_index=True)
    charger_id = models.UUIDField()
    operator_id = models.UUIDField(db_index=True)
    station_name = models.CharField(max_length=200, blank=True)
    station_timezone = models.CharField(max_length=64, default="UTC")
    station_enabled = models.BooleanField(default=True, help_text="As the stations context says.")
    station_reservable = models.BooleanField(default=True, help_text="As the stations context says.")
    number = models.PositiveIntegerField(default=1)
    type = models.CharField(max_length=16)
    max_power_kw = models.FloatField(default=0)
    status = models.CharField(max_length=20, default="Available")
    status_at = models.DateTimeField(null=True, blank=True, help_text="When the status was last known to change.")
    source_version = models.PositiveIntegerField(
        default=0, help_text="The station's version its data is from (station.created/updated.v1)."
    )
    status_version = models.PositiveIntegerField(
        default=0, help_text="The station's version its status is from (any station event: status_changed too)."
    )
    code = models.CharField(max_length=32, db_index=True)
    charger_health = models.CharField(
        max_length=10, blank=True, default="", help_text="From charger.health_changed.v1; empty: never reported."
    )
    charger_health_at = models.DateTimeField(null=True, blank=True)
    charger_health_version = models.PositiveIntegerField(
        default=0, help_text="Of the charger.health_changed.v1 applied."
    )
    present = models.BooleanField(
        default=True, help_text="False once the station's latest data no longer lists this connector."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["station_name", "number"]

    def __str__(self) -> str:
        return f"{self.station_name or self.station_id} #{self.number} {self.type} ({self.code})"

    @property
    def out_of_service(self) -> bool:
        return self.status in OUT_OF_SERVICE_STATUSES

    @property
    def charger_unreachable(self) -> bool:
        return self.charger_health in ("offline", "faulted")


class StationSettings(models.Model):
    """Read model: a station's settings from station.config.updated.v1 (kept apart from the connectors,
    so settings that arrive before the station itself are not lost). No row = the defaults."""

    station_id = models.UUIDField(primary_key=True)
    operator_id = models.UUIDField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    reservable = models.BooleanField(default=True)
    config_version = models.PositiveIntegerField(default=0, help_text="Of the station.config.updated.v1 applied.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "station settings"
        verbose_name_plural = "station settings"

    def __str__(self) -> str:
        return str(self.station_id)


class ChargerHealth(models.Model):
    """Read model: a charger's health as its newest charger.health_changed.v1 says it, kept apart from the connectors
    so a health change that arrives before the station's own event is not lost: a connector that event brings takes
    its charger's health from here (Connector.charger_health is the copy the reads use)."""

    charger_id = models.UUIDField(primary_key=True)
    health = models.CharField(max_length=10)
    changed_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=0, help_text="Of the charger.health_changed.v1 applied.")

    def __str__(self) -> str:
        return f"{self.charger_id} {self.health} (v{self.version})"


class ConnectorStatusAhead(models.Model):
    """A connector's status from a station.status_changed.v1 that arrived before the station's own event brought the
    connector (the status change is newer than that event): the connector takes it when it comes, then it goes."""

    connector_id = models.UUIDField(primary_key=True)
    status = models.CharField(max_length=20)
    status_at = models.DateTimeField()
    version = models.PositiveIntegerField(help_text="The station's version the status is from.")

    class Meta:
        verbose_name_plural = "connector statuses ahead"

    def __str__(self) -> str:
        return f"{self.connector_id} {self.status} (v{self.version})"


class Reservation(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed"
        CANCELLED = "cancelled"
        EXPIRED = "expired"
        FULFILLED = "fulfilled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField(db_index=True)
    connector_id = models.UUIDField()
    station_id = models.UUIDField(db_index=True)
    operator_id = models.UUIDField(db_index=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.UUIDField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    session_id = models.UUIDField(null=True, blank=True, help_text="The session that fulfilled it.")

    class Meta:
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["connector_id", "status", "starts_at"], name="reservation_connector_idx"),
            models.Index(fields=["status", "ends_at"], name="reservation_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="reservation_ends_after_start"),
        ]
        # On PostgreSQL, migration 0002 adds the exclusion constraint `reservation_no_overlap`:
        # no two confirmed reservations of one connector overlap in time.

    def __str__(self) -> str:
        return f"Reservation {self.id} ({self.status})"


class ChargingSession(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending (waiting for the charger to start)"
        ACTIVE = "active"
        COMPLETED = "completed"
        CANCELLED = "cancelled", "cancelled (the charger never started it)"

    OPEN_STATUSES = (Status.PENDING, Status.ACTIVE)

    class EnergyStatus(models.TextChoices):
        MEASURING = "measuring", "measuring (active)"
        AWAITING_METER = "awaiting_meter", "awaiting the charger's reading"
        METERED = "metered", "metered by the charger"
        SETTLED = "settled", "settled by staff"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField(db_index=True)
    connector_id = models.UUIDField(db_index=True)
    station_id = models.UUIDField(db_index=True)
    operator_id = models.UUIDField(db_index=True)
    connector_type = models.CharField(max_length=16)
    reservation_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    meter_start_wh = models.BigIntegerField(
        null=True, blank=True, help_text="The charger's reading at start; empty until one is known."
    )
    meter_stop_wh = models.BigIntegerField(null=True, blank=True)
    energy_wh = models.BigIntegerField(null=True, blank=True)
    energy_status = models.CharField(max_length=16, choices=EnergyStatus.choices, default=EnergyStatus.MEASURING)
    settled_by = models.UUIDField(null=True, blank=True, help_text="Staff member who settled the energy.")
    settled_at = models.DateTimeField(null=True, blank=True)
    settlement_reason = models.TextField(blank=True, help_text="Why staff settled the energy by hand.")
    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    charging_ended_at = models.DateTimeField(null=True, blank=True)
    tariff = models.JSONField(help_text="The price snapshot the session started with (TariffSnapshot).")
    stopped_by = models.UUIDField(null=True, blank=True, help_text="User who stopped it (empty: a machine).")
    stop_requested_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a stop was sent to the charger (OCPP); it completes on the charger's word.",
    )
    cancel_reason = models.CharField(max_length=200, blank=True, help_text="Why a pending session was cancelled.")

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "charging session"
        indexes = [
            models.Index(
                fields=["connector_id", "ended_at"],
                condition=Q(energy_status="awaiting_meter"),
                name="session_awaiting_meter_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["connector_id"],
                condition=Q(status__in=["pending", "active"]),
                name="one_active_session_per_connector",
            ),
            models.UniqueConstraint(
                fields=["user_id"], condition=Q(status__in=["pending", "active"]), name="one_active_session_per_driver"
            ),
            models.CheckConstraint(condition=Q(meter_start_wh__gte=0), name="session_meter_start_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "active", "cancelled"]) | Q(meter_stop_wh__gte=F("meter_start_wh")),
                name="session_meter_stop_not_below_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.id} ({self.status})"
