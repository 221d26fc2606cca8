"""Demo config: the station defaults, written through the service (with history).

Only keys something reads are seeded: `stations.defaults.*` fill the settings of each new station
(services.station_settings_seed). No feature flag is seeded while no code asks one."""

from apps.adminconfig import selectors, services
from evcharge.actor import Actor

DEMO_KEYS = {
    "stations.defaults.idle_grace_min": (10, "Idle minutes before the idle fee starts, for new stations."),
}


def seed(context: dict) -> None:
    admin_id = context.get("users", {}).get("admin@evcharge.test")
    for key, (value, description) in DEMO_KEYS.items():
        if selectors.config_get(key) is None:
            services.config_set(
                key=key,
                value=value,
                description=description,
                by=Actor(user_id=admin_id, role="admin"),
                by_email="admin@evcharge.test" if admin_id else "",
            )
    context.setdefault("summary", []).append(
        "Config: GET /api/v1/admin/config as admin, or the admin's Config entries; "
        "PUT /api/v1/admin/stations/{id}/settings as operator (max_power_kw caps what quotes assume)."
    )
