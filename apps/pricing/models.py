import uuid

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

CONNECTOR_TYPE_CHOICES = [(t, t) for t in ("CCS1", "CCS2", "CHADEMO", "TYPE1", "TYPE2", "NACS", "GBT")]


class RatePlan(models.Model):
    """An operator's prices. All amounts are integers in minor units of `currency`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    operator_id = models.UUIDField(db_index=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, help_text="ISO 4217, e.g. EUR.")
    energy_price_per_kwh = models.PositiveBigIntegerField(default=0, help_text="Minor units per kWh.")
    time_price_per_min = models.PositiveBigIntegerField(default=0, help_text="Minor units per minute charging.")
    session_fee = models.PositiveBigIntegerField(default=0, help_text="Minor units per session.")
    idle_fee_per_min = models.PositiveBigIntegerField(default=0, help_text="Minor units per idle minute.")
    idle_grace_min = models.PositiveIntegerField(default=0, help_text="Idle minutes free of charge.")
    is_default = models.BooleanField(
        default=False, help_text="Applies to the operator's stations when no rule or assignment does."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["operator_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator_id"], condition=models.Q(is_default=True), name="pricing_one_default_plan"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PricingRule(models.Model):
    """Which plan applies where. The most specific valid rule wins (station+type > station > type >
    operator-wide), then the highest priority."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    operator_id = models.UUIDField(db_index=True, help_text="The rate plan's operator.")
    rate_plan = models.ForeignKey(RatePlan, on_delete=models.PROTECT, related_name="rules")
    station_id = models.UUIDField(null=True, blank=True, db_index=True)
    connector_type = models.CharField(max_length=10, choices=CONNECTOR_TYPE_CHOICES, null=True, blank=True)
    priority = models.IntegerField(default=0)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["operator_id", "-priority", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gt=models.F("valid_from")),
                name="pricing_rule_window_ordered",
            )
        ]

    def __str__(self) -> str:
        scope = " ".join(str(part) for part in (self.station_id, self.connector_type) if part) or "all stations"
        return f"{self.rate_plan} @ {scope} (priority {self.priority})"

    @property
    def specificity(self) -> int:
        return (2 if self.station_id else 0) + (1 if self.connector_type else 0)

    def is_valid_at(self, at) -> bool:
        return (self.valid_from is None or self.valid_from <= at) and (self.valid_to is None or at < self.valid_to)


class StationPlanAssignment(models.Model):
    """A station's rate plan set in its settings (station.config.updated.v1); wins over every rule."""

    station_id = models.UUIDField(primary_key=True)
    operator_id = models.UUIDField()
    rate_plan_id = models.UUIDField(null=True, blank=True)
    idle_grace_min = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the plan's idle grace at this station."
    )
    max_power_kw = models.FloatField(
        null=True, blank=True, help_text="The station's power cap from its settings; caps what a quote assumes."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    config_version = models.PositiveIntegerField(default=0, help_text="Of the station.config.updated.v1 applied.")

    def __str__(self) -> str:
        return f"{self.station_id} -> {self.rate_plan_id}"


class KnownStation(models.Model):
    """Pricing's read model of a station, built from station.* events (never the stations tables)."""

    station_id = models.UUIDField(primary_key=True)
    operator_id = models.UUIDField(db_index=True, null=True, blank=True, help_text="None until `known`.")
    name = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    known = models.BooleanField(
        default=True,
        help_text="False: only a connector's newer status has arrived, ahead of the station's own event; the "
        "station is unknown to quotes until that event comes.",
    )
    version = models.UUIDField(
        default=uuid.uuid4, help_text="Changes with every change to the station or its connectors (cache key)."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    source_version = models.PositiveIntegerField(default=0, help_text="Of the station event applied last.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or str(self.station_id)


class KnownConnector(models.Model):
    connector_id = models.UUIDField(primary_key=True)
    station = models.ForeignKey(KnownStation, on_delete=models.CASCADE, related_name="connectors")
    charger_id = models.UUIDField()
    type = models.CharField(max_length=10, choices=CONNECTOR_TYPE_CHOICES)
    max_power_kw = models.FloatField(default=0, help_text="As the stations context states it; 0 when unknown.")
    status = models.CharField(max_length=20, default="Available")
    status_at = models.DateTimeField(default=timezone.now, help_text="When the status was last known to change.")
    source_version = models.PositiveIntegerField(default=0, help_text="Of the station event its status is from.")

    def __str__(self) -> str:
        return f"{self.type} {self.connector_id} ({self.status})"


class ReadModelVersion(models.Model):
    """One row whose token changes with every change to plans, rules and station assignments. Each web
    process keeps resolved quotes in memory and trusts one while this token and its station's `version`
    are unchanged (one indexed query per quote checks both)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return str(self.token)


class Promotion(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", "Percent off"
        FIXED = "fixed", "Fixed amount off"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    operator_id = models.UUIDField(db_index=True)
    code = models.CharField(max_length=40, help_text="As entered; matched case-insensitively.")
    code_key = models.CharField(max_length=40, db_index=True, editable=False, help_text="The code upper-cased.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.PositiveBigIntegerField(
        validators=[MinValueValidator(1)], help_text="Percent (1-100) or an amount in minor units."
    )
    currency = models.CharField(max_length=3, null=True, blank=True, help_text="Required for fixed amounts.")
    min_amount = models.PositiveBigIntegerField(default=0)
    max_discount = models.PositiveBigIntegerField(null=True, blank=True)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True)
    station_ids = models.JSONField(default=list, blank=True, help_text="Empty: all the operator's stations.")
    max_redemptions = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    max_per_user = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    redemptions_count = models.PositiveIntegerField(
        default=0, help_text="Redemptions in force (released ones give their use back)."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["operator_id", "code_key"], name="pricing_promotion_code_per_operator"),
            models.CheckConstraint(
                condition=~models.Q(kind="percent") | models.Q(value__lte=100), name="pricing_percent_at_most_100"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="fixed") | models.Q(currency__isnull=False),
                name="pricing_fixed_needs_currency",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        self.code_key = self.code.strip().upper()
        super().save(*args, **kwargs)


class Redemption(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="redemptions")
    user_id = models.UUIDField(db_index=True)
    reference = models.CharField(max_length=100, help_text="What the discount was for (the invoice id).")
    station_id = models.UUIDField(null=True, blank=True)
    amount = models.PositiveBigIntegerField(help_text="The invoice's total the discount was computed from.")
    currency = models.CharField(max_length=3)
    discount_amount = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["promotion", "reference"], name="pricing_one_redemption_per_reference")
        ]

    def __str__(self) -> str:
        return f"{self.promotion} for {self.reference} ({self.status})"
