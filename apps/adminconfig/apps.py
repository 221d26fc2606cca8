from django.apps import AppConfig


class AdminconfigConfig(AppConfig):
    name = "apps.adminconfig"
    label = "adminconfig"
    verbose_name = "Admin configuration"

    def ready(self) -> None:
        from apps.adminconfig import handlers  # noqa: F401  (registers the subscribers)
        from apps.adminconfig.facade import AdminConfigFacadeImpl
        from evcharge.contracts import adminconfig

        adminconfig.register(AdminConfigFacadeImpl())
