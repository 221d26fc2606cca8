from django.apps import AppConfig
from django.conf import settings


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from apps.billing import checks, handlers  # noqa: F401  (registers the system checks and subscribers)
        from apps.billing.facade import BillingFacadeImpl
        from apps.billing.tasks import (
            RECONCILE_PENDING_PAYMENTS,
            SWEEP_PAYMENT_HOLDS,
            SWEEP_PAYMENT_HOLDS_EVERY_SECONDS,
        )
        from evcharge.celery import register_periodic
        from evcharge.contracts import billing

        billing.register(BillingFacadeImpl())

        register_periodic(
            RECONCILE_PENDING_PAYMENTS,
            RECONCILE_PENDING_PAYMENTS,
            seconds=settings.BILLING_PENDING_PAYMENT_TIMEOUT_SECONDS,
        )
        register_periodic(SWEEP_PAYMENT_HOLDS, SWEEP_PAYMENT_HOLDS, seconds=SWEEP_PAYMENT_HOLDS_EVERY_SECONDS)
