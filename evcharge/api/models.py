from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """The first response to a request made with an Idempotency-Key, replayed on a retry."""

    scope = models.CharField(max_length=100)
    principal = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # who holds the key while the request runs, and since when (a retry takes over after the lease)
    lease = models.UUIDField(null=True)
    locked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "principal", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
