from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "apps.identity"
    label = "identity"
    verbose_name = "Identity"

    def ready(self) -> None:
        from apps.identity.facade import IdentityFacadeImpl
        from evcharge.contracts import identity

        identity.register(IdentityFacadeImpl())
