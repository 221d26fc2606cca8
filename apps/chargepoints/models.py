import uuid

from django.db import models
from django.db.models import Q


class ChargeBox(models.Model):
    """A charger as the OCPP gateway knows it: credentials, its link and what it said at boot. The id is the
    stations context's charger id; `charge_box_id` is the charger's serial (its OCPP identity)."""

    id = models.UUIDField(primary_key=True, help_text="The charger's id in the stations context.")
    charge_box_id = models.CharField(max_length=64, unique=True, help_text="OCPP identity: the charger's serial.")
    station_id = models.UUIDField(db_index=True)
    operator_id = models.UUIDField(db_index=True)
    password_hash = models.CharField(max_length=200, blank=True, help_text="Salted hash; the password is never shown.")
    password_set_at = models.DateTimeField(null=True, blank=True)
    password_set_by = models.UUIDField(null=True, blank=True)
    connected = models.BooleanField(default=False)
    gateway_instance = models.CharField(max_length=100, blank=True, help_text="The gateway holding the connection.")
    protocol = models.CharField(max_length=16, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    firmware_version = models.CharField(max_length=50, blank=True)
    serial_number = models.CharField(max_length=50, blank=True, help_text="chargePointSerialNumber from boot.")
    booted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, blank=True, help_text="StatusNotification of connector 0.")
    error_code = models.CharField(max_length=50, blank=True)
    firmware_status = models.CharField(max_length=40, blank=True)
    diagnostics_status = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = "charge box"
        verbose_name_plural = "charge boxes"

    def __str__(self) -> str:
        return self.charge_box_id


class OcppTransaction(models.Model):
    """One OCPP transaction. Its integer id is the transactionId the charger was given: unique platform-wide,
    never reused (a database sequence)."""

    id = models.BigAutoField(primary_key=True)
    charge_box = models.ForeignKey(ChargeBox, on_delete=models.PROTECT, related_name="transactions")
    connector_number = models.PositiveIntegerField()
    connector_id = models.UUIDField(null=True, blank=True)
    id_tag = models.CharField(max_length=20)
    user_id = models.UUIDField(null=True, blank=True)
    session_id = models.UUIDField(null=True, blank=True, unique=True)
    reservation_ocpp_id = models.IntegerField(null=True, blank=True)
    meter_start_wh = models.BigIntegerField()
    started_at = models.DateTimeField(help_text="The charger's timestamp.")
    meter_stop_wh = models.BigIntegerField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=30, blank=True)
    refusal = models.CharField(max_length=40, blank=True, help_text="Why no session started for it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["charge_box", "connector_number", "id_tag", "started_at", "meter_start_wh"],
                name="ocpp_transaction_replay_once",
            ),
        ]

    def __str__(self) -> str:
        return f"transaction {self.id} on {self.charge_box_id}/{self.connector_number}"


class RemoteCommand(models.Model):
    """A central-system call to a charger and the charger's answer, kept for operators to see."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        TIMEOUT = "timeout"
        OFFLINE = "offline"
        FAILED = "failed", "failed (CallError)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    charge_box = models.ForeignKey(ChargeBox, on_delete=models.PROTECT, related_name="commands")
    action = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    response = models.JSONField(null=True, blank=True, help_text="The charger's answer (or its CallError).")
    requested_by = models.UUIDField(null=True, blank=True, help_text="Empty: the platform itself.")
    session_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    gateway_instance = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["charge_box", "-created_at"], name="command_box_recent_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(action=""), name="command_action_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.action} → {self.charge_box_id} ({self.status})"


class OcppReservation(models.Model):
    """A reservation of a connector on an OCPP charger: its integer id is the reservationId the charger is given
    (ReserveNow, CancelReservation, StartTransaction), stable for the reservation's UUID."""

    id = models.BigAutoField(primary_key=True)
    reservation_id = models.UUIDField(unique=True, help_text="The reservation in the reservations context.")
    charge_box = models.ForeignKey(ChargeBox, on_delete=models.PROTECT, related_name="reservations")
    connector_number = models.PositiveIntegerField()
    user_id = models.UUIDField()
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    reserve_command_id = models.UUIDField(null=True, blank=True, help_text="The ReserveNow sent, once sent.")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "OCPP reservation"

    def __str__(self) -> str:
        return f"reservation {self.id} on {self.charge_box_id}/{self.connector_number}"


class StationAvailability(models.Model):
    """A station's `enabled` setting as the newest station.config.updated.v1 said it: an older copy arriving later
    sends no ChangeAvailability."""

    station_id = models.UUIDField(primary_key=True)
    enabled = models.BooleanField(default=True)
    config_version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "station availabilities"

    def __str__(self) -> str:
        return f"{self.station_id} {'enabled' if self.enabled else 'disabled'} (v{self.config_version})"
