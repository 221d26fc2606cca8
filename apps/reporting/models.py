"""The reporting read model: built from other contexts' events alone, never from their tables.

StationDim     one row per station (operator, time zone, connectors, current connector statuses)
SessionFact    one row per charging session, merged from session, invoice and payment events; once billing's
               invoice.updated.v1 (the invoice's whole money state, versioned) is seen, the newest version sets
               the money figures
PaymentFact    one row per payment (so a payment arriving before its invoice is not lost)
ReservationFact one row per reservation
DailyRollup    per (station, local day, currency): the sums the reports read
MonthlyRollup  the same per local calendar month, for long ranges

A fact remembers in `applied` exactly what it has added to the rollups, so a rollup is only ever moved
by the difference between what a fact contributes now and what it contributed before: replaying any
event, in any order, any number of times, leaves the rollups equal to the sum over the facts.
"""

from django.db import models
from django.utils.timezone import now


class StationDim(models.Model):
    station_id = models.UUIDField(primary_key=True)
    operator_id = models.UUIDField(null=True, blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    connector_count = models.PositiveIntegerField(default=0)
    connector_statuses = models.JSONField(
        default=dict,
        blank=True,
        help_text="{connector_id: [status, changed_at ISO, station version]} — latest status per connector",
    )
    enabled = models.BooleanField(default=True)
    known = models.BooleanField(
        default=False, help_text="False while only sessions or invoices have mentioned this station."
    )
    state_at = models.DateTimeField(null=True, blank=True, help_text="Time of the station event last applied.")
    source_version = models.PositiveIntegerField(default=0, help_text="The station's version last applied.")
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name", "station_id"]
        verbose_name = "station (reporting)"
        verbose_name_plural = "stations (reporting)"

    def __str__(self) -> str:
        return self.name or str(self.station_id)


class SessionFact(models.Model):
    ACTIVE, COMPLETED, UNKNOWN = "active", "completed", "unknown"

    session_id = models.UUIDField(primary_key=True)
    station_id = models.UUIDField(null=True, blank=True)
    operator_id = models.UUIDField(null=True, blank=True)
    connector_id = models.UUIDField(null=True, blank=True)
    user_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=10, default=UNKNOWN, db_index=True)
    currency = models.CharField(max_length=3, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    energy_wh = models.BigIntegerField(default=0)
    invoice_id = models.UUIDField(null=True, blank=True, unique=True)
    invoice_voided = models.BooleanField(default=False)
    revenue_amount = models.BigIntegerField(default=0, help_text="The invoice's total, minor units.")
    discount_amount = models.BigIntegerField(default=0)
    paid_amount = models.BigIntegerField(default=0, help_text="Succeeded payments net of refunds.")
    invoice_version = models.BigIntegerField(
        default=0,
        db_default=0,
        help_text="The newest invoice.updated.v1 version applied (0: none yet). Once one is seen, its figures "
        "are the invoice's money and invoice.generated / payment.* no longer move it.",
    )
    invoice_status = models.CharField(max_length=10, blank=True, db_default="", help_text="As of invoice_version.")
    applied = models.JSONField(
        default=list,
        blank=True,
        help_text="What this fact has added to the daily rollups: "
        "[[day, currency, sessions, energy_wh, revenue, paid, occupied_seconds], ...]",
    )
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["station_id", "started_at"], name="reporting_fact_station_idx")]

    def __str__(self) -> str:
        return str(self.session_id)


class PaymentFact(models.Model):
    PENDING, FAILED, SUCCEEDED, REFUNDED = "pending", "failed", "succeeded", "refunded"
    PRECEDENCE = {PENDING: 0, FAILED: 1, SUCCEEDED: 2, REFUNDED: 3}

    payment_id = models.UUIDField(primary_key=True)
    invoice_id = models.UUIDField(db_index=True)
    session_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=10)
    amount = models.BigIntegerField(default=0, help_text="Captured (from payment.succeeded.v1).")
    refunded_amount = models.BigIntegerField(default=0, help_text="From payment.refunded.v1.")
    currency = models.CharField(max_length=3, blank=True)
    reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.status}"


class ReservationFact(models.Model):
    CONFIRMED, CANCELLED, EXPIRED = "confirmed", "cancelled", "expired"
    PRECEDENCE = {CONFIRMED: 0, CANCELLED: 1, EXPIRED: 1}

    reservation_id = models.UUIDField(primary_key=True)
    station_id = models.UUIDField(db_index=True)
    connector_id = models.UUIDField(null=True, blank=True)
    user_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=10)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    local_day = models.DateField(null=True, blank=True, help_text="starts_at's date in the station's time zone")
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["local_day", "station_id"], name="reporting_resv_day_idx")]

    def __str__(self) -> str:
        return f"{self.reservation_id} {self.status}"


class RollupFigures(models.Model):
    """The figures a rollup sums, per station and currency."""

    station_id = models.UUIDField()
    operator_id = models.UUIDField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    sessions = models.BigIntegerField(default=0)
    energy_wh = models.BigIntegerField(default=0)
    revenue_amount = models.BigIntegerField(default=0)
    paid_amount = models.BigIntegerField(default=0)
    occupied_seconds = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class DailyRollup(RollupFigures):
    """Sums per station, local day (station's time zone) and currency. Sessions, energy and money count
    on the local day a session started; occupied connector-seconds are split across the days it spans."""

    day = models.DateField()

    class Meta:
        ordering = ["-day", "station_id"]
        constraints = [
            models.UniqueConstraint(fields=["station_id", "day", "currency"], name="reporting_rollup_key"),
        ]
        indexes = [
            models.Index(fields=["day"], name="reporting_rollup_day_idx"),
            models.Index(fields=["operator_id", "day"], name="reporting_rollup_op_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.day} {self.currency}"


class MonthlyRollup(RollupFigures):
    """The daily rollups summed per calendar month (moved by the same deltas): a year's report reads ~12 rows
    per station instead of ~365."""

    month = models.DateField(help_text="The month's first day.")

    class Meta:
        ordering = ["-month", "station_id"]
        constraints = [
            models.UniqueConstraint(fields=["station_id", "month", "currency"], name="reporting_monthly_key"),
        ]
        indexes = [
            models.Index(fields=["month"], name="reporting_monthly_month_idx"),
            models.Index(fields=["operator_id", "month"], name="reporting_monthly_op_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.month:%Y-%m} {self.currency}"


class Dashboard(StationDim):
    """No table: the admin's link to the staff dashboard."""

    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboard (charts)"
