import hashlib
import uuid

from django.db import models
from django.utils import timezone


def token_digest(token: str) -> str:
    """Only the token's SHA-256 is stored: whoever reads the table cannot open anyone's session page."""
    return hashlib.sha256(token.encode()).hexdigest()


class WebCheckout(models.Model):
    """A session started from a connector's page: the key of its page (/s/{token}), where its receipt goes, and
    the card hold that pays for it. The session, the hold and the invoice stay with their own contexts."""

    class Kind(models.TextChoices):
        GUEST = "guest", "Guest (e-mail and card)"
        DRIVER = "driver", "Signed-in driver (saved card)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token_sha256 = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    session_id = models.UUIDField(unique=True)
    user_id = models.UUIDField(db_index=True)
    station_id = models.UUIDField()
    connector_code = models.CharField(max_length=32)
    email = models.EmailField(help_text="Where the receipt goes.")
    language = models.CharField(max_length=10, default="en", help_text="The page's language at start.")
    hold_id = models.UUIDField()
    promotion_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "web checkout"

    def __str__(self) -> str:
        return f"{self.kind} {self.connector_code} {self.created_at:%Y-%m-%d %H:%M}"
