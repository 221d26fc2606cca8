"""Billing's tables: invoices (a driver's charging orders) and their lines, payment methods, payments,
and the append-only payments ledger.

Other contexts' objects (sessions, stations, users, operators, promotions) are referenced by UUID only;
what billing needs to know about a session it keeps here, copied from the session events.
"""

import uuid

from django.db import models
from django.db.models import Q


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft (session running, provisional hold)"
    OPEN = "open", "Open (finalized, to be paid)"
    PAID = "paid", "Paid"
    VOID = "void", "Void"
    REFUNDED = "refunded", "Refunded"


class LineKind(models.TextChoices):
    ENERGY = "energy", "Energy"
    TIME = "time", "Time"
    SESSION_FEE = "session_fee", "Session fee"
    IDLE_FEE = "idle_fee", "Idle fee"
    RESERVATION_FEE = "reservation_fee", "Reservation fee"
    PRODUCT = "product", "Product"
    ADJUSTMENT = "adjustment", "Adjustment"
    DISCOUNT = "discount", "Discount"


SESSION_LINE_KINDS = (LineKind.ENERGY, LineKind.TIME, LineKind.SESSION_FEE, LineKind.IDLE_FEE)
STAFF_LINE_KINDS = (LineKind.ADJUSTMENT, LineKind.RESERVATION_FEE, LineKind.PRODUCT)
EDITABLE_STATUSES = (InvoiceStatus.DRAFT, InvoiceStatus.OPEN)


class Invoice(models.Model):
    """One per charging session. Draft while the session runs, open once finalized from session.completed.v1."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session_id = models.UUIDField(unique=True)
    user_id = models.UUIDField(db_index=True)
    operator_id = models.UUIDField(db_index=True)
    station_id = models.UUIDField(db_index=True)
    connector_id = models.UUIDField()
    connector_type = models.CharField(max_length=20, blank=True)
    reservation_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    currency = models.CharField(max_length=3)

    # The tariff snapshot the session was started with (TariffSnapshot as JSON primitives).
    tariff = models.JSONField()
    # What finalize needs, copied from the session events (billing cannot read sessions).
    started_at = models.DateTimeField()
    meter_start_wh = models.BigIntegerField(default=0)
    completed = models.BooleanField(default=False, help_text="session.completed.v1 has been received")
    ended_at = models.DateTimeField(null=True, blank=True)
    charging_ended_at = models.DateTimeField(null=True, blank=True)
    meter_stop_wh = models.BigIntegerField(null=True, blank=True)
    energy_wh = models.BigIntegerField(null=True, blank=True)

    hold_amount = models.BigIntegerField(
        default=0, help_text="Provisional hold recorded at session start (an estimate; no money moves)"
    )
    subtotal_amount = models.BigIntegerField(default=0)
    discount_amount = models.BigIntegerField(default=0)
    total_amount = models.BigIntegerField(default=0)
    status_reason = models.CharField(max_length=500, blank=True)
    version = models.PositiveBigIntegerField(
        default=0, help_text="Bumped with every change of the invoice's money after generation (invoice.updated.v1)"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="voided or refunded")

    class Meta:
        ordering = ["-started_at", "-created_at"]
        indexes = [
            models.Index(fields=["user_id", "-started_at"], name="billing_inv_user_started"),
            models.Index(fields=["operator_id", "-started_at"], name="billing_inv_oper_started"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0) & Q(discount_amount__gte=0),
                name="billing_invoice_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(total_amount=models.F("subtotal_amount") - models.F("discount_amount")),
                name="billing_invoice_total_is_subtotal_minus_discount",
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.id} ({self.status}, {self.total_amount} {self.currency})"


class InvoiceLine(models.Model):
    """An item of the order. `amount` is computed exactly from its source and rounded once, half to even.
    `quantity` is in `unit` (kWh, min, item); for time and idle lines it is the exact minutes shown
    to 3 decimals, while `amount` is computed from the exact fraction."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=LineKind.choices)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.CharField(max_length=10, default="item")
    unit_amount = models.BigIntegerField()
    amount = models.BigIntegerField()
    promotion_code = models.CharField(max_length=64, blank=True)
    promotion_id = models.UUIDField(null=True, blank=True)
    redemption_id = models.UUIDField(null=True, blank=True)
    added_by = models.UUIDField(null=True, blank=True, help_text="the staff user who added it; empty = system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class PaymentMethod(models.Model):
    """A driver's tokenised card; the token is the gateway's, never a card number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=10, default="card")
    token = models.CharField(max_length=255)
    brand = models.CharField(max_length=30, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    label = models.CharField(max_length=80, blank=True, help_text="The driver's name for the card; shown by the API.")
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.shown_label

    @property
    def shown_label(self) -> str:
        """The label, or for a card added without one its brand and last four digits."""
        return self.label or f"{(self.brand or self.kind).title()} ending {self.last4}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class PaymentKind(models.TextChoices):
    CHARGE = "charge", "Charge (checkout, or the rest of a total above its hold)"
    HOLD_CAPTURE = "hold_capture", "Capture of a card pre-authorisation"


class Payment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    user_id = models.UUIDField(db_index=True)
    payment_method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, null=True, blank=True)
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    kind = models.CharField(max_length=20, choices=PaymentKind.choices, default=PaymentKind.CHARGE)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    discount_amount = models.BigIntegerField(default=0)
    promotion_code = models.CharField(max_length=64, blank=True)
    redemption_id = models.UUIDField(null=True, blank=True)
    gateway = models.CharField(max_length=100, blank=True, help_text="empty: nothing to charge")
    gateway_reference = models.CharField(max_length=255, blank=True)
    refund_reference = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    checkout_key = models.CharField(
        max_length=255, blank=True, help_text="The Idempotency-Key of the checkout request that made it"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one payment in flight per invoice, and one of each kind that took the money (a hold's
            # capture, and a charge: a checkout, or the rest of a total above the hold).
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(status="pending"), name="billing_one_pending_payment_per_invoice"
            ),
            models.UniqueConstraint(
                fields=["invoice", "kind"],
                condition=Q(status__in=["succeeded", "refunded"]),
                name="billing_one_captured_payment_per_invoice_kind",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="billing_payment_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.id} ({self.status}, {self.amount} {self.currency})"

    @property
    def gateway_idempotency_key(self) -> str:
        """Sent with its charge and used to ask for its status: committed before the gateway is called."""
        return str(self.id)


class HoldStatus(models.TextChoices):
    PENDING = "pending", "Pending (the gateway has not answered)"
    AUTHORIZED = "authorized", "Authorized (held on the card)"
    DECLINED = "declined", "Declined (nothing held)"
    FAILED = "failed", "Failed (gateway error, or the capture refused)"
    CAPTURING = "capturing", "Capturing (the invoice's total, on its way to the gateway)"
    CAPTURED = "captured", "Captured (the whole hold)"
    PARTIALLY_CAPTURED = "partially_captured", "Partially captured (the rest released)"
    VOIDING = "voiding", "Voiding (the release on its way to the gateway)"
    VOIDED = "voided", "Voided (released in full)"


HOLD_SETTLING_STATUSES = (HoldStatus.CAPTURING, HoldStatus.VOIDING)
HOLD_FINAL_STATUSES = (
    HoldStatus.DECLINED,
    HoldStatus.FAILED,
    HoldStatus.CAPTURED,
    HoldStatus.PARTIALLY_CAPTURED,
    HoldStatus.VOIDED,
)


class PaymentHold(models.Model):
    """A card pre-authorisation for one ad-hoc session: billing decides the amount (admin config
    `billing.adhoc_hold_amount`), the gateway holds it; when the session's invoice is generated its total is
    captured (at most the hold; a total above it is charged to the same card as a second payment) and the rest
    released. Only the gateway's token of the card is kept, with its brand and last four digits."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    idempotency_key = models.CharField(max_length=255, unique=True, help_text="the caller's key for the authorize")
    status = models.CharField(max_length=20, choices=HoldStatus.choices, default=HoldStatus.PENDING)
    gateway = models.CharField(max_length=100)
    authorization_reference = models.CharField(max_length=255, blank=True)
    card_token = models.CharField(max_length=255, help_text="the gateway's token; never card data")
    card_brand = models.CharField(max_length=30, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    amount = models.BigIntegerField(help_text="held, minor units")
    captured_amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    failure_reason = models.CharField(max_length=500, blank=True)
    authorize_attempts = models.PositiveSmallIntegerField(
        default=1, help_text="a gateway error (nothing held) may be retried with the same key: a fresh attempt"
    )

    session_id = models.UUIDField(null=True, blank=True, unique=True)
    user_id = models.UUIDField(null=True, blank=True, db_index=True)
    operator_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="known once the session started")
    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="payment_hold"
    )
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="hold", help_text="its capture"
    )
    promotion_code = models.CharField(max_length=64, blank=True, help_text="given at attach; applied at capture")
    promotion_refusal = models.CharField(max_length=300, blank=True, help_text="why the code was skipped")
    void_reason = models.CharField(max_length=300, blank=True)
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="a worker is talking to the gateway about this hold until then"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    attached_at = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="billing_hold_status_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(captured_amount__gte=0) & Q(captured_amount__lte=models.F("amount")),
                name="billing_hold_captured_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold {self.id} ({self.status}, {self.amount} {self.currency})"

    @property
    def card_label(self) -> str:
        return f"{(self.card_brand or 'card').title()} ending {self.card_last4}"

    @property
    def released_amount(self) -> int:
        """What went back to the card: the rest after a capture, all of it after a void."""
        if self.status in (HoldStatus.CAPTURED, HoldStatus.PARTIALLY_CAPTURED):
            return self.amount - self.captured_amount
        return self.amount if self.status == HoldStatus.VOIDED else 0


class LedgerAccount(models.TextChoices):
    GATEWAY_CASH = "gateway_cash", "Cash held at the payment gateway"
    SALES = "sales", "Charging sales"


class LedgerEntry(models.Model):
    """Append-only, double-entry style: every posting writes two legs summing to zero
    (debit positive, credit negative). Per invoice, the gateway_cash legs sum to charged - refunded.
    Rows are never updated or deleted (enforced in save/delete, and by a trigger on PostgreSQL)."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"

    id = models.BigAutoField(primary_key=True)
    posting_id = models.UUIDField(db_index=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="ledger_entries")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    account = models.CharField(max_length=20, choices=LedgerAccount.choices)
    amount = models.BigIntegerField(help_text="debit positive, credit negative; minor units")
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.kind} {self.account} {self.amount} {self.currency}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("ledger entries are append-only")
