from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from apps.reservations import selectors, services
from apps.reservations.models import ChargingSession, Connector, Reservation, StationSettings
from evcharge.admin_scoping import OperatorScopedMixin, admin_actor
from evcharge.contracts.telemetry import MAX_METER_WH
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


class ReadOnlyAdmin(OperatorScopedMixin, admin.ModelAdmin):
    """Rows written by services and events only: staff look, they do not edit. Operator staff see only
    their operator's rows (actions act as them, through the services)."""

    operator_scope = "operator_id"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Connector)
class ConnectorAdmin(ReadOnlyAdmin):
    list_display = [
        "code",
        "station_name",
        "number",
        "type",
        "max_power_kw",
        "status",
        "charger_health",
        "present",
        "updated_at",
    ]
    list_filter = ["status", "charger_health", "type", "present", "station_enabled", StationFilter, OperatorFilter]
    search_fields = ["code", "station_name", "=id", "=station_id"]


@admin.register(StationSettings)
class StationSettingsAdmin(ReadOnlyAdmin):
    list_display = ["station_id", "operator_id", "enabled", "reservable", "updated_at"]
    list_filter = ["enabled", "reservable"]
    search_fields = ["=station_id"]


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
                services.reservation_cancel(reservation_id=reservation.id, by=admin_actor(request))
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
        "energy_status",
        "connector_type",
        "station_id",
        "user_id",
    ]
    list_filter = ["status", "energy_status", "connector_type", StationFilter, OperatorFilter, "started_at"]
    search_fields = ["=id", "=user_id", "=connector_id", "=station_id", "=reservation_id"]
    date_hierarchy = "started_at"
    actions = ["settle_sessions"]

    @admin.action(description="Settle the energy of sessions awaiting the charger's reading")
    def settle_sessions(self, request, queryset):
        sessions = list(queryset.filter(energy_status=ChargingSession.EnergyStatus.AWAITING_METER))
        form = SettleForm(request.POST if "apply" in request.POST else None)
        if not sessions:
            self.message_user(request, "None of the selected sessions awaits a reading.", messages.WARNING)
            return None
        if not form.is_valid():
            context = {**self.admin_site.each_context(request), "sessions": sessions, "form": form}
            return TemplateResponse(request, "reservations/admin/settle_sessions.html", context)
        settled = 0
        for session in sessions:
            try:
                services.session_settle(session_id=session.id, by=admin_actor(request), **form.cleaned_data)
                settled += 1
            except DomainError as exc:
                self.message_user(request, f"{session.id}: {exc.detail}", messages.WARNING)
        self.message_user(request, f"{settled} session(s) settled.")
        return None


class SettleForm(forms.Form):
    energy_wh = forms.IntegerField(min_value=0, max_value=MAX_METER_WH, help_text="Energy to bill, in Wh.")
    reason = forms.CharField(max_length=500, widget=forms.Textarea, help_text="Kept with each session.")
