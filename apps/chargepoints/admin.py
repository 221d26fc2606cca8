"""The OCPP side of chargers in the admin: read-only (links, boots, transactions and commands are written by the
gateway and the services; the password is set through the API). An operator's staff see their own chargers only."""

from django.contrib import admin

from apps.chargepoints.models import ChargeBox, OcppReservation, OcppTransaction, RemoteCommand
from evcharge.admin_scoping import OperatorScopedAdmin


class _ReadOnly(OperatorScopedAdmin):
    operator_scope = "charge_box__operator_id"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChargeBox)
class ChargeBoxAdmin(_ReadOnly):
    operator_scope = "operator_id"
    list_display = ["charge_box_id", "connected", "last_seen_at", "vendor", "model", "firmware_version", "protocol"]
    list_filter = ["connected", "protocol", "vendor"]
    search_fields = ["charge_box_id", "=id", "=station_id"]
    readonly_fields = [f.name for f in ChargeBox._meta.fields if f.name != "password_hash"] + ["password_set"]
    exclude = ["password_hash"]
    ordering = ["charge_box_id"]

    @admin.display(boolean=True, description="OCPP password set")
    def password_set(self, obj) -> bool:
        return bool(obj.password_hash)


@admin.register(OcppTransaction)
class OcppTransactionAdmin(_ReadOnly):
    list_display = ["id", "charge_box", "connector_number", "id_tag", "session_id", "started_at", "stopped_at"]
    list_filter = ["stop_reason", "refusal"]
    search_fields = ["=id", "id_tag", "=session_id", "charge_box__charge_box_id"]
    readonly_fields = [f.name for f in OcppTransaction._meta.fields]
    list_select_related = ["charge_box"]


@admin.register(RemoteCommand)
class RemoteCommandAdmin(_ReadOnly):
    list_display = ["created_at", "charge_box", "action", "status", "response", "requested_by", "answered_at"]
    list_filter = ["status", "action"]
    search_fields = ["=id", "charge_box__charge_box_id", "=session_id"]
    readonly_fields = [f.name for f in RemoteCommand._meta.fields]
    list_select_related = ["charge_box"]
    date_hierarchy = "created_at"


@admin.register(OcppReservation)
class OcppReservationAdmin(_ReadOnly):
    list_display = [
        "id",
        "charge_box",
        "connector_number",
        "starts_at",
        "ends_at",
        "reserve_command_id",
        "cancelled_at",
    ]
    search_fields = ["=id", "=reservation_id", "charge_box__charge_box_id"]
    readonly_fields = [f.name for f in OcppReservation._meta.fields]
    list_select_related = ["charge_box"]
