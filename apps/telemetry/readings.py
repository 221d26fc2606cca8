"""The shape of one telemetry event and the batch parser.

A batch is validated as a whole: every bad item is named by its index (`{"3.kind": [...]}`), and nothing is
stored unless every item is good. The parser is hand-written rather than a DRF serializer because a
1000-item batch must parse in a few milliseconds (a serializer costs ~50x more); the OpenAPI schema still
documents the item with `api.serializers.TelemetryEventIn`.
"""

import math
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from evcharge.contracts.stations import CONNECTOR_STATUSES
from evcharge.contracts.telemetry import MAX_METER_WH
from evcharge.errors import InvalidInput

KINDS = ("meter", "status", "fault", "heartbeat")
FAULTED_STATUS = "Faulted"
_STATUSES = frozenset(CONNECTOR_STATUSES)
_NUMBER_LIMITS = {
    "power_w": (-10_000_000, 10_000_000),
    "voltage_v": (-2_000, 2_000),
    "current_a": (-2_000, 2_000),
    "soc_pct": (0, 100),
    "temperature_c": (-100, 200),
}
MAX_ENERGY_WH = MAX_METER_WH  # a cumulative meter far beyond any charger's lifetime, well inside the bigint column
NUMBER_LIMITS = _NUMBER_LIMITS
FIELDS = frozenset({"charger_id", "connector_id", "ts", "kind", "energy_wh", "error_code", "status", *_NUMBER_LIMITS})


class ReadingIn(NamedTuple):
    """One validated event (a named tuple: a batch creates a thousand of them, so they must be cheap)."""

    index: int
    charger_id: UUID
    connector_id: UUID | None
    ts: datetime
    kind: str
    energy_wh: int | None = None
    power_w: int | None = None
    voltage_v: float | None = None
    current_a: float | None = None
    soc_pct: float | None = None
    temperature_c: float | None = None
    error_code: str | None = None
    status: str | None = None


def _uuid(value: Any, cache: dict) -> UUID:
    """Parses a UUID string; a batch repeats a few charger/connector ids, so each is parsed once."""
    parsed = cache.get(value) if type(value) is str else None
    if parsed is not None:
        return parsed
    if not isinstance(value, str):
        raise ValueError("Must be a UUID string.")
    try:
        parsed = cache[value] = UUID(value)
    except ValueError:
        raise ValueError("Must be a valid UUID.") from None
    return parsed


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("Must be an RFC 3339 date-time string.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("Must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z.") from None
    if parsed.tzinfo is None:
        raise ValueError("Must carry a time zone (Z or an offset).")
    return parsed


def _number_error(value: Any, low: float, high: float) -> str:
    kind = type(value)
    if kind is not int and kind is not float:
        return "Must be a number."
    if kind is float and not math.isfinite(value):
        return "Must be a finite number."
    return f"Must be between {low} and {high}."


def _number(get, name: str, errors: dict) -> float | None:
    """The optional number `name` within its limits (None if absent); a bad one is recorded in `errors`."""
    value = get(name)
    if value is None:
        return None
    kind = type(value)
    low, high = _NUMBER_LIMITS[name]
    if (kind is int or kind is float) and low <= value <= high:  # NaN fails the comparison too
        return value
    errors[name] = [_number_error(value, low, high)]
    return None


def parse_item(
    item: Any, index: int, *, earliest: datetime, latest: datetime, uuids: dict | None = None
) -> tuple[ReadingIn | None, dict]:
    """Returns (reading, {}) or (None, {field: [message]})."""
    if type(item) is not dict:
        return None, {"non_field_errors": ["Must be an object."]}
    uuids = {} if uuids is None else uuids
    errors: dict[str, list[str]] = {}
    if not FIELDS.issuperset(item):
        for name in item.keys() - FIELDS:
            errors[str(name)] = ["Unknown field."]
    get = item.get

    charger_id = connector_id = ts = None
    value = get("charger_id")
    if value is None:
        errors["charger_id"] = ["This field is required."]
    else:
        try:
            charger_id = _uuid(value, uuids)
        except ValueError as exc:
            errors["charger_id"] = [str(exc)]
    value = get("connector_id")
    if value is not None:
        try:
            connector_id = _uuid(value, uuids)
        except ValueError as exc:
            errors["connector_id"] = [str(exc)]
    value = get("ts")
    if value is None:
        errors["ts"] = ["This field is required."]
    else:
        try:
            ts = _timestamp(value)
            if ts > latest:
                errors["ts"] = ["Too far in the future (check the charger's clock)."]
            elif ts < earliest:
                errors["ts"] = ["Older than the retention period; not stored."]
        except ValueError as exc:
            errors["ts"] = [str(exc)]
    kind = get("kind")
    if kind is None:
        errors["kind"] = ["This field is required."]
    elif type(kind) is not str or kind not in KINDS:
        errors["kind"] = [f"Must be one of {', '.join(KINDS)}."]

    energy = get("energy_wh")
    if energy is not None:
        if type(energy) is not int or not 0 <= energy <= MAX_ENERGY_WH:
            errors["energy_wh"] = [f"Must be an integer from 0 to {MAX_ENERGY_WH} (cumulative Wh)."]
    elif kind == "meter":
        errors["energy_wh"] = ["Required for a meter reading."]

    power = _number(get, "power_w", errors)
    voltage = _number(get, "voltage_v", errors)
    current = _number(get, "current_a", errors)
    soc = _number(get, "soc_pct", errors)
    temperature = _number(get, "temperature_c", errors)

    error_code = get("error_code")
    if error_code is not None:
        if type(error_code) is not str or not error_code.strip() or len(error_code) > 50:
            errors["error_code"] = ["Must be a non-empty string of at most 50 characters."]
        else:
            error_code = error_code.strip()
    elif kind == "fault":
        errors["error_code"] = ["Required for a fault."]

    status = get("status")
    if status is not None:
        if type(status) is not str or status not in _STATUSES:
            errors["status"] = [f"Must be an OCPP 1.6 status: {', '.join(CONNECTOR_STATUSES)}."]
    elif kind == "status":
        errors["status"] = ["Required for a status event."]

    if errors:
        return None, errors
    return ReadingIn(
        index,
        charger_id,
        connector_id,
        ts,
        kind,
        energy,
        None if power is None else round(power),
        voltage,
        current,
        soc,
        temperature,
        error_code,
        status,
    ), {}


def parse_batch(payload: Any, *, now: datetime, max_items: int, retention_days: int, max_future_seconds: int):
    """One event (an object) or a list of up to `max_items`. Raises InvalidInput naming every bad field;
    errors are keyed `"<index>.<field>"` for a list and `"<field>"` for a single object."""
    single = isinstance(payload, dict)
    items = [payload] if single else payload
    if not isinstance(items, list):
        raise InvalidInput("Send one event object or a list of events.")
    if not items:
        raise InvalidInput("The batch is empty.", errors={"non_field_errors": ["Send at least one event."]})
    if len(items) > max_items:
        raise InvalidInput(
            f"At most {max_items} events per batch.",
            errors={"non_field_errors": [f"At most {max_items} events per batch; got {len(items)}."]},
        )
    earliest = now - timedelta(days=retention_days)
    latest = now + timedelta(seconds=max_future_seconds)
    readings: list[ReadingIn] = []
    errors: dict[str, list[str]] = {}
    uuids: dict[str, UUID] = {}
    for index, item in enumerate(items):
        reading, item_errors = parse_item(item, index, earliest=earliest, latest=latest, uuids=uuids)
        if item_errors:
            for name, messages in item_errors.items():
                errors[name if single else f"{index}.{name}"] = messages
        else:
            readings.append(reading)
    if errors:
        bad = len({key.split(".", 1)[0] for key in errors}) if not single else 1
        raise InvalidInput(f"{bad} of {len(items)} events are invalid; nothing was stored.", errors=errors)
    return readings
