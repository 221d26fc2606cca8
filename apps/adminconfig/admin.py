from django import forms
from django.contrib import admin

from apps.adminconfig import schemas, services
from apps.adminconfig.models import ConfigChange, ConfigEntry, StationSettings
from evcharge.admin_scoping import OperatorScopedAdmin, OperatorScopedInlineMixin, admin_actor


class ConfigChangeInline(OperatorScopedInlineMixin, admin.TabularInline):
    model = ConfigChange
    extra = 0
    can_delete = False
    fields = ["version", "old_value", "new_value", "changed_by_email", "changed_at"]
    readonly_fields = fields
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ConfigEntryForm(forms.ModelForm):
    """The key's name and schema checked as the API checks them (the service checks again on save)."""

    class Meta:
        model = ConfigEntry
        fields = ["key", "value", "description"]

    def clean_key(self):
        key = self.cleaned_data["key"]
        if problem := schemas.key_problem(key):
            raise forms.ValidationError(problem)
        return key

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("key") or self.instance.key
        if key and "value" in cleaned and (problems := schemas.value_problems(key, cleaned["value"])):
            self.add_error("value", problems)
        return cleaned


@admin.register(ConfigEntry)
class ConfigEntryAdmin(OperatorScopedAdmin):
    """The platform's configuration: admins only. Adding and changing go through services.config_set, as the
    API's PUT /api/v1/admin/config/{key} does: the schema check, the history and config.changed.v1 always
    apply, and "updated by" is the e-mail of the staff member who saved."""

    form = ConfigEntryForm
    list_display = ["key", "value", "version", "updated_at", "updated_by_email"]
    search_fields = ["key", "description"]
    readonly_fields = ["version", "updated_at", "updated_by_email"]
    inlines = [ConfigChangeInline]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "key"] if obj is not None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ["key", "value", "description", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        saved = services.config_set(
            key=obj.key,
            value=form.cleaned_data["value"],
            description=form.cleaned_data.get("description", ""),
            by=admin_actor(request),
            by_email=request.user.email,
        )
        obj.__dict__.update({f.attname: getattr(saved, f.attname) for f in ConfigEntry._meta.concrete_fields})

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a key's history would go with it; set it to its default instead


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
