"""System checks of the OCPP gateway's settings (run at start-up, so `manage.py ocpp_gateway` says it too)."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register


@register("chargepoints")
def ocpp_security(app_configs=None, **kwargs) -> list:
    messages = []
    if settings.OCPP_ALLOW_UNSECURED and not settings.DEBUG:
        messages.append(
            Warning(
                "OCPP_ALLOW_UNSECURED is on outside DEBUG: a charger without an OCPP password may connect as any "
                "charge box that has none (security profile 0).",
                hint="Set OCPP_ALLOW_UNSECURED=false and give every charger a password "
                "(PUT /api/v1/chargers/{id}/ocpp-credentials).",
                id="chargepoints.W001",
            )
        )
    if settings.OCPP_TLS_KEY and not settings.OCPP_TLS_CERT:
        # A certificate alone is fine when its file holds the key too.
        messages.append(Error("OCPP_TLS_KEY is set without OCPP_TLS_CERT.", id="chargepoints.E001"))
    for name in ("OCPP_TLS_CERT", "OCPP_TLS_KEY"):
        path = getattr(settings, name)
        if path and not Path(path).is_file():
            messages.append(Error(f"{name}={path!r} is not a readable file.", id="chargepoints.E002"))
    return messages
