from django.contrib import admin

from apps.notifications.models import ActiveSession, Notification
from evcharge.admin_scoping import OperatorScopedAdmin


@admin.register(Notification)
class NotificationAdmin(OperatorScopedAdmin):
    """Drivers' own messages: platform admins only (no operator_scope)."""

    list_display = ["created_at", "kind", "title", "user_id", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["=user_id", "=event_id", "title", "body"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "user_id",
        "kind",
        "title",
        "body",
        "event_id",
        "event_type",
        "related",
        "created_at",
        "read_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # recorded from events only


@admin.register(ActiveSession)
class ActiveSessionAdmin(OperatorScopedAdmin):
    list_display = ["connector_id", "session_id", "user_id", "started_at"]
    search_fields = ["=connector_id", "=session_id", "=user_id"]
    readonly_fields = ["connector_id", "session_id", "user_id", "started_at"]

    def has_add_permission(self, request) -> bool:
        return False
