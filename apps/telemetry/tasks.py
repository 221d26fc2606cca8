from celery import shared_task

from apps.telemetry import services


@shared_task(name="telemetry.health_sweep", ignore_result=True)
def health_sweep() -> int:
    return services.charger_health_sweep()


@shared_task(name="telemetry.rollup", ignore_result=True)
def rollup_recent() -> int:
    return services.rollup_recent()


@shared_task(name="telemetry.retention", ignore_result=True)
def retention_enforce() -> int:
    return services.telemetry_retention_enforce().readings_deleted
