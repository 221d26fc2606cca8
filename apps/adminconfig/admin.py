from django.contrib import admin

from apps.adminconfig.models import ConfigChange, ConfigEntry, StationSettings
from evcharge.admin_scoping import OperatorScopedAdmin, OperatorScopedInlineMixin


class ConfigChangeInline(OperatorScopedInlineMixin, admin.TabularInline):
    model = ConfigChange
    extra = 0
    can_delete = False
    fields = ["version", "old_value", "new_value", "changed_by", "changed_at"]
    readonly_fields = fields
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConfigEntry)
class ConfigEntryAdmin(OperatorScopedAdmin):
    """Read here; change through PUT /api/v1/admin/config/{key} so history, schema checks and
    config.changed.v1 always apply. The platform's configuration: admins only."""

    list_display = ["key", "value", "version", "updated_at", "updated_by"]
    search_fields = ["key", "description"]
    readonly_fields = ["key", "value", "description", "version", "updated_at", "updated_by"]
    inlines = [ConfigChangeInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(StationSettings)
class StationSettingsAdmin(OperatorScopedAdmin):
    operator_scope = "operator_id"
    list_display = [
        "station_name",
        "station_id",
        "operator_id",
        "enabled",
        "reservable",
        "max_power_kw",
        "rate_plan_id",
        "idle_grace_min",
        "version",
        "updated_at",
    ]
    list_filter = ["enabled", "reservable", "operator_id"]
    search_fields = ["station_name", "station_id"]
    readonly_fields = [field.name for field in StationSettings._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
