from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "evcharge.api"
    label = "platform_api"
    verbose_name = "API conventions"
