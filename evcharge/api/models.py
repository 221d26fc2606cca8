from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a request made with an Idempotency-Key, replayed on a retry."""

    scope = models.CharField(max_length=100)
    principal = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "principal", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
