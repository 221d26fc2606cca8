"""Prometheus metrics of the event bus (served by django-prometheus at /metrics).

Counters count in the process that does the work (the relay and the consumers run in Celery
workers): scrape those with EVENTS_METRICS_PORT, see consumer.py. The outbox gauges are read from
the database at scrape time, so any process shows the true backlog.
"""

import logging

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger("evcharge.events")

published = Counter("evcharge_events_published", "Events the relay published (confirmed by the broker)", ["type"])
unroutable = Counter(
    "evcharge_events_unroutable", "Published events no queue was bound for (returned by the broker)", ["type"]
)
publish_failed = Counter("evcharge_events_publish_failed", "Publish attempts that failed (retried later)", ["type"])
outbox_dead = Counter("evcharge_events_outbox_dead", "Outbox rows marked dead after the last relay attempt", ["type"])
consumed = Counter("evcharge_events_consumed", "Events a consumer applied", ["consumer"])
duplicates = Counter("evcharge_events_duplicates", "Duplicate deliveries acked and skipped", ["consumer"])
handler_failed = Counter(
    "evcharge_events_handler_failed", "Handler failures (each is retried or dead-lettered)", ["consumer"]
)
dead_lettered = Counter("evcharge_events_dead_lettered", "Events dead-lettered after the last retry", ["consumer"])
batch_size = Histogram(
    "evcharge_events_consumer_batch_size",
    "Deliveries a consumer applied in one transaction",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)


class OutboxCollector:
    """Backlog, age of the oldest unsent event and dead rows, queried when Prometheus scrapes."""

    def describe(self):
        # Lets the registry learn the names without a database query at registration.
        yield GaugeMetricFamily("evcharge_events_outbox_backlog", "Outbox rows not yet sent")
        yield GaugeMetricFamily("evcharge_events_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent row")
        yield GaugeMetricFamily("evcharge_events_outbox_dead_rows", "Outbox rows marked dead")

    def collect(self):
        try:
            from django.db.models import Count, Min, Q
            from django.utils import timezone

            from evcharge.events.models import OutboxMessage

            stats = OutboxMessage.objects.aggregate(
                backlog=Count("id", filter=Q(sent_at__isnull=True, dead_at__isnull=True)),
                oldest=Min("created_at", filter=Q(sent_at__isnull=True, dead_at__isnull=True)),
                dead=Count("id", filter=Q(dead_at__isnull=False)),
            )
        except Exception:
            logger.warning("outbox metrics unavailable", exc_info=True)
            return
        age = (timezone.now() - stats["oldest"]).total_seconds() if stats["oldest"] else 0.0
        yield GaugeMetricFamily("evcharge_events_outbox_backlog", "Outbox rows not yet sent", value=stats["backlog"])
        yield GaugeMetricFamily(
            "evcharge_events_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row", value=age
        )
        yield GaugeMetricFamily("evcharge_events_outbox_dead_rows", "Outbox rows marked dead", value=stats["dead"])


_collector: OutboxCollector | None = None


def register_collector() -> None:
    global _collector
    if _collector is None:
        _collector = OutboxCollector()
        REGISTRY.register(_collector)
