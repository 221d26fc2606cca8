"""Known config keys and the JSON Schema their values must satisfy. Unknown keys take any JSON."""

import fnmatch
import math
import re
from typing import Any
from uuid import UUID

import jsonschema

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
KEY_MAX_LENGTH = 200
# Arrays and objects nested in a config value, at most: deeper values are refused before anything (the schema
# check, the JSON column, the event codec) recurses into them.
MAX_VALUE_DEPTH = 32

STATION_DEFAULTS = {
    "stations.defaults.enabled": True,
    "stations.defaults.reservable": True,
    "stations.defaults.max_power_kw": None,
    "stations.defaults.rate_plan_id": None,
    "stations.defaults.idle_grace_min": None,
}

KNOWN_KEYS: dict[str, dict] = {
    "flags.*": {"type": "boolean"},
    "stations.defaults.enabled": {"type": "boolean"},
    "stations.defaults.reservable": {"type": "boolean"},
    "stations.defaults.max_power_kw": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 1000},
    "stations.defaults.rate_plan_id": {"type": ["string", "null"], "format": "uuid"},
    "stations.defaults.idle_grace_min": {"type": ["integer", "null"], "minimum": 0, "maximum": 1440},
    # The card pre-authorisation of an ad-hoc session, minor units of the session's currency (billing).
    "billing.adhoc_hold_amount": {"type": "integer", "minimum": 1, "maximum": 10**13},
}


# Station settings take the same bounds as their defaults (stations.defaults.<name>).
STATION_SETTING_SCHEMAS: dict[str, dict] = {
    key.rsplit(".", 1)[1]: schema for key, schema in KNOWN_KEYS.items() if key.startswith("stations.defaults.")
}


def station_setting_problems(name: str, value: Any) -> list[str]:
    schema = STATION_SETTING_SCHEMAS.get(name)
    if schema is None:
        return ["Unknown setting."]
    if isinstance(value, UUID):
        value = str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{value!r} is not a finite number."]
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return [error.message for error in validator.iter_errors(value)]


def schema_for(key: str) -> dict | None:
    if key in KNOWN_KEYS:
        return KNOWN_KEYS[key]
    for pattern, schema in KNOWN_KEYS.items():
        if "*" in pattern and fnmatch.fnmatchcase(key, pattern):
            return schema
    return None


def key_problem(key: str) -> str | None:
    if len(key) > KEY_MAX_LENGTH:
        return f"A key has at most {KEY_MAX_LENGTH} characters."
    if not KEY_PATTERN.match(key):
        return "A key is dotted lower-case words, e.g. flags.new_checkout or billing.invoice_prefix."
    return None


def shape_problem(value: Any, limit: int = MAX_VALUE_DEPTH) -> str | None:
    """What makes `value` unfit to keep as JSON, whatever its key: arrays/objects nested deeper than `limit`
    (a scalar is 0 deep, [] is 1) or a number JSON cannot hold (NaN, infinity). Walks without recursion."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return f"{item!r} is not a JSON number."
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return f"nested deeper than {limit} levels of arrays and objects."
        stack.extend((child, depth + 1) for child in children)
    return None


def value_problems(key: str, value: Any) -> list[str]:
    if problem := shape_problem(value):
        return [f"value: {problem}"]
    schema = schema_for(key)
    if schema is None:
        return []
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, error.absolute_path)) or 'value'}: {error.message}"
        for error in validator.iter_errors(value)
    ]
