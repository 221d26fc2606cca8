from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """An event written in the publishing transaction, waiting for (or done with) the relay."""

    id = models.UUIDField(primary_key=True)  # the event id
    # Only the primary key and the relay's partial index: each index is paid for by every publish and by the relay's
    # take of every row (which cannot be a HOT update, sent_at being in the partial index's predicate).
    type = models.CharField(max_length=100)
    envelope = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="Claimed by a relay until then; a crashed relay's rows are retaken after."
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The relay walks unsent rows oldest first; sent rows (kept for days) stay out of its way.
            models.Index(
                fields=["created_at"],
                name="outbox_unsent_idx",
                condition=models.Q(sent_at__isnull=True, dead_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    @property
    def state(self) -> str:
        if self.dead_at:
            return "dead"
        if self.sent_at:
            return "sent"
        if self.locked_until and self.locked_until > timezone.now():
            return "claimed"
        return "retrying" if self.attempts else "pending"


class InboxMessage(models.Model):
    """An event a consumer has applied; written in the same transaction as the handler's effects."""

    consumer = models.CharField(max_length=60)
    event_id = models.UUIDField()
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consumer", "event_id"], name="inbox_once_per_consumer")]

    def __str__(self) -> str:
        return f"{self.consumer} {self.type} {self.event_id}"


class DeadLetter(models.Model):
    """An event a consumer's handler kept failing on; replayable with `manage.py events_deadletters`."""

    consumer = models.CharField(max_length=60)
    event_id = models.UUIDField()
    type = models.CharField(max_length=100)
    envelope = models.JSONField()
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.consumer} {self.type} {self.event_id}"


class QueueBinding(models.Model):
    """A binding the platform made on RabbitMQ. AMQP cannot list a queue's bindings, so they are recorded here:
    declaring the topology removes the ones no subscription names any more."""

    exchange = models.CharField(max_length=200)
    queue = models.CharField(max_length=200)
    routing_key = models.CharField(max_length=200)
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exchange", "queue", "routing_key"], name="queue_binding_once"),
        ]

    def __str__(self) -> str:
        return f"{self.exchange} → {self.queue} ({self.routing_key})"


class ArchivedEvent(models.Model):
    """A sent event, moved here from the outbox by the hourly purge: the append-only history read models are
    rebuilt from. On PostgreSQL the table is partitioned by month of `created_at` (evcharge/events/archive.py)."""

    pk = models.CompositePrimaryKey("id", "created_at")
    id = models.UUIDField()
    type = models.CharField(max_length=100)
    envelope = models.JSONField()
    created_at = models.DateTimeField(help_text="When the event was published (its outbox row was written).")
    sent_at = models.DateTimeField(null=True)
    archived_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["type", "created_at"], name="archive_type_time_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
