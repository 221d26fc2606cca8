from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.stations import qr, selectors
from apps.stations.models import MAX_POWER_KW, STATION_STATUSES, Charger, Connector, Station
from evcharge.api.permissions import optional_actor
from evcharge.contracts import chargepoints
from evcharge.contracts.stations import CONNECTOR_STATUSES, CONNECTOR_TYPES

MAX_RADIUS_KM = 500.0

STATION_STATUS_HELP = (
    "Derived from the connectors: `available` when one is Available; `occupied` when none is but one is "
    "Preparing, Charging, SuspendedEVSE, SuspendedEV, Finishing or Reserved; `faulted` when all are Faulted; "
    "`unavailable` otherwise (disabled station, no connectors, only Unavailable/Faulted ones)."
)
CONNECTOR_STATUS_HELP = (
    "OCPP 1.6 status. A disabled station's connectors read `Unavailable` (its `ocpp_status` keeps what the "
    "charger reported)."
)

# --- input ---


class ConnectorIn(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=99)
    type = serializers.ChoiceField(choices=CONNECTOR_TYPES)
    max_power_kw = serializers.FloatField(
        min_value=0.1, max_value=MAX_POWER_KW, required=False, help_text="Default: the charger's max_power_kw."
    )


class ChargerIn(serializers.Serializer):
    serial = serializers.CharField(max_length=100)
    max_power_kw = serializers.FloatField(min_value=0.1, max_value=MAX_POWER_KW)
    connectors = ConnectorIn(many=True, allow_empty=False)


class StationIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    timezone = serializers.CharField(max_length=64, help_text="IANA name, e.g. Europe/Berlin.")
    operator_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Admins: required. Operators: their own (implied)."
    )
    chargers = ChargerIn(many=True, required=False, default=list)


class StationPatchIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False)
    timezone = serializers.CharField(max_length=64, required=False)


class NearField(serializers.CharField):
    """`lat,lon` in decimal degrees."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        parts = text.split(",")
        try:
            latitude, longitude = (float(part) for part in parts)
        except ValueError:
            raise serializers.ValidationError("Expected `lat,lon` in decimal degrees, e.g. 52.52,13.40.") from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise serializers.ValidationError("Latitude must be within ±90 and longitude within ±180.")
        return latitude, longitude


class StationFilters(serializers.Serializer):
    operator_id = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=STATION_STATUSES, required=False, help_text=STATION_STATUS_HELP)
    connector_type = serializers.ChoiceField(
        choices=CONNECTOR_TYPES, required=False, help_text="Stations with at least one connector of this type."
    )
    near = NearField(required=False, help_text="`lat,lon`: only stations within radius_km, nearest first.")
    radius_km = serializers.FloatField(
        min_value=0.01,
        max_value=MAX_RADIUS_KM,
        required=False,
        default=10.0,
        help_text=f"With `near`; default 10, at most {MAX_RADIUS_KM:g}.",
    )


class ConnectorStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=CONNECTOR_STATUSES)


# --- output ---


class ConnectorOut(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(help_text=CONNECTOR_STATUS_HELP)
    ocpp_status = serializers.CharField(source="status", read_only=True)
    public_url = serializers.SerializerMethodField(help_text="What the QR code encodes.")

    class Meta:
        model = Connector
        fields = [
            "id",
            "number",
            "type",
            "max_power_kw",
            "code",
            "status",
            "ocpp_status",
            "status_changed_at",
            "public_url",
        ]

    def get_status(self, connector: Connector) -> str:
        return selectors.connector_effective_status(connector)

    def get_public_url(self, connector: Connector) -> str:
        return qr.connector_url(connector.code)


class OcppLinkOut(serializers.Serializer):
    connected = serializers.BooleanField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    vendor = serializers.CharField()
    model = serializers.CharField()
    firmware_version = serializers.CharField()
    protocol = serializers.CharField(help_text='The OCPP subprotocol, e.g. "ocpp1.6".')


class ChargerOut(serializers.ModelSerializer):
    connectors = ConnectorOut(many=True, read_only=True)
    health = serializers.CharField(
        read_only=True, help_text="online | offline | faulted (telemetry's); empty until the charger reported."
    )
    ocpp = serializers.SerializerMethodField(
        help_text="The charger's OCPP connection, to the station's operator and admins; null for others and for "
        "chargers without OCPP credentials."
    )

    class Meta:
        model = Charger
        fields = ["id", "serial", "max_power_kw", "health", "connectors", "ocpp"]

    @extend_schema_field(OcppLinkOut(allow_null=True))
    def get_ocpp(self, charger: Charger) -> dict | None:
        request = self.context.get("request")
        caller = optional_actor(request) if request is not None else None
        if caller is None or not caller.manages(charger.station.operator_id) or not chargepoints.registered():
            return None
        links = self.context.get("_ocpp_links")
        if links is None or charger.id not in links:  # one lookup for every charger of the answer
            links = self.context["_ocpp_links"] = chargepoints.facade().links(_chargers_in(self.root.instance))
        link = links.get(charger.id)
        return OcppLinkOut(link).data if link is not None else None


def _chargers_in(instance) -> list:
    """The ids of the chargers a serialized answer holds (a station, a page of stations, or a charger)."""
    items = instance if isinstance(instance, list | tuple) or hasattr(instance, "model") else [instance]
    ids = []
    for item in items:
        if isinstance(item, Station):
            ids.extend(charger.id for charger in item.chargers.all())
        else:
            ids.append(item.id)
    return ids


class StationOut(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=STATION_STATUS_HELP)
    chargers = ChargerOut(many=True, read_only=True)
    distance_km = serializers.SerializerMethodField(help_text="Only with the `near` filter.")

    class Meta:
        model = Station
        fields = [
            "id",
            "operator_id",
            "name",
            "address",
            "latitude",
            "longitude",
            "timezone",
            "status",
            "enabled",
            "reservable",
            "distance_km",
            "chargers",
            "created_at",
            "updated_at",
        ]

    def get_distance_km(self, station: Station) -> float | None:
        distance = getattr(station, "distance_km", None)
        return round(distance, 3) if distance is not None else None


class StationBriefOut(serializers.ModelSerializer):
    class Meta:
        model = Station
        fields = ["id", "operator_id", "name", "address", "latitude", "longitude", "timezone", "status", "enabled"]


class ChargerBriefOut(serializers.ModelSerializer):
    class Meta:
        model = Charger
        fields = ["id", "serial", "max_power_kw"]


class ConnectorDetailOut(ConnectorOut):
    charger = ChargerBriefOut(read_only=True)
    station = StationBriefOut(source="charger.station", read_only=True)

    class Meta(ConnectorOut.Meta):
        fields = [*ConnectorOut.Meta.fields, "charger", "station"]


class QrStationOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    timezone = serializers.CharField()


class ConnectorByCodeOut(serializers.Serializer):
    """What the QR landing page needs; no operator internals."""

    code = serializers.CharField()
    connector_id = serializers.UUIDField(source="id")
    number = serializers.IntegerField()
    type = serializers.CharField()
    max_power_kw = serializers.FloatField()
    status = serializers.SerializerMethodField(help_text=CONNECTOR_STATUS_HELP)
    station = QrStationOut(source="charger.station")

    def get_status(self, connector: Connector) -> str:
        return selectors.connector_effective_status(connector)
