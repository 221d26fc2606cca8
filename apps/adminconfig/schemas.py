"""Known config keys and the JSON Schema their values must satisfy. Unknown keys take any JSON."""

import fnmatch
import re

import jsonschema

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
KEY_MAX_LENGTH = 200

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
}


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


def value_problems(key: str, value) -> list[str]:
    schema = schema_for(key)
    if schema is None:
        return []
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, error.absolute_path)) or 'value'}: {error.message}"
        for error in validator.iter_errors(value)
    ]
