"""Read-only views of the read model (it is written by events only), and the link to the dashboard.
An operator's staff see their own stations' rows only."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from apps.reporting.models import DailyRollup, Dashboard, PaymentFact, ReservationFact, SessionFact, StationDim
from evcharge.admin_scoping import OperatorScopedAdmin


class ReadOnlyAdmin(OperatorScopedAdmin):
    operator_scope = "operator_id"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StationDim)
class StationDimAdmin(ReadOnlyAdmin):
    list_display = ["name", "station_id", "operator_id", "timezone", "connector_count", "enabled", "known"]
    list_filter = ["timezone", "enabled", "known"]
    search_fields = ["name", "station_id", "operator_id"]


@admin.register(SessionFact)
class SessionFactAdmin(ReadOnlyAdmin):
    list_display = [
        "session_id", "station_id", "status", "started_at", "ended_at", "energy_wh", "currency",
        "revenue_amount", "paid_amount",
    ]  # fmt: skip
    list_filter = ["status", "currency", "invoice_voided"]
    search_fields = ["session_id", "station_id", "invoice_id", "user_id"]
    date_hierarchy = "started_at"
    show_full_result_count = False


@admin.register(PaymentFact)
class PaymentFactAdmin(ReadOnlyAdmin):
    operator_scope = "invoice_id"

    def scope_to_operator(self, queryset, operator_id):
        invoices = SessionFact.objects.filter(operator_id=operator_id, invoice_id__isnull=False).values("invoice_id")
        return queryset.filter(invoice_id__in=invoices)

    list_display = ["payment_id", "invoice_id", "status", "amount", "refunded_amount", "currency", "updated_at"]
    list_filter = ["status", "currency"]
    search_fields = ["payment_id", "invoice_id"]


@admin.register(ReservationFact)
class ReservationFactAdmin(ReadOnlyAdmin):
    operator_scope = "station_id"

    def scope_to_operator(self, queryset, operator_id):
        return queryset.filter(station_id__in=StationDim.objects.filter(operator_id=operator_id).values("station_id"))

    list_display = ["reservation_id", "station_id", "status", "starts_at", "local_day"]
    list_filter = ["status"]
    search_fields = ["reservation_id", "station_id", "user_id"]


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdmin):
    list_display = [
        "day", "station_id", "currency", "sessions", "energy_wh", "revenue_amount", "paid_amount",
        "occupied_seconds",
    ]  # fmt: skip
    list_filter = ["currency"]
    search_fields = ["station_id", "operator_id"]
    date_hierarchy = "day"
    show_full_result_count = False


@admin.register(Dashboard)
class DashboardAdmin(ReadOnlyAdmin):
    """Shown to admins and operator staff in the admin index; opens the dashboard (which scopes by operator)."""

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("reporting-dashboard"))
