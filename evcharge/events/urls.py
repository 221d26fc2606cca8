from django.urls import path

from evcharge.events.views import asyncapi_yaml

urlpatterns = [
    path("asyncapi.yaml", asyncapi_yaml, name="asyncapi"),
]
