from django.contrib import admin

from apps.telemetry.models import Charger, DailyRollup, LatestState
from evcharge.admin_scoping import OperatorScopedAdmin


class _ReadOnly(OperatorScopedAdmin):
    """Telemetry's tables are written by events and readings only: staff look, they do not edit.
    An operator's staff see their own chargers, and the readings of their stations."""

    operator_scope = "station_id"

    def scope_to_operator(self, queryset, operator_id):
        stations = Charger.objects.filter(operator_id=operator_id).values("station_id")
        return queryset.filter(station_id__in=stations)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Charger)
class ChargerHealthAdmin(_ReadOnly):
    operator_scope = "operator_id"

    def scope_to_operator(self, queryset, operator_id):
        return queryset.filter(operator_id=operator_id)

    list_display = ["serial", "station_name", "health", "health_reason", "health_changed_at", "last_seen_at"]
    list_filter = ["health", "fault_active", "station_name"]
    search_fields = ["serial", "station_name", "=charger_id", "=station_id"]
    readonly_fields = [f.name for f in Charger._meta.fields]
    ordering = ["station_name", "serial"]


@admin.register(LatestState)
class LatestStateAdmin(_ReadOnly):
    list_display = [
        "charger_id",
        "connector_id",
        "last_ts",
        "energy_wh",
        "power_w",
        "soc_pct",
        "status",
        "error_code",
    ]
    list_filter = ["status", "station_id"]
    search_fields = ["=charger_id", "=connector_id", "=station_id"]
    readonly_fields = [f.name for f in LatestState._meta.fields]
    date_hierarchy = "last_ts"


@admin.register(DailyRollup)
class DailyRollupAdmin(_ReadOnly):
    list_display = ["day", "charger_id", "station_id", "energy_wh", "max_power_w", "uptime_seconds", "reading_count"]
    list_filter = ["day", "station_id"]
    search_fields = ["=charger_id", "=station_id"]
    readonly_fields = [f.name for f in DailyRollup._meta.fields]
    date_hierarchy = "day"
