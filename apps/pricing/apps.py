from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "apps.pricing"
    label = "pricing"
    verbose_name = "Pricing"

    def ready(self) -> None:
        from apps.pricing import handlers  # noqa: F401  (registers the subscribers)
        from apps.pricing.facade import PricingFacadeImpl
        from evcharge.contracts import pricing

        pricing.register(PricingFacadeImpl())
