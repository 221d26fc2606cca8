"""Staff's view of billing. Amounts and statuses change only through the services (API): the admin
shows invoices with their lines and payments, payments, card pre-authorisations (holds) and the ledger
read-only. An operator's staff see only their stations' billing (a hold once its session started: before,
it belongs to no operator yet); drivers' payment methods are for platform admins only, and a card's gateway
token is never shown."""

from django.contrib import admin

from apps.billing.models import Invoice, InvoiceLine, LedgerEntry, Payment, PaymentHold, PaymentMethod
from evcharge.admin_scoping import OperatorScopedAdmin, OperatorScopedInlineMixin


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceLineInline(_ReadOnly, OperatorScopedInlineMixin, admin.TabularInline):
    model = InvoiceLine
    fields = ["kind", "description", "quantity", "unit", "unit_amount", "amount", "promotion_code", "added_by"]
    readonly_fields = fields
    extra = 0


class PaymentInline(_ReadOnly, OperatorScopedInlineMixin, admin.TabularInline):
    model = Payment
    fields = ["id", "kind", "status", "amount", "currency", "promotion_code", "failure_reason", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


class PaymentHoldInline(_ReadOnly, OperatorScopedInlineMixin, admin.StackedInline):
    model = PaymentHold
    fk_name = "invoice"
    fields = ["id", "status", "amount", "captured_amount", "currency", "card", "failure_reason", "void_reason"]
    readonly_fields = fields
    extra = 0
    show_change_link = True

    @admin.display(description="card")
    def card(self, hold: PaymentHold) -> str:
        return hold.card_label


@admin.register(Invoice)
class InvoiceAdmin(_ReadOnly, OperatorScopedAdmin):
    operator_scope = "operator_id"
    list_display = ["id", "status", "total_amount", "currency", "user_id", "operator_id", "started_at"]
    list_filter = ["status", "currency", "completed", ("started_at", admin.DateFieldListFilter)]
    search_fields = ["=id", "=session_id", "=user_id", "=station_id", "=operator_id"]
    date_hierarchy = "started_at"
    inlines = [InvoiceLineInline, PaymentInline, PaymentHoldInline]


@admin.register(Payment)
class PaymentAdmin(_ReadOnly, OperatorScopedAdmin):
    operator_scope = "invoice__operator_id"
    list_display = ["id", "kind", "status", "amount", "currency", "invoice", "gateway", "created_at"]
    list_filter = ["status", "kind", "gateway", "currency"]
    search_fields = ["=id", "=invoice__id", "=user_id", "gateway_reference", "promotion_code"]
    exclude = ["payment_method"]
    readonly_fields = ["card"]

    @admin.display(description="payment method")
    def card(self, payment: Payment) -> str:
        return str(payment.payment_method) if payment.payment_method_id else "-"


@admin.register(PaymentHold)
class PaymentHoldAdmin(_ReadOnly, OperatorScopedAdmin):
    """Card pre-authorisations of ad-hoc sessions: what is held, captured and released. Read-only (money moves
    through the gateway, not by hand); the card's gateway token is not shown."""

    operator_scope = "operator_id"
    list_display = [
        "id",
        "status",
        "amount",
        "captured_amount",
        "released",
        "currency",
        "card",
        "session_id",
        "invoice",
        "created_at",
    ]
    list_filter = ["status", "currency", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=id", "=session_id", "=user_id", "=invoice__id", "authorization_reference", "card_last4"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "status",
        "amount",
        "captured_amount",
        "released",
        "currency",
        "card",
        "gateway",
        "authorization_reference",
        "session_id",
        "user_id",
        "operator_id",
        "invoice",
        "payment",
        "promotion_code",
        "promotion_refusal",
        "failure_reason",
        "void_reason",
        "created_at",
        "authorized_at",
        "attached_at",
        "captured_at",
        "voided_at",
    ]
    readonly_fields = fields

    @admin.display(description="card")
    def card(self, hold: PaymentHold) -> str:
        return hold.card_label

    @admin.display(description="released")
    def released(self, hold: PaymentHold) -> int:
        return hold.released_amount


@admin.register(LedgerEntry)
class LedgerEntryAdmin(_ReadOnly, OperatorScopedAdmin):
    operator_scope = "invoice__operator_id"
    list_display = ["id", "created_at", "kind", "account", "amount", "currency", "invoice", "payment"]
    list_filter = ["kind", "account", "currency"]
    search_fields = ["=posting_id", "=invoice__id", "=payment__id"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(_ReadOnly, OperatorScopedAdmin):
    """Drivers' cards: platform admins only (operator_scope None), and without their gateway tokens."""

    list_display = ["id", "user_id", "label", "kind", "brand", "last4", "created_at", "deleted_at"]
    list_filter = ["kind", "brand", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["=user_id", "last4"]
    fields = ["id", "user_id", "label", "kind", "brand", "last4", "created_at", "deleted_at"]
    readonly_fields = fields
