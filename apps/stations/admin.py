from django import forms
from django.contrib import admin, messages
from django.db import transaction

from apps.stations import services
from apps.stations.models import AVAILABLE, FAULTED, UNAVAILABLE, Charger, Connector, Station
from evcharge.actor import Actor


class OperatorFilter(admin.SimpleListFilter):
    """Operators are another context's: filter by the operator ids the stations carry."""

    title = "operator"
    parameter_name = "operator_id"
    station_path = "operator_id"

    def lookups(self, request, model_admin):
        operator_ids = Station.objects.order_by("operator_id").values_list("operator_id", flat=True).distinct()
        return [(str(operator_id), str(operator_id)) for operator_id in operator_ids]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.station_path: self.value()})
        return queryset


class ConnectorOperatorFilter(OperatorFilter):
    station_path = "charger__station__operator_id"


class ChargerInline(admin.TabularInline):
    model = Charger
    extra = 0
    fields = ["serial", "max_power_kw", "created_at"]
    readonly_fields = ["created_at"]
    show_change_link = True


class ConnectorInline(admin.TabularInline):
    model = Connector
    extra = 0
    fields = ["number", "type", "max_power_kw", "code", "status", "status_changed_at", "active_session_id"]
    readonly_fields = ["code", "status", "status_changed_at", "active_session_id"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # connectors are added with a charger through the API (codes and events)


class StationForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=[(name, name) for name in sorted(services.VALID_TIMEZONES)])

    class Meta:
        model = Station
        fields = ["name", "address", "latitude", "longitude", "timezone"]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            services.station_announce_update(station_id=obj.id, changed=list(form.changed_data))


@admin.register(Charger)
class ChargerAdmin(admin.ModelAdmin):
    list_display = ["serial", "station", "max_power_kw", "created_at"]
    list_filter = [("station", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["serial", "station__name", "connectors__code"]
    readonly_fields = ["id", "station", "created_at"]
    inlines = [ConnectorInline]

    def has_add_permission(self, request) -> bool:
        return False  # POST /stations/{id}/chargers

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            services.station_announce_update(station_id=obj.station_id, changed=["chargers"])


def _status_action(status: str):
    def action(modeladmin, request, queryset):
        changed = 0
        with transaction.atomic():
            for connector_id in queryset.values_list("id", flat=True):
                before = Connector.objects.get(id=connector_id).status
                services.connector_set_status(
                    connector_id=connector_id, status=status, by=Actor.system(), reason="admin"
                )
                changed += before != status
        modeladmin.message_user(request, f"{changed} connector(s) set to {status}.", messages.SUCCESS)

    action.__name__ = f"set_{status.lower()}"
    action.short_description = f"Set status: {status}"
    return action


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            services.station_announce_update(station_id=obj.charger.station_id, changed=["chargers"])

    @admin.display(description="station", ordering="charger__station__name")
    def station_name(self, connector: Connector) -> str:
        return connector.charger.station.name
