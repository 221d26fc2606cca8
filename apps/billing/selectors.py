from datetime import datetime
from uuid import UUID

from django.db.models import Prefetch, QuerySet, Sum

from apps.billing.models import (
    Invoice,
    InvoiceLine,
    LedgerAccount,
    LedgerEntry,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from evcharge.actor import Actor
from evcharge.contracts.billing import InvoiceSummary, UnknownInvoice
from evcharge.errors import NotFound


def invoices_visible_to(by: Actor) -> QuerySet[Invoice]:
    """A driver sees their own invoices, an operator those of their stations, an admin all."""
    invoices = Invoice.objects.all()
    if by.is_admin:
        return invoices
    if by.is_operator:
        return invoices.filter(operator_id=by.operator_id) if by.operator_id else invoices.none()
    return invoices.filter(user_id=by.user_id)


def with_details(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return invoices.prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "created_at")),
        Prefetch("payments", queryset=Payment.objects.order_by("created_at")),
    )


def invoice_list(
    *, by: Actor, status: str | None = None, from_: datetime | None = None, to: datetime | None = None
) -> QuerySet[Invoice]:
    """The order history, newest session first; `from`/`to` bound the session's start."""
    invoices = invoices_visible_to(by)
    if status:
        invoices = invoices.filter(status=status)
    if from_:
        invoices = invoices.filter(started_at__gte=from_)
    if to:
        invoices = invoices.filter(started_at__lt=to)
    return with_details(invoices.order_by("-started_at", "-created_at"))


def invoice_get(*, invoice_id: UUID, by: Actor) -> Invoice:
    invoice = with_details(invoices_visible_to(by)).filter(id=invoice_id).first()
    if invoice is None:
        raise NotFound("No such invoice.")
    return invoice


def payment_get(*, payment_id: UUID, by: Actor) -> Payment:
    payments = Payment.objects.select_related("invoice")
    if by.is_operator:
        payments = payments.filter(invoice__operator_id=by.operator_id) if by.operator_id else payments.none()
    elif not by.is_admin:
        payments = payments.filter(user_id=by.user_id)
    payment = payments.filter(id=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    return payment


def payment_methods_of(user_id: UUID) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(user_id=user_id, deleted_at__isnull=True).order_by("-created_at")


def ledger_cash_balance(invoice_id: UUID) -> int:
    """Charged minus refunded for the invoice, as the ledger says."""
    total = LedgerEntry.objects.filter(invoice_id=invoice_id, account=LedgerAccount.GATEWAY_CASH).aggregate(
        total=Sum("amount")
    )["total"]
    return total or 0


def invoice_summary(invoice_id: UUID) -> InvoiceSummary:
    """For pricing's discounts: the invoice's owner, state and real money. A promotion's discount is computed
    from the items' sum (`total_amount` = the subtotal: the items before any promotion's discount)."""
    invoice = Invoice.objects.filter(id=invoice_id).first()
    if invoice is None:
        raise UnknownInvoice()
    return InvoiceSummary(
        invoice_id=invoice.id,
        user_id=invoice.user_id,
        operator_id=invoice.operator_id,
        station_id=invoice.station_id,
        status=invoice.status,
        currency=invoice.currency,
        subtotal_amount=invoice.subtotal_amount,
        total_amount=invoice.subtotal_amount,
        payment_in_progress=invoice.payments.filter(status=PaymentStatus.PENDING).exists(),
    )
