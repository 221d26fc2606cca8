from django import forms
from django.contrib import admin, messages
from django.db import transaction

from apps.stations import services
from apps.stations.models import AVAILABLE, FAULTED, UNAVAILABLE, Charger, Connector, Station
from evcharge.admin_scoping import OperatorScopedAdmin, OperatorScopedInlineMixin, ServiceSaveMixin, admin_actor


class OperatorFilter(admin.SimpleListFilter):
    """Operators are another context's: filter by the operator ids of the stations shown."""

    title = "operator"
    parameter_name = "operator_id"
    station_path = "operator_id"
    operator_scoped = True

    def lookups(self, request, model_admin):
        shown = model_admin.get_queryset(request).order_by(self.station_path)
        operator_ids = shown.values_list(self.station_path, flat=True).distinct()
        return [(str(operator_id), str(operator_id)) for operator_id in operator_ids]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.station_path: self.value()})
        return queryset


class ConnectorOperatorFilter(OperatorFilter):
    station_path = "charger__station__operator_id"


class ChargerInline(OperatorScopedInlineMixin, admin.TabularInline):
    model = Charger
    extra = 0
    fields = ["serial", "max_power_kw", "created_at"]
    readonly_fields = ["created_at"]
    show_change_link = True
    can_delete = False
    operator_may_change = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # POST /stations/{id}/chargers


class ConnectorInline(OperatorScopedInlineMixin, admin.TabularInline):
    model = Connector
    extra = 0
    fields = ["number", "type", "max_power_kw", "code", "status", "status_changed_at", "active_session_id"]
    readonly_fields = ["code", "status", "status_changed_at", "active_session_id"]
    can_delete = False
    operator_may_change = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # connectors are added with a charger through the API (codes and events)


class StationForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=[(name, name) for name in sorted(services.VALID_TIMEZONES)])

    class Meta:
        model = Station
        fields = ["name", "address", "latitude", "longitude", "timezone"]


@admin.register(Station)
class StationAdmin(ServiceSaveMixin, OperatorScopedAdmin):
    """An operator's staff edit their own stations, through station_update as over the API (checks and
    station.updated.v1); chargers edited inline are announced too."""

    operator_scope = "operator_id"
    operator_may_change = True
    form = StationForm
    list_display = ["name", "operator_id", "status", "enabled", "reservable", "timezone", "updated_at"]
    list_filter = [OperatorFilter, "status", "enabled", "reservable", "timezone"]
    search_fields = ["name", "address", "=id", "chargers__serial", "chargers__connectors__code"]
    readonly_fields = ["id", "operator_id", "status", "enabled", "reservable", "created_at", "updated_at"]
    fields = [
        "id",
        "operator_id",
        "name",
        "address",
        ("latitude", "longitude"),
        "timezone",
        ("status", "enabled", "reservable"),
        ("created_at", "updated_at"),
    ]
    inlines = [ChargerInline]

    def has_add_permission(self, request) -> bool:
        return False  # created through POST /stations, which validates the operator and announces it

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # no service retires a station yet: the other contexts would never hear of it

    def save_through_service(self, request, form, change):
        fields = {
            name: form.cleaned_data[name] for name in services.UPDATABLE_STATION_FIELDS if name in form.changed_data
        }
        return services.station_update(station_id=form.instance.pk, by=admin_actor(request), **fields)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and any(formset.has_changed() for formset in formsets):
            services.station_announce_update(station_id=form.instance.pk, changed=["chargers"])


@admin.register(Charger)
class ChargerAdmin(OperatorScopedAdmin):
    operator_scope = "station__operator_id"
    operator_may_change = True
    list_display = ["serial", "station", "max_power_kw", "created_at"]
    list_filter = [("station", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["serial", "station__name", "connectors__code"]
    readonly_fields = ["id", "station", "created_at"]
    inlines = [ConnectorInline]

    def has_add_permission(self, request) -> bool:
        return False  # POST /stations/{id}/chargers

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and (form.changed_data or any(f.has_changed() for f in formsets)):
            services.station_announce_update(station_id=form.instance.station_id, changed=["chargers"])


def _status_action(status: str):
    def action(modeladmin, request, queryset):
        changed = 0
        with transaction.atomic():
            for connector_id in queryset.values_list("id", flat=True):
                before = Connector.objects.get(id=connector_id).status
                services.connector_set_status(
                    connector_id=connector_id, status=status, by=admin_actor(request), reason="admin"
                )
                changed += before != status
        modeladmin.message_user(request, f"{changed} connector(s) set to {status}.", messages.SUCCESS)

    action.__name__ = f"set_{status.lower()}"
    action.short_description = f"Set status: {status}"
    action.allowed_permissions = ("change",)
    return action


@admin.register(Connector)
class ConnectorAdmin(OperatorScopedAdmin):
    operator_scope = "charger__station__operator_id"
    operator_may_change = True
    list_display = ["code", "station_name", "charger", "number", "type", "max_power_kw", "status", "status_changed_at"]
    list_filter = [ConnectorOperatorFilter, "status", "type", ("charger__station", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "charger__serial", "charger__station__name"]
    readonly_fields = [
        "id",
        "charger",
        "code",
        "status",
        "status_changed_at",
        "active_session_id",
        "last_completed_session_id",
        "created_at",
    ]
    list_select_related = ["charger__station"]
    actions = [_status_action(AVAILABLE), _status_action(UNAVAILABLE), _status_action(FAULTED)]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            services.station_announce_update(station_id=obj.charger.station_id, changed=["chargers"])

    @admin.display(description="station", ordering="charger__station__name")
    def station_name(self, connector: Connector) -> str:
        return connector.charger.station.name
