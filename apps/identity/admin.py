"""People, operators and API keys. Platform admins manage them all; an operator's staff see their own
operator, its staff and its keys (and may revoke those keys), never drivers or another operator."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from apps.identity import services
from apps.identity.models import ApiKey, IdTag, Operator, User
from evcharge.admin_scoping import OperatorScopedAdmin, OperatorScopedMixin, admin_actor, staff_operator_id
from evcharge.errors import DomainError


@admin.register(Operator)
class OperatorAdmin(OperatorScopedAdmin):
    operator_scope = "id"
    list_display = ["name", "id", "created_at"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(OperatorScopedMixin, BaseUserAdmin):
    operator_scope = "operator_id"
    ordering = ["email"]
    list_display = ["email", "name", "role", "operator", "is_active", "is_staff", "date_joined"]
    list_filter = ["role", "operator", "is_active", "is_staff"]
    search_fields = ["email", "name"]
    readonly_fields = ["id", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["id", "email", "password", "name"]}),
        ("Role", {"fields": ["role", "operator"]}),
        ("Admin access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2", "role", "operator"]})]

    def scope_to_operator(self, queryset, operator_id):
        return queryset.filter(operator_id=operator_id, role=User.Role.OPERATOR)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if staff_operator_id(request.user) is None:
            return fieldsets
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field != "password"]})
            for name, options in fieldsets
            if name != "Admin access"
        ]


@admin.register(ApiKey)
class ApiKeyAdmin(OperatorScopedAdmin):
    """Keys are created through the API (the raw key is shown once there); staff can see and revoke them."""

    operator_scope = "operator_id"
    list_display = ["name", "prefix", "operator", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["operator", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    exclude = ["hashed_key"]
    readonly_fields = ["id", "prefix", "operator", "created_by", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True).values_list("id", flat=True))
        revoked = 0
        for key_id in keys:
            try:
                services.api_key_revoke(key_id=key_id, by=admin_actor(request))
                revoked += 1
            except DomainError:
                continue
        self.message_user(request, f"{revoked} key(s) revoked.")


@admin.register(IdTag)
class IdTagAdmin(OperatorScopedAdmin):
    """Drivers' RFID tags are personal: platform admins only (operator_scope None). Block a lost card or set an
    expiry here; drivers add and remove their own tags through the API."""

    operator_scope = None
    list_display = ["tag", "user", "kind", "status", "expires_at", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["tag", "user__email"]
    fields = ["tag", "user", "kind", "status", "expires_at", "created_at"]
    readonly_fields = ["tag", "user", "kind", "created_at"]
    actions = ["block"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Block the selected tags")
    def block(self, request, queryset):
        blocked = queryset.exclude(status=IdTag.Status.BLOCKED).update(status=IdTag.Status.BLOCKED)
        self.message_user(request, f"{blocked} tag(s) blocked.")
