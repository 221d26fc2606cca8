"""System checks: outside the embedded mode the payment gateway must be chosen explicitly.

Registered without the deploy tag, so it runs at start-up (runserver, migrate, every management command) as
well as under `check --deploy`: a production install never approves payments with the test gateway by default.
"""

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

TEST_GATEWAY = "apps.billing.gateways.TestGateway"


@register("billing")
def payment_gateway_is_set(app_configs=None, **kwargs) -> list[Error]:
    gateway = getattr(settings, "PAYMENT_GATEWAY", "")
    if not gateway:
        return [
            Error(
                "PAYMENT_GATEWAY is not set.",
                hint=f"Outside the embedded mode set PAYMENT_GATEWAY to the payment gateway's dotted path "
                f"(the test gateway, for staging and tests only: {TEST_GATEWAY}).",
                id="billing.E001",
            )
        ]
    try:
        import_string(gateway)
    except ImportError as exc:
        return [Error(f"PAYMENT_GATEWAY={gateway!r} cannot be imported: {exc}", id="billing.E002")]
    return []
