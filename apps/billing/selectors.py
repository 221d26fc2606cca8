from datetime import datetime
from uuid import UUID

from django.db.models import Prefetch, QuerySet, Sum

from apps.billing.models import (
    HoldStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerAccount,
    LedgerEntry,
    LineKind,
    Payment,
    PaymentHold,
    PaymentMethod,
    PaymentStatus,
)
from evcharge.actor import Actor
from evcharge.contracts import billing as contract
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
    return invoices.select_related("payment_hold").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "created_at")),
        Prefetch("payments", queryset=Payment.objects.order_by("created_at")),
    )


def hold_of(invoice: Invoice) -> PaymentHold | None:
    try:
        return invoice.payment_hold
    except PaymentHold.DoesNotExist:
        return None


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


# --- card pre-authorisations ------------------------------------------------------------------------


def holds_visible_to(by: Actor) -> QuerySet[PaymentHold]:
    """A driver sees the holds paying for their sessions, an operator those of their stations (known once the
    session started), an admin all."""
    holds = PaymentHold.objects.all()
    if by.is_admin:
        return holds
    if by.is_operator:
        return holds.filter(operator_id=by.operator_id) if by.operator_id else holds.none()
    return holds.filter(user_id=by.user_id) if by.user_id else holds.none()


def hold_list(*, by: Actor, status: str | None = None) -> QuerySet[PaymentHold]:
    holds = holds_visible_to(by)
    return (holds.filter(status=status) if status else holds).order_by("-created_at")


def hold_get(*, hold_id: UUID, by: Actor) -> PaymentHold:
    hold = holds_visible_to(by).filter(id=hold_id).first()
    if hold is None:
        raise NotFound("No such payment hold.")
    return hold


def hold_view(hold: PaymentHold) -> contract.PaymentHold:
    return contract.PaymentHold(
        hold_id=hold.id,
        status=hold.status,
        amount=hold.amount,
        captured_amount=hold.captured_amount,
        currency=hold.currency,
        card_label=hold.card_label,
        session_id=hold.session_id,
        promotion_code=hold.promotion_code,
    )


def _receipt_payment_status(invoice: Invoice, hold: PaymentHold | None) -> str:
    """The one word a receipt shows of the payment: the hold's state while it pays, else the payments'."""
    if invoice.status == InvoiceStatus.REFUNDED:
        return "refunded"
    if hold is not None and hold.status != HoldStatus.FAILED:
        return {HoldStatus.CAPTURING: "pending", HoldStatus.VOIDING: "voided"}.get(hold.status, hold.status)
    if invoice.status == InvoiceStatus.PAID:
        return "succeeded"
    latest = invoice.payments.order_by("-created_at").first()
    return latest.status if latest is not None else "none"


def session_receipt(session_id: UUID) -> contract.SessionReceipt | None:
    invoice = with_details(Invoice.objects.filter(session_id=session_id)).first()
    if invoice is None:
        return None
    hold = hold_of(invoice) or PaymentHold.objects.filter(session_id=session_id).first()
    lines = list(invoice.lines.all())
    return contract.SessionReceipt(
        invoice_id=invoice.id,
        session_id=invoice.session_id,
        user_id=invoice.user_id,
        status=invoice.status,
        currency=invoice.currency,
        lines=tuple(
            contract.ReceiptLine(
                kind=line.kind,
                description=line.description,
                quantity=str(line.quantity),
                unit=line.unit,
                unit_amount=line.unit_amount,
                amount=line.amount,
            )
            for line in lines
        ),
        subtotal_amount=invoice.subtotal_amount,
        discount_amount=invoice.discount_amount,
        total_amount=invoice.total_amount,
        paid_amount=ledger_cash_balance(invoice.id),
        payment_status=_receipt_payment_status(invoice, hold),
        promotion_code=next((line.promotion_code for line in lines if line.kind == LineKind.DISCOUNT), ""),
        energy_wh=invoice.energy_wh or 0,
        started_at=invoice.started_at,
        ended_at=invoice.ended_at,
        hold=hold_view(hold) if hold is not None else None,
    )
