from django.apps import AppConfig
from django.conf import settings


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from apps.billing import handlers  # noqa: F401  (registers the subscribers)
        from apps.billing.tasks import RECONCILE_PENDING_PAYMENTS
        from evcharge.celery import register_periodic

        register_periodic(
            RECONCILE_PENDING_PAYMENTS,
            RECONCILE_PENDING_PAYMENTS,
            seconds=settings.BILLING_PENDING_PAYMENT_TIMEOUT_SECONDS,
        )
