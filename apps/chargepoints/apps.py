from django.apps import AppConfig


class ChargepointsConfig(AppConfig):
    name = "apps.chargepoints"
    label = "chargepoints"
    verbose_name = "Charge points (OCPP)"

    def ready(self) -> None:
        from apps.chargepoints import handlers  # noqa: F401  (registers the subscribers)
        from apps.chargepoints.facade import ChargepointsFacadeImpl
        from evcharge.contracts import chargepoints

        chargepoints.register(ChargepointsFacadeImpl())
