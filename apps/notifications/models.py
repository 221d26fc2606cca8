import uuid

from django.db import models


class Notification(models.Model):
    """Something a user was told, recorded from another context's event (one per user and event)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField()
    kind = models.CharField(max_length=60, db_index=True, help_text="e.g. reservation.created, payment.failed")
    title = models.CharField(max_length=200)
    body = models.TextField()
    event_id = models.UUIDField(help_text="The event this notification was recorded from.")
    event_type = models.CharField(max_length=100)
    related = models.JSONField(default=dict, blank=True, help_text="Ids of what it is about.")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user_id", "event_id"], name="notification_once_per_user_and_event")
        ]
        indexes = [models.Index(fields=["user_id", "-created_at"], name="notification_user_recent_idx")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class ActiveSession(models.Model):
    """Who charges at a connector right now (from session events): the driver to tell if it faults."""

    connector_id = models.UUIDField(primary_key=True)
    session_id = models.UUIDField()
    user_id = models.UUIDField()
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.session_id} on {self.connector_id}"
