from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "evcharge.platform"
    label = "platform"
    verbose_name = "Platform"
