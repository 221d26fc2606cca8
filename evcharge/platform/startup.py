"""Serving processes refuse to start on a system check error (a missing PAYMENT_GATEWAY outside the embedded
mode, say): gunicorn, an ASGI server and Celery workers run no checks of their own, unlike manage.py commands."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_to_start_on_check_errors() -> None:
    errors = [message for message in checks.run_checks() if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("system check errors:\n" + "\n".join(str(error) for error in errors))
