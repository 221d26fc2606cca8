from django.contrib import admin

from apps.driverweb.models import WebCheckout
from evcharge.admin_scoping import is_platform_admin


@admin.register(WebCheckout)
class WebCheckoutAdmin(admin.ModelAdmin):
    """Admins only: the receipt addresses of guests are personal data, and no operator needs them."""

    list_display = ("created_at", "kind", "connector_code", "session_id", "receipt_sent_at")
    list_filter = ("kind",)
    search_fields = ("=session_id", "=connector_code")
    readonly_fields = [f.name for f in WebCheckout._meta.fields]
    exclude = ("token_sha256",)

    def has_module_permission(self, request) -> bool:
        return is_platform_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_platform_admin(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
