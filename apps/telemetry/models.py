"""Telemetry's tables: a local read model of chargers (from station events), the raw readings (built for
volume), the latest state per charger/connector, and daily rollups kept longer than the raw data."""

import uuid

from django.db import models

# Charger-level readings (no connector) are stored under this connector key, so that the dedupe key
# (ts, charger, connector, kind) never holds a NULL and one plain unique index works on every database.
CHARGER_LEVEL = uuid.UUID(int=0)

ONLINE, OFFLINE, FAULTED = "online", "offline", "faulted"
HEALTHS = (ONLINE, OFFLINE, FAULTED)


class Kind(models.IntegerChoices):
    METER = 1, "meter"
    STATUS = 2, "status"
    FAULT = 3, "fault"
    HEARTBEAT = 4, "heartbeat"


KIND_BY_NAME = {label: value for value, label in Kind.choices}
KIND_NAMES = {value: label for value, label in Kind.choices}


class Charger(models.Model):
    """A charger as telemetry knows it: identity from station.created/updated.v1, health from its readings."""

    class Health(models.TextChoices):
        ONLINE = ONLINE, "Online"
        OFFLINE = OFFLINE, "Offline"
        FAULTED = FAULTED, "Faulted"

    charger_id = models.UUIDField(primary_key=True)
    station_id = models.UUIDField(db_index=True)
    operator_id = models.UUIDField(db_index=True)
    station_name = models.CharField(max_length=200, blank=True)
    serial = models.CharField(max_length=100, blank=True)
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.OFFLINE, db_index=True)
    health_reason = models.CharField(max_length=200, default="never seen")
    health_changed_at = models.DateTimeField(null=True, blank=True)
    health_version = models.PositiveIntegerField(default=0, help_text="Bumped with each charger.health_changed.v1.")
    station_version = models.PositiveIntegerField(default=0, help_text="The station's version its data is from.")
    fault_active = models.BooleanField(default=False)
    fault_ts = models.DateTimeField(
        null=True, blank=True, help_text="Time of the latest fault/status event that set or cleared the fault."
    )
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="Newest reading or heartbeat time.")
    ocpp_connected = models.BooleanField(
        default=False, help_text="Holds an OCPP connection: in contact, whatever its last reading's age."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["station_name", "serial"]
        indexes = [models.Index(fields=["health", "last_seen_at"], name="telemetry_charger_sweep")]

    def __str__(self) -> str:
        return self.serial or str(self.charger_id)


class Connector(models.Model):
    """A connector as telemetry knows it (read model), to check that a reading's connector is the charger's."""

    connector_id = models.UUIDField(primary_key=True)
    charger_id = models.UUIDField(db_index=True)
    station_id = models.UUIDField()
    number = models.PositiveSmallIntegerField(default=0)
    type = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["charger_id", "number"]

    def __str__(self) -> str:
        return f"{self.type} #{self.number}"


class Reading(models.Model):
    """One raw telemetry event. Append-mostly and time-ordered: the primary key leads with ts (inserts land
    at the right edge of the b-tree) and doubles as the dedupe key; PostgreSQL also gets a BRIN index on ts
    (migration 0002) for cheap range scans (rollups, retention). Written per batch with binary COPY (see
    storage.insert_readings: straight in when all readings are new, else deduplicated ON CONFLICT DO NOTHING)."""

    pk = models.CompositePrimaryKey("ts", "charger_id", "connector_id", "kind")
    ts = models.DateTimeField()
    charger_id = models.UUIDField()
    connector_id = models.UUIDField(help_text="CHARGER_LEVEL (all zeros) for charger-level events.")
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    energy_wh = models.BigIntegerField(null=True)
    power_w = models.IntegerField(null=True)
    voltage_v = models.FloatField(null=True)
    current_a = models.FloatField(null=True)
    soc_pct = models.FloatField(null=True)
    temperature_c = models.FloatField(null=True)
    error_code = models.CharField(max_length=50, null=True)
    status = models.CharField(max_length=20, null=True)

    def __str__(self) -> str:
        return f"{self.ts} {self.charger_id} {KIND_NAMES.get(self.kind, self.kind)}"


class LatestState(models.Model):
    """The newest known values per charger/connector, upserted once per batch. Each group of fields moves
    only forward in time (the upsert compares timestamps), so concurrent batches leave the newest data."""

    charger_id = models.UUIDField()
    connector_id = models.UUIDField(help_text="CHARGER_LEVEL (all zeros) for charger-level events.")
    station_id = models.UUIDField(db_index=True)
    last_ts = models.DateTimeField()
    meter_ts = models.DateTimeField(null=True, blank=True)
    energy_wh = models.BigIntegerField(null=True, blank=True)
    power_w = models.IntegerField(null=True, blank=True)
    voltage_v = models.FloatField(null=True, blank=True)
    current_a = models.FloatField(null=True, blank=True)
    soc_pct = models.FloatField(null=True, blank=True)
    temperature_c = models.FloatField(null=True, blank=True)
    status_ts = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, null=True, blank=True)
    fault_ts = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=50, null=True, blank=True)

    class Meta:
        ordering = ["charger_id", "connector_id"]
        verbose_name = "latest state"
        constraints = [
            models.UniqueConstraint(fields=["charger_id", "connector_id"], name="telemetry_latest_one_per_key")
        ]
        indexes = [models.Index(fields=["connector_id"], name="telemetry_latest_connector")]

    def __str__(self) -> str:
        return f"{self.charger_id}/{self.connector_id}"

    @property
    def is_charger_level(self) -> bool:
        return self.connector_id == CHARGER_LEVEL


class DailyRollup(models.Model):
    """One UTC day of one charger, computed from the raw readings before they are dropped; kept longer."""

    day = models.DateField()
    charger_id = models.UUIDField()
    station_id = models.UUIDField(db_index=True)
    energy_wh = models.BigIntegerField(
        default=0, help_text="Sum over connectors of (max - min) cumulative meter reading."
    )
    max_power_w = models.IntegerField(null=True, blank=True)
    uptime_seconds = models.IntegerField(
        default=0, help_text="Time between consecutive events no further apart than the offline threshold."
    )
    reading_count = models.IntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "charger_id"]
        constraints = [models.UniqueConstraint(fields=["day", "charger_id"], name="telemetry_rollup_one_per_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.charger_id}"


class Maintenance(models.Model):
    """A single row: how far raw readings have been rolled up and dropped."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    purged_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"raw readings dropped before {self.purged_until}"
