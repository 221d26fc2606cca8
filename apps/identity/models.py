import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from evcharge.actor import ADMIN, DRIVER, OPERATOR


class Operator(models.Model):
    """A charging network company; its staff are users with role=operator."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.setdefault("role", ADMIN)
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        DRIVER = DRIVER, "Driver"
        OPERATOR = OPERATOR, "Operator"
        ADMIN = ADMIN, "Admin"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.DRIVER, db_index=True)
    operator = models.ForeignKey(Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log into the Django admin.")
    is_guest = models.BooleanField(
        default=False, help_text="Made for one guest checkout from a QR code: no password, cannot sign in."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role=OPERATOR) | models.Q(operator__isnull=False),
                name="operator_role_needs_operator",
            )
        ]

    def __str__(self) -> str:
        return self.email


class ApiKey(models.Model):
    """A machine credential (chargers, integrations). Only a hash is stored; the key is shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, help_text="Public part of the key, to find it.")
    hashed_key = models.CharField(max_length=64)
    operator = models.ForeignKey(Operator, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="api_keys")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdTag(models.Model):
    """An RFID tag (or a tag the platform issued for remote starts) that a charger sends as OCPP idTag."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        BLOCKED = "blocked", "Blocked"

    class Kind(models.TextChoices):
        RFID = "rfid", "RFID card"
        PLATFORM = "platform", "Issued by the platform (remote starts)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="id_tags")
    tag = models.CharField(max_length=20, help_text="As the charger reads it (OCPP CiString20: at most 20 characters).")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RFID)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "RFID tag"
        constraints = [
            models.UniqueConstraint(models.functions.Upper("tag"), name="id_tag_unique_case_insensitive"),
        ]

    def __str__(self) -> str:
        return self.tag
