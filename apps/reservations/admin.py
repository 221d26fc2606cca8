from django.contrib import admin, messages

from apps.reservations import selectors, services
from apps.reservations.models import ChargingSession, Connector, Reservation, StationSettings
from evcharge.actor import Actor
from evcharge.errors import DomainError


class StationFilter(admin.SimpleListFilter):
    title = "station"
    parameter_name = "station_id"

    def lookups(self, request, model_admin):
        return [(str(station_id), name or str(station_id)) for station_id, name in selectors.station_names()]

    def queryset(self, request, queryset):
        return queryset.filter(station_id=self.value()) if self.value() else queryset


class OperatorFilter(admin.SimpleListFilter):
    title = "operator"
    parameter_name = "operator_id"

    def lookups(self, request, model_admin):
        return [(str(operator_id), str(operator_id)) for operator_id in selectors.operator_ids()]

    def queryset(self, request, queryset):
        return queryset.filter(operator_id=self.value()) if self.value() else queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services and events only: staff look, they do not edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Connector)
class ConnectorAdmin(ReadOnlyAdmin):
    list_display = ["code", "station_name", "number", "type", "max_power_kw", "status", "present", "updated_at"]
    list_filter = ["status", "type", "present", "station_enabled", StationFilter, OperatorFilter]
    search_fields = ["code", "station_name", "=id", "=station_id"]


@admin.register(StationSettings)
class StationSettingsAdmin(ReadOnlyAdmin):
    list_display = ["station_id", "operator_id", "enabled", "reservable", "updated_at"]
    list_filter = ["enabled", "reservable"]
    search_fields = ["=station_id"]


def _admin_actor(request) -> Actor:
    return Actor(user_id=request.user.id, role="admin")


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "starts_at", "ends_at", "connector_id", "station_id", "user_id", "created_at"]
    list_filter = ["status", StationFilter, OperatorFilter, "starts_at"]
    search_fields = ["=id", "=user_id", "=connector_id", "=station_id", "=session_id"]
    date_hierarchy = "starts_at"
    actions = ["cancel_reservations"]

    @admin.action(description="Cancel the selected confirmed reservations")
    def cancel_reservations(self, request, queryset):
        cancelled = 0
        for reservation in queryset.filter(status=Reservation.Status.CONFIRMED):
            try:
                services.reservation_cancel(reservation_id=reservation.id, by=_admin_actor(request))
                cancelled += 1
            except DomainError as exc:
                self.message_user(request, f"{reservation.id}: {exc.detail}", messages.WARNING)
        self.message_user(request, f"{cancelled} reservation(s) cancelled.")


@admin.register(ChargingSession)
class ChargingSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "status",
        "started_at",
        "ended_at",
        "energy_wh",
        "connector_type",
        "station_id",
        "user_id",
    ]
    list_filter = ["status", "connector_type", StationFilter, OperatorFilter, "started_at"]
    search_fields = ["=id", "=user_id", "=connector_id", "=station_id", "=reservation_id"]
    date_hierarchy = "started_at"
