"""Demo stations for the two demo operators, in two time zones, with a Faulted connector. Idempotent."""

from apps.stations import services
from apps.stations.models import Connector, Station
from evcharge.actor import Actor

STATIONS = [
    {
        "key": "berlin-hbf",
        "operator": "voltway",
        "name": "Voltway Berlin Hauptbahnhof",
        "address": "Europaplatz 1, 10557 Berlin",
        "latitude": 52.5251,
        "longitude": 13.3694,
        "timezone": "Europe/Berlin",
        "chargers": [
            {
                "serial": "VW-BER-HPC-01",
                "max_power_kw": 300,
                "connectors": [
                    {"number": 1, "type": "CCS2", "max_power_kw": 300},
                    {"number": 2, "type": "CHADEMO", "max_power_kw": 50},
                ],
            },
            {"serial": "VW-BER-AC-01", "max_power_kw": 22, "connectors": [{"number": 1, "type": "TYPE2"}]},
        ],
        "statuses": {("VW-BER-AC-01", 1): "Faulted"},
    },
    {
        "key": "potsdam",
        "operator": "voltway",
        "name": "Voltway Potsdam Sanssouci",
        "address": "Maulbeerallee 1, 14469 Potsdam",
        "latitude": 52.4043,
        "longitude": 13.0385,
        "timezone": "Europe/Berlin",
        "chargers": [
            {
                "serial": "VW-POT-AC-01",
                "max_power_kw": 22,
                "connectors": [{"number": 1, "type": "TYPE2"}, {"number": 2, "type": "TYPE2"}],
            },
        ],
        "statuses": {("VW-POT-AC-01", 2): "Unavailable"},
    },
    {
        "key": "nyc-hudson-yards",
        "operator": "ampere",
        "name": "Ampere Hudson Yards",
        "address": "500 W 33rd St, New York, NY 10001",
        "latitude": 40.7539,
        "longitude": -74.0014,
        "timezone": "America/New_York",
        "chargers": [
            {
                "serial": "AMP-NYC-DC-01",
                "max_power_kw": 250,
                "connectors": [{"number": 1, "type": "NACS"}, {"number": 2, "type": "CCS1", "max_power_kw": 150}],
            },
            {"serial": "AMP-NYC-AC-01", "max_power_kw": 7.4, "connectors": [{"number": 1, "type": "TYPE1"}]},
        ],
        "statuses": {},
    },
    {
        "key": "brooklyn",
        "operator": "ampere",
        "name": "Ampere Brooklyn Navy Yard",
        "address": "63 Flushing Ave, Brooklyn, NY 11205",
        "latitude": 40.7003,
        "longitude": -73.9712,
        "timezone": "America/New_York",
        "chargers": [
            {
                "serial": "AMP-BKN-DC-01",
                "max_power_kw": 120,
                "connectors": [{"number": 1, "type": "CCS1"}, {"number": 2, "type": "GBT"}],
            }
        ],
        "statuses": {},
    },
]


def seed(context: dict) -> None:
    system = Actor.system()
    station_ids: dict[str, str] = {}
    connectors: list[dict] = []
    for spec in STATIONS:
        operator_id = context["operators"][spec["operator"]]
        station = Station.objects.filter(operator_id=operator_id, name=spec["name"]).first()
        if station is None:
            station = services.station_create(
                by=system,
                operator_id=operator_id,
                **{k: spec[k] for k in ("name", "address", "latitude", "longitude", "timezone", "chargers")},
            )
            for (serial, number), status in spec["statuses"].items():
                connector = Connector.objects.get(charger__serial=serial, number=number)
                services.connector_set_status(connector_id=connector.id, status=status, by=system, reason="demo")
        station_ids[spec["key"]] = station.id
        for connector in Connector.objects.filter(charger__station=station).order_by("charger__serial", "number"):
            connectors.append(
                {
                    "id": connector.id,
                    "code": connector.code,
                    "station_id": station.id,
                    "station": spec["key"],
                    "operator": spec["operator"],
                    "type": connector.type,
                    "status": connector.status,
                }
            )
    available = next(c for c in connectors if c["status"] == "Available" and c["type"] == "CCS2")
    context["stations"] = {
        "station_ids": station_ids,
        "connector_codes": [c["code"] for c in connectors],
        "connectors": connectors,
        "available_connector": available,
    }
    context.setdefault("summary", []).append(
        f"Stations: {len(station_ids)} (Berlin, Potsdam, New York); try without scanning: "
        f"GET /api/v1/connectors/by-code/{available['code']} (CCS2, Available), "
        f"QR at /api/v1/connectors/{available['id']}/qr"
    )
