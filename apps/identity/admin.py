from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from apps.identity import services
from apps.identity.models import ApiKey, Operator, User
from evcharge.actor import Actor


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created through the API (the raw key is shown once there); staff can see and revoke them."""

    list_display = ["name", "prefix", "operator", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["operator", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["id", "prefix", "hashed_key", "operator", "created_by", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True).values_list("id", flat=True))
        for key_id in keys:
            services.api_key_revoke(key_id=key_id, by=Actor.system())
        self.message_user(request, f"{len(keys)} key(s) revoked.")
