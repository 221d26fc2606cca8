"""Celery tasks of the chargepoints context."""
