from django.db import models


class ConfigEntry(models.Model):
    """A dotted config key with a JSON value; `version` grows with every change (the ETag)."""

    key = models.CharField(primary_key=True, max_length=200)
    value = models.JSONField(null=True)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.UUIDField(null=True, blank=True)
    updated_by_email = models.CharField(
        "updated by", max_length=254, blank=True, help_text="The e-mail of who changed it, as it was then."
    )

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "config entries"

    def __str__(self) -> str:
        return self.key

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class ConfigChange(models.Model):
    """One change of a config entry: append-only history."""

    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(ConfigEntry, on_delete=models.CASCADE, related_name="history")
    version = models.PositiveIntegerField()
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    old_description = models.TextField(blank=True)
    new_description = models.TextField(blank=True)
    changed_by = models.UUIDField(null=True, blank=True)
    changed_by_email = models.CharField("changed by", max_length=254, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["entry", "version"], name="config_change_once_per_version")]

    def __str__(self) -> str:
        return f"{self.entry_id} v{self.version}"


class StationSettings(models.Model):
    """Per-station settings, seeded from config defaults when the station appears (station.created.v1); its name and
    operator follow the station's newest event (station.created/updated.v1)."""

    station_id = models.UUIDField(primary_key=True)
    operator_id = models.UUIDField(db_index=True)
    station_name = models.CharField(max_length=200, blank=True)
    station_version = models.PositiveIntegerField(
        default=0, help_text="The station's version its name and operator are from (station.created/updated.v1)."
    )
    enabled = models.BooleanField(default=True)
    reservable = models.BooleanField(default=True)
    max_power_kw = models.FloatField(null=True, blank=True)
    rate_plan_id = models.UUIDField(null=True, blank=True)
    idle_grace_min = models.PositiveIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["station_name"]
        verbose_name_plural = "station settings"

    def __str__(self) -> str:
        return self.station_name or str(self.station_id)


SETTINGS_FIELDS = ("enabled", "reservable", "max_power_kw", "rate_plan_id", "idle_grace_min")
