"""The driver's pages, at the site root (included by evcharge/urls.py): /c/{code} is what a connector's QR code
opens."""

from django.urls import path

from apps.driverweb.api import pages

urlpatterns = [
    path("c/<str:code>", pages.connector, name="connector-landing"),
    path("c/<str:code>/start", pages.start, name="driverweb-start"),
    path("s/<str:token>", pages.session, name="driverweb-session"),
    path("s/<str:token>/stop", pages.stop, name="driverweb-stop"),
    path("s/<str:token>/cancel", pages.cancel, name="driverweb-cancel"),
    path("login", pages.login_page, name="driverweb-login"),
    path("logout", pages.logout_page, name="driverweb-logout"),
    path("me/sessions", pages.history, name="driverweb-history"),
]
