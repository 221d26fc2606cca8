from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.telemetry.readings import KINDS, MAX_ENERGY_WH, NUMBER_LIMITS
from evcharge.contracts.stations import CONNECTOR_STATUSES


@extend_schema_field({"type": "string", "enum": list(KINDS)})
class KindField(serializers.CharField):
    """The event kind (documented inline, so its enum does not collide with other contexts' `kind`)."""


class TelemetryEventIn(serializers.Serializer):
    """One event, as documented; the batch is parsed by apps.telemetry.readings (same rules, faster)."""

    charger_id = serializers.UUIDField()
    connector_id = serializers.UUIDField(required=False, allow_null=True, help_text="Omit for charger-level events.")
    ts = serializers.DateTimeField(help_text="RFC 3339 with zone; at most TELEMETRY_MAX_FUTURE_SECONDS ahead.")
    kind = KindField()
    energy_wh = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_ENERGY_WH,
        help_text="Cumulative meter reading; required for kind=meter.",
    )
    power_w = serializers.FloatField(
        required=False,
        min_value=NUMBER_LIMITS["power_w"][0],
        max_value=NUMBER_LIMITS["power_w"][1],
        help_text="Stored rounded to whole W.",
    )
    voltage_v = serializers.FloatField(
        required=False, min_value=NUMBER_LIMITS["voltage_v"][0], max_value=NUMBER_LIMITS["voltage_v"][1]
    )
    current_a = serializers.FloatField(
        required=False, min_value=NUMBER_LIMITS["current_a"][0], max_value=NUMBER_LIMITS["current_a"][1]
    )
    soc_pct = serializers.FloatField(
        required=False, min_value=NUMBER_LIMITS["soc_pct"][0], max_value=NUMBER_LIMITS["soc_pct"][1]
    )
    temperature_c = serializers.FloatField(
        required=False, min_value=NUMBER_LIMITS["temperature_c"][0], max_value=NUMBER_LIMITS["temperature_c"][1]
    )
    error_code = serializers.CharField(required=False, max_length=50, help_text="Required for kind=fault.")
    status = serializers.ChoiceField(
        choices=CONNECTOR_STATUSES, required=False, help_text="OCPP 1.6 status; required for kind=status."
    )


class IngestOut(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Readings newly stored.")
    duplicates = serializers.IntegerField(help_text="Readings already stored (same charger, connector, ts, kind).")


class MeterOut(serializers.Serializer):
    ts = serializers.DateTimeField(source="meter_ts")
    energy_wh = serializers.IntegerField()
    power_w = serializers.IntegerField(allow_null=True)
    voltage_v = serializers.FloatField(allow_null=True)
    current_a = serializers.FloatField(allow_null=True)
    soc_pct = serializers.FloatField(allow_null=True)
    temperature_c = serializers.FloatField(allow_null=True)


class LatestOut(serializers.Serializer):
    last_ts = serializers.DateTimeField(help_text="Newest event of any kind.")
    meter = serializers.SerializerMethodField()
    status = serializers.CharField(allow_null=True)
    status_ts = serializers.DateTimeField(allow_null=True)
    error_code = serializers.CharField(allow_null=True, help_text="Of the newest fault event.")
    fault_ts = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(MeterOut(allow_null=True))
    def get_meter(self, state):
        return MeterOut(state).data if state.meter_ts is not None else None


class ConnectorLatestOut(serializers.Serializer):
    connector_id = serializers.UUIDField(source="connector.connector_id")
    number = serializers.IntegerField(source="connector.number")
    type = serializers.CharField(source="connector.type")
    latest = LatestOut(source="state", allow_null=True)


class ChargerLatestOut(serializers.Serializer):
    charger_id = serializers.UUIDField(source="charger.charger_id")
    serial = serializers.CharField(source="charger.serial")
    health = serializers.CharField(source="charger.health", help_text="online, offline or faulted")
    health_reason = serializers.CharField(source="charger.health_reason")
    health_changed_at = serializers.DateTimeField(source="charger.health_changed_at", allow_null=True)
    last_seen_at = serializers.DateTimeField(source="charger.last_seen_at", allow_null=True)
    latest = LatestOut(source="state", allow_null=True, help_text="Charger-level events (no connector).")
    connectors = ConnectorLatestOut(many=True)


class StationLatestOut(serializers.Serializer):
    station_id = serializers.UUIDField()
    chargers = ChargerLatestOut(many=True)
