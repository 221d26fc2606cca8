"""Demo config: a feature flag and the station defaults, written through the service (with history)."""

from apps.adminconfig import selectors, services
from evcharge.actor import Actor

DEMO_KEYS = {
    "flags.qr_landing_v2": (True, "Show the new QR landing page."),
    "stations.defaults.idle_grace_min": (10, "Idle minutes before the idle fee starts, for new stations."),
}


def seed(context: dict) -> None:
    admin_id = context.get("users", {}).get("admin@evcharge.test")
    for key, (value, description) in DEMO_KEYS.items():
        if selectors.config_get(key) is None:
            services.config_set(key=key, value=value, description=description, by=Actor(user_id=admin_id, role="admin"))
    context.setdefault("summary", []).append(
        "Config: GET /api/v1/admin/config as admin; flags.qr_landing_v2 is a feature flag."
    )
