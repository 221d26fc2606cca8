from django.apps import AppConfig


class AdminconfigConfig(AppConfig):
    name = "apps.adminconfig"
    label = "adminconfig"
    verbose_name = "Adminconfig"

    def ready(self) -> None:
        pass
