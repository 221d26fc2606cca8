from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.billing.models import (
    STAFF_LINE_KINDS,
    HoldStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Payment,
    PaymentHold,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
)
from evcharge.api.fields import AmountField
from evcharge.money import MAX_AMOUNT

# --- output ---


class LineOut(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["id", "kind", "description", "quantity", "unit", "unit_amount", "amount"]


class DiscountOut(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()

    class Meta:
        model = InvoiceLine
        fields = ["id", "promotion_code", "promotion_id", "redemption_id", "amount"]

    def get_amount(self, line) -> int:
        return -line.amount


class PaymentOut(serializers.ModelSerializer):
    invoice_id = serializers.UUIDField(read_only=True)
    payment_method_id = serializers.UUIDField(read_only=True, allow_null=True)
    failure_reason = serializers.SerializerMethodField()
    status = serializers.ChoiceField(
        choices=PaymentStatus.choices,
        read_only=True,
        help_text="pending: sent to the gateway, its answer not known yet (settled by reconciliation); succeeded: "
        "the money was taken; failed: declined or a gateway error, nothing taken; refunded: taken, then given back.",
    )
    kind = serializers.ChoiceField(
        choices=PaymentKind.choices,
        read_only=True,
        help_text="charge: a checkout, or the rest of a total above a hold; hold_capture: the capture of the "
        "session's card pre-authorisation (see the invoice's `hold`).",
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice_id",
            "status",
            "kind",
            "amount",
            "discount_amount",
            "currency",
            "promotion_code",
            "payment_method_id",
            "failure_reason",
            "created_at",
            "completed_at",
            "refunded_at",
        ]

    def get_failure_reason(self, payment) -> str | None:
        return payment.failure_reason or None


class HoldOut(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=HoldStatus.choices,
        read_only=True,
        help_text="pending (the gateway has not answered), authorized (held), declined, failed, capturing, "
        "captured (the whole hold), partially_captured (the total captured, the rest released), voiding, voided "
        "(released in full).",
    )
    card_label = serializers.CharField(read_only=True, help_text='"Visa ending 4242"; no other card data is kept')
    released_amount = serializers.IntegerField(read_only=True, help_text="what went back to the card")
    invoice_id = serializers.UUIDField(read_only=True, allow_null=True)
    payment_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="the payment of its capture")
    failure_reason = serializers.SerializerMethodField()

    class Meta:
        model = PaymentHold
        fields = [
            "id",
            "status",
            "amount",
            "captured_amount",
            "released_amount",
            "currency",
            "card_label",
            "session_id",
            "invoice_id",
            "payment_id",
            "promotion_code",
            "promotion_refusal",
            "failure_reason",
            "void_reason",
            "created_at",
            "authorized_at",
            "captured_at",
            "voided_at",
        ]

    def get_failure_reason(self, hold) -> str | None:
        return hold.failure_reason or None


class InvoiceOut(serializers.ModelSerializer):
    lines = LineOut(many=True, read_only=True)
    discounts = serializers.SerializerMethodField()
    payments = PaymentOut(many=True, read_only=True)
    hold = serializers.SerializerMethodField(
        help_text="The card pre-authorisation paying for the session (an ad-hoc start), or null."
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "session_id",
            "user_id",
            "operator_id",
            "station_id",
            "connector_id",
            "status",
            "currency",
            "lines",
            "discounts",
            "subtotal_amount",
            "discount_amount",
            "total_amount",
            "hold_amount",
            "energy_wh",
            "started_at",
            "ended_at",
            "finalized_at",
            "paid_at",
            "status_reason",
            "created_at",
            "payments",
            "hold",
        ]

    @extend_schema_field(DiscountOut(many=True))
    def get_discounts(self, invoice) -> list[dict]:
        discounts = [line for line in invoice.lines.all() if line.kind == LineKind.DISCOUNT]
        return DiscountOut(discounts, many=True).data

    @extend_schema_field(HoldOut(allow_null=True))
    def get_hold(self, invoice) -> dict | None:
        try:
            hold = invoice.payment_hold
        except PaymentHold.DoesNotExist:
            return None
        return HoldOut(hold).data


class PaymentMethodOut(serializers.ModelSerializer):
    label = serializers.CharField(
        source="shown_label", read_only=True, help_text='The driver\'s name for the card, else "Visa ending 4242".'
    )

    class Meta:
        model = PaymentMethod
        fields = ["id", "label", "kind", "brand", "last4", "created_at"]


class PaymentBrief(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    failure_reason = serializers.CharField(allow_null=True)


class CheckoutOut(serializers.Serializer):
    invoice = InvoiceOut()
    payment = PaymentBrief()


# --- input ---

InvoiceFilter = type(
    "InvoiceFilter",
    (serializers.Serializer,),
    {
        "status": serializers.ChoiceField(choices=InvoiceStatus.choices, required=False),
        "from": serializers.DateTimeField(required=False, help_text="sessions started at or after"),
        "to": serializers.DateTimeField(required=False, help_text="sessions started before"),
    },
)


class HoldFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=HoldStatus.choices, required=False)


class LineIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in STAFF_LINE_KINDS])
    description = serializers.CharField(max_length=300)
    quantity = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal("0.001"), max_value=Decimal(1_000_000), default=1
    )
    unit_amount = AmountField(min_value=-MAX_AMOUNT, help_text="minor units; negative only for an adjustment")


class PaymentMethodIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["card"], default="card")
    token = serializers.CharField(max_length=255, help_text="the gateway's token (test: tok_visa, ...)")
    label = serializers.CharField(
        max_length=80, required=False, default="", allow_blank=True, help_text='Default: "Visa ending 4242".'
    )


class CheckoutIn(serializers.Serializer):
    payment_method_id = serializers.UUIDField()
    promotion_code = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)


class InvoiceStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=[InvoiceStatus.VOID.value, InvoiceStatus.REFUNDED.value])
    reason = serializers.CharField(max_length=500)
