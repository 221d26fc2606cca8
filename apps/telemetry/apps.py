from django.apps import AppConfig
from django.conf import settings


class TelemetryConfig(AppConfig):
    name = "apps.telemetry"
    label = "telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        from apps.telemetry import handlers, tasks  # noqa: F401  (registers subscribers and tasks)
        from apps.telemetry.facade import TelemetryFacadeImpl
        from evcharge.celery import register_periodic
        from evcharge.contracts import telemetry

        telemetry.register(TelemetryFacadeImpl())
        register_periodic(
            "telemetry.health_sweep", "telemetry.health_sweep", seconds=settings.TELEMETRY_HEALTH_SWEEP_SECONDS
        )
        register_periodic("telemetry.rollup", "telemetry.rollup", seconds=settings.TELEMETRY_MAINTENANCE_SECONDS)
        register_periodic("telemetry.retention", "telemetry.retention", seconds=settings.TELEMETRY_MAINTENANCE_SECONDS)
