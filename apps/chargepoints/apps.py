from django.apps import AppConfig


class ChargepointsConfig(AppConfig):
    name = "apps.chargepoints"
    label = "chargepoints"
    verbose_name = "Charge points (OCPP)"

    def ready(self) -> None:
        from apps.chargepoints import checks, handlers  # noqa: F401  (registers the system checks and subscribers)
        from apps.chargepoints.facade import ChargepointsFacadeImpl
        from evcharge.contracts import chargepoints

        chargepoints.register(ChargepointsFacadeImpl())

        from django.conf import settings

        from apps.chargepoints.tasks import SWEEP_COMMANDS
        from evcharge.celery import register_periodic

        register_periodic(SWEEP_COMMANDS, SWEEP_COMMANDS, seconds=settings.OCPP_COMMAND_SWEEP_S)
