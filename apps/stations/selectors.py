import math
from dataclasses import dataclass
from uuid import UUID

from django.db.models import F, FloatField, Prefetch, Q, QuerySet, Value
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt

from apps.stations.models import UNHEALTHY, Charger, Connector, Station

UNAVAILABLE = "Unavailable"

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LATITUDE = math.pi * EARTH_RADIUS_KM / 180


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    radius_km: float


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in km."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(near: Near) -> Q:
    """A latitude/longitude box surely holding the circle (any database can use the location index);
    the exact distance is checked afterwards. Handles the poles and the antimeridian."""
    d_lat = near.radius_km / KM_PER_DEGREE_LATITUDE
    box = Q(latitude__gte=near.latitude - d_lat, latitude__lte=near.latitude + d_lat)
    if abs(near.latitude) + d_lat >= 90:
        return box  # the circle reaches a pole: every longitude may be in it
    d_lon = d_lat / math.cos(math.radians(abs(near.latitude) + d_lat))
    if d_lon >= 180:
        return box
    west, east = near.longitude - d_lon, near.longitude + d_lon
    if west < -180:
        return box & (Q(longitude__gte=west + 360) | Q(longitude__lte=east))
    if east > 180:
        return box & (Q(longitude__gte=west) | Q(longitude__lte=east - 360))
    return box & Q(longitude__gte=west, longitude__lte=east)


def distance_km_expression(near: Near):
    """The haversine great-circle distance from `near` to a station's location, computed by the database."""
    phi1, lambda1 = math.radians(near.latitude), math.radians(near.longitude)
    phi2, lambda2 = Radians(F("latitude")), Radians(F("longitude"))
    half_chord = Power(Sin((phi2 - Value(phi1)) / 2), 2) + Value(math.cos(phi1)) * Cos(phi2) * Power(
        Sin((lambda2 - Value(lambda1)) / 2), 2
    )
    return Value(2 * EARTH_RADIUS_KM) * ASin(Least(Value(1.0), Sqrt(half_chord)), output_field=FloatField())


def _with_chargers(stations: QuerySet[Station]) -> QuerySet[Station]:
    return stations.prefetch_related(
        Prefetch(
            "chargers",
            queryset=Charger.objects.order_by("created_at", "serial").prefetch_related(
                Prefetch("connectors", queryset=Connector.objects.order_by("number"))
            ),
        )
    )


def station_list(
    *,
    operator_id: UUID | None = None,
    status: str | None = None,
    connector_type: str | None = None,
    near: Near | None = None,
) -> QuerySet[Station]:
    """Stations matching the filters, by name; with `near`, only those within the radius, nearest first,
    each carrying `distance_km`."""
    stations = Station.objects.all()
    if operator_id is not None:
        stations = stations.filter(operator_id=operator_id)
    if status is not None:
        stations = stations.filter(status=status)
    if connector_type is not None:
        stations = stations.filter(id__in=Connector.objects.filter(type=connector_type).values("charger__station_id"))
    if near is None:
        return _with_chargers(stations)
    # The box uses the location index; the exact distance, its filter and the order are the database's,
    # so a page loads only its own stations.
    stations = (
        stations.filter(bounding_box(near))
        .annotate(distance_km=distance_km_expression(near))
        .filter(distance_km__lte=near.radius_km)
        .order_by("distance_km", "name", "id")
    )
    return _with_chargers(stations)


def station_get(station_id: UUID) -> Station | None:
    return _with_chargers(Station.objects.filter(id=station_id)).first()


def charger_get(charger_id: UUID) -> Charger | None:
    return (
        Charger.objects.select_related("station")
        .prefetch_related(Prefetch("connectors", queryset=Connector.objects.order_by("number")))
        .filter(id=charger_id)
        .first()
    )


def connector_get(connector_id: UUID) -> Connector | None:
    return Connector.objects.select_related("charger__station").filter(id=connector_id).first()


def normalize_code(code: str) -> str:
    """Codes are read off stickers: case, spaces and dashes do not matter."""
    return code.strip().upper().replace("-", "").replace(" ", "")


def connector_get_by_code(code: str) -> Connector | None:
    return Connector.objects.select_related("charger__station").filter(code=normalize_code(code)).first()


def connector_statuses_of_station(station_id: UUID) -> list[str]:
    """Each connector's status, Unavailable while its charger is offline or faulted."""
    rows = Connector.objects.filter(charger__station_id=station_id).values_list("status", "charger__health")
    return [UNAVAILABLE if health in UNHEALTHY else status for status, health in rows]


def connectors_for_sheets(*, operator_id: UUID, station_id: UUID | None = None) -> QuerySet[Connector]:
    """An operator's connectors in print order: station name, charger, connector number."""
    connectors = Connector.objects.select_related("charger__station").filter(charger__station__operator_id=operator_id)
    if station_id is not None:
        connectors = connectors.filter(charger__station_id=station_id)
    return connectors.order_by("charger__station__name", "charger__station_id", "charger__created_at", "number")


def connector_effective_status(connector: Connector) -> str:
    """What a driver can expect: a disabled station's connectors, and those of a charger that is offline or
    faulted, read Unavailable."""
    charger = connector.charger
    return UNAVAILABLE if not charger.station.enabled or charger.health in UNHEALTHY else connector.status


def charger_get_by_serial(serial: str) -> Charger | None:
    return Charger.objects.select_related("station").prefetch_related("connectors").filter(serial=serial).first()


def chargers_of_station(station_id: UUID) -> QuerySet[Charger]:
    return Charger.objects.select_related("station").prefetch_related("connectors").filter(station_id=station_id)
