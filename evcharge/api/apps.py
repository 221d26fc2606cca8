from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "evcharge.api"
    label = "platform_api"
    verbose_name = "API conventions"

    def ready(self) -> None:
        from evcharge.api import tasks  # noqa: F401  (registers the task)
        from evcharge.celery import register_periodic

        register_periodic("api-idempotency-purge", "evcharge.api.idempotency_purge", seconds=3600.0)
