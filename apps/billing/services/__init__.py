"""Billing's use cases: invoices from session events, staff items, payment methods, checkout, void and refund.
Card pre-authorisations of ad-hoc sessions (holds) are in `holds`, re-exported here."""

import logging
import uuid
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.billing import calculation
from apps.billing.gateways import (
    DECLINED,
    NOT_FOUND,
    SUCCEEDED,
    GatewayError,
    GatewayResult,
    UnknownToken,
    get_gateway,
)
from apps.billing.models import (
    EDITABLE_STATUSES,
    SESSION_LINE_KINDS,
    STAFF_LINE_KINDS,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerAccount,
    LedgerEntry,
    LineKind,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from apps.billing.selectors import invoices_visible_to, ledger_cash_balance
from evcharge.actor import Actor
from evcharge.contracts import pricing
from evcharge.contracts.billing import (
    GatewayUnavailable,
    InvoiceGenerated,
    InvoiceUpdated,
    InvoiceVoided,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from evcharge.contracts.pricing import PromotionRedemption, PromotionRefused, TariffSnapshot
from evcharge.contracts.reservations import SessionCompleted, SessionStarted
from evcharge.errors import BusinessRuleViolation, Conflict, InvalidInput, NotFound
from evcharge.events import publish
from evcharge.events.codec import from_primitive, to_primitive
from evcharge.money import MAX_AMOUNT

logger = logging.getLogger("evcharge.billing")
STAFF_LINE_POSITION = 100  # staff items come after the session's lines


def invoice_tariff(invoice: Invoice) -> TariffSnapshot:
    return from_primitive(TariffSnapshot, invoice.tariff)


# --- invoices from session events -----------------------------------------------------------------


@transaction.atomic
def invoice_open_for_session(*, started: SessionStarted) -> Invoice:
    """session.started.v1: a draft invoice with a recorded provisional hold (no money moves)."""
    invoice = Invoice.objects.select_for_update().filter(session_id=started.session_id).first()
    if invoice is not None:  # session.completed.v1 arrived first, or a replay
        return invoice
    invoice = Invoice.objects.create(
        session_id=started.session_id,
        user_id=started.user_id,
        operator_id=started.operator_id,
        station_id=started.station_id,
        connector_id=started.connector_id,
        connector_type=started.connector_type,
        reservation_id=started.reservation_id,
        currency=started.tariff.currency,
        tariff=to_primitive(started.tariff),
        started_at=started.started_at,
        meter_start_wh=started.meter_start_wh,
        hold_amount=calculation.estimated_hold(
            tariff=started.tariff,
            estimated_wh=settings.BILLING_HOLD_ESTIMATE_WH,
            estimated_minutes=settings.BILLING_HOLD_ESTIMATE_MINUTES,
        ),
    )
    holds.hold_link_to_invoice(invoice=invoice)
    return invoice


@transaction.atomic
def invoice_complete_session(*, completed: SessionCompleted) -> Invoice:
    """session.completed.v1: records what finalize needs and finalizes the invoice (creating it when
    the completed event overtook the started one). The same facts always give the same lines."""
    invoice = Invoice.objects.select_for_update().filter(session_id=completed.session_id).first()
    if invoice is None:
        invoice = Invoice(
            session_id=completed.session_id,
            user_id=completed.user_id,
            operator_id=completed.operator_id,
            station_id=completed.station_id,
            connector_id=completed.connector_id,
            connector_type=completed.connector_type,
            reservation_id=completed.reservation_id,
            started_at=completed.started_at,
            meter_start_wh=completed.meter_start_wh,
        )
    if invoice.completed:
        return invoice
    invoice.completed = True
    invoice.currency = completed.tariff.currency
    invoice.tariff = to_primitive(completed.tariff)
    invoice.started_at = completed.started_at
    invoice.ended_at = completed.ended_at
    invoice.charging_ended_at = completed.charging_ended_at
    invoice.meter_start_wh = completed.meter_start_wh  # the charger's, learned only after the start at times
    invoice.meter_stop_wh = completed.meter_stop_wh
    invoice.energy_wh = completed.energy_wh
    invoice.save()
    if invoice.status == InvoiceStatus.DRAFT:
        _finalize(invoice)
    return invoice


@transaction.atomic
def invoice_finalize(*, session_id: UUID, by: Actor) -> Invoice:
    """Staff/machines: finalize the session's invoice if the completed event has not yet. Idempotent."""
    invoice = Invoice.objects.select_for_update().filter(session_id=session_id).first()
    if invoice is not None and not by.manages(invoice.operator_id):
        raise NotFound("No such invoice.")
    if invoice is None or not invoice.completed:
        raise Conflict(
            f"Billing has not received session.completed.v1 for session {session_id} yet, so it cannot "
            "compute the invoice; stop the session first, or retry shortly.",
            code="session_not_completed",
        )
    if invoice.status == InvoiceStatus.DRAFT:
        _finalize(invoice)
    return invoice


def _finalize(invoice: Invoice) -> None:
    facts = calculation.SessionFacts(
        energy_wh=invoice.energy_wh or 0,
        started_at=invoice.started_at,
        ended_at=invoice.ended_at,
        charging_ended_at=invoice.charging_ended_at,
    )
    invoice.lines.filter(kind__in=SESSION_LINE_KINDS).delete()
    for position, line in enumerate(calculation.session_lines(facts=facts, tariff=invoice_tariff(invoice))):
        InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            kind=line.kind,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_amount=line.unit_amount,
            amount=line.amount,
        )
    _recompute_totals(invoice)
    invoice.status = InvoiceStatus.OPEN
    invoice.finalized_at = timezone.now()
    invoice.save()
    publish(InvoiceGenerated(**_invoice_money(invoice), energy_wh=invoice.energy_wh or 0))
    _invoice_updated(invoice, reason="finalized")
    holds.hold_capture_begin(invoice=invoice)  # a session paid by a card pre-authorisation: its capture


def _invoice_money(invoice: Invoice) -> dict:
    """What every invoice event says of the invoice: whose, where, and its totals."""
    return {
        "invoice_id": invoice.id,
        "session_id": invoice.session_id,
        "user_id": invoice.user_id,
        "station_id": invoice.station_id,
        "operator_id": invoice.operator_id,
        "currency": invoice.currency,
        "subtotal_amount": invoice.subtotal_amount,
        "discount_amount": invoice.discount_amount,
        "total_amount": invoice.total_amount,
    }


def _invoice_updated(invoice: Invoice, *, reason: str) -> None:
    """invoice.updated.v1 with the invoice's whole money state and its next version, in the caller's
    transaction (which holds the invoice's row lock). Nothing before generation: reporting knows no draft."""
    if invoice.finalized_at is None:
        return
    invoice.version += 1
    invoice.save(update_fields=["version", "updated_at"])
    publish(
        InvoiceUpdated(
            **_invoice_money(invoice),
            status=invoice.status,
            paid_amount=ledger_cash_balance(invoice.id),
            version=invoice.version,
            reason=reason,
        )
    )


def _recompute_totals(invoice: Invoice) -> None:
    amounts = list(invoice.lines.values_list("kind", "amount"))
    subtotal = sum(amount for kind, amount in amounts if kind != LineKind.DISCOUNT)
    discount = -sum(amount for kind, amount in amounts if kind == LineKind.DISCOUNT)
    if subtotal < 0:
        raise BusinessRuleViolation("The invoice's items would add up to less than zero.", code="negative_total")
    if subtotal > MAX_AMOUNT:
        raise BusinessRuleViolation(f"The invoice's items would add up to more than {MAX_AMOUNT}.", code="too_large")
    invoice.subtotal_amount = subtotal
    invoice.discount_amount = min(discount, subtotal)
    invoice.total_amount = subtotal - invoice.discount_amount
    invoice.save(update_fields=["subtotal_amount", "discount_amount", "total_amount", "updated_at"])


# --- staff items ----------------------------------------------------------------------------------


def _invoice_for_staff(*, invoice_id: UUID, by: Actor) -> Invoice:
    invoice = invoices_visible_to(by).select_for_update().filter(id=invoice_id).first()
    if invoice is None:
        raise NotFound("No such invoice.")
    return invoice


def _ensure_editable(invoice: Invoice) -> None:
    if invoice.status not in EDITABLE_STATUSES:
        raise Conflict(f"The invoice is {invoice.status}; items can change only while it is draft or open.")
    if invoice.payments.filter(status=PaymentStatus.PENDING).exists():
        raise Conflict("A payment of this invoice is in progress; items cannot change now.")


@transaction.atomic
def invoice_line_add(
    *, invoice_id: UUID, kind: str, description: str, quantity: Decimal, unit_amount: int, by: Actor
) -> InvoiceLine:
    if kind not in STAFF_LINE_KINDS:
        raise InvalidInput(
            f"Staff may add items of kind {', '.join(STAFF_LINE_KINDS)}.",
            errors={"kind": [f"Choose one of {', '.join(STAFF_LINE_KINDS)}."]},
        )
    if quantity <= 0:
        raise InvalidInput("The quantity must be positive.", errors={"quantity": ["Must be greater than 0."]})
    if unit_amount < 0 and kind != LineKind.ADJUSTMENT:
        raise InvalidInput(
            "Only an adjustment may have a negative unit amount.",
            errors={"unit_amount": ["Must be 0 or more (use an adjustment for a credit)."]},
        )
    amount = calculation.line_amount(quantity=quantity, unit_amount=unit_amount)
    if abs(amount) > MAX_AMOUNT:
        raise InvalidInput(
            f"The item's amount would be beyond {MAX_AMOUNT}.", errors={"unit_amount": ["Too large for this quantity."]}
        )
    invoice = _invoice_for_staff(invoice_id=invoice_id, by=by)
    _ensure_editable(invoice)
    last_position = invoice.lines.aggregate(last=Max("position"))["last"] or 0
    line = InvoiceLine.objects.create(
        invoice=invoice,
        position=max(last_position + 1, STAFF_LINE_POSITION),
        kind=kind,
        description=description,
        quantity=quantity,
        unit="item",
        unit_amount=unit_amount,
        amount=amount,
        added_by=by.user_id,
    )
    _recompute_totals(invoice)
    _invoice_updated(invoice, reason="line_added")
    return line


@transaction.atomic
def invoice_line_remove(*, invoice_id: UUID, line_id: UUID, by: Actor) -> Invoice:
    invoice = _invoice_for_staff(invoice_id=invoice_id, by=by)
    line = invoice.lines.filter(id=line_id).first()
    if line is None:
        raise NotFound("No such item on this invoice.")
    _ensure_editable(invoice)
    if line.kind == LineKind.DISCOUNT:
        raise Conflict("A discount is removed by its promotion's release, not by hand.")
    line.delete()
    _recompute_totals(invoice)
    _invoice_updated(invoice, reason="line_removed")
    return invoice


# --- payment methods ------------------------------------------------------------------------------


@transaction.atomic
def payment_method_add(*, kind: str, token: str, by: Actor, label: str = "") -> PaymentMethod:
    """Adds a card; without a label it is named by its brand and last four digits ("Visa ending 4242")."""
    if kind != "card":
        raise InvalidInput("Only cards are supported.", errors={"kind": ['Must be "card".']})
    try:
        card = get_gateway().card_details(token=token)
    except UnknownToken as exc:
        raise InvalidInput(str(exc), errors={"token": [str(exc)]}) from None
    return PaymentMethod.objects.create(
        user_id=by.user_id,
        kind=kind,
        token=token,
        brand=card.brand,
        last4=card.last4,
        label=label.strip(),
    )


@transaction.atomic
def payment_method_remove(*, payment_method_id: UUID, by: Actor) -> None:
    method = PaymentMethod.objects.filter(id=payment_method_id, user_id=by.user_id, deleted_at__isnull=True).first()
    if method is None:
        raise NotFound("No such payment method.")
    method.deleted_at = timezone.now()  # kept (soft-deleted): past payments refer to it
    method.save(update_fields=["deleted_at"])


# --- checkout -------------------------------------------------------------------------------------


class PromotionNoLongerApplies(BusinessRuleViolation):
    """The promotion bound to the invoice no longer applies; it is released, a new checkout pays in full."""


def invoice_checkout(
    *,
    invoice_id: UUID,
    payment_method_id: UUID,
    promotion_code: str | None,
    by: Actor,
    request_key: str | None = None,
) -> tuple[Invoice, Payment]:
    """Applies the promotion (the code given, else the one bound to the invoice), records a pending payment
    (one transaction holding the invoice's row lock, committed before the gateway is called), charges the
    gateway outside any lock with the payment's id as idempotency key, then settles the payment (a second
    transaction). An unknown gateway outcome (a timeout) leaves the payment pending for reconciliation.
    Two checkouts of one invoice: the second waits for the lock and finds a payment in flight → 409, unless it
    is the same request (`request_key`, its Idempotency-Key) run again after a crash: then the gateway is
    asked what became of the first charge instead of charging again."""
    try:
        invoice, payment, token, resumed = _checkout_begin(
            invoice_id=invoice_id,
            payment_method_id=payment_method_id,
            promotion_code=promotion_code,
            by=by,
            request_key=request_key,
        )
    except PromotionNoLongerApplies:
        _release_invoice_promotions(invoice_id=invoice_id)
        raise
    if payment.status != PaymentStatus.PENDING:
        return invoice, payment
    if resumed:
        return _settle_from_gateway_status(payment=payment, token=token, charge_if_not_found=True)
    return _charge_and_settle(payment=payment, token=token)


def _charge_and_settle(*, payment: Payment, token: str) -> tuple[Invoice, Payment]:
    """The gateway call (no lock held), keyed by the payment's id, so asking again never charges twice."""
    try:
        result = get_gateway().charge(
            token=token,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.gateway_idempotency_key,
        )
    except GatewayError as exc:  # the gateway could not process it: nothing was captured
        logger.warning("gateway error", extra={"payment_id": str(payment.id), "error": str(exc)})
        result = GatewayResult(status="error", failure_reason=f"gateway_error: {exc}")
    except Exception as exc:  # a timeout or any unknown answer: the money may have moved
        logger.warning("gateway outcome unknown", extra={"payment_id": str(payment.id), "error": str(exc)})
        return Invoice.objects.get(id=payment.invoice_id), payment
    return _checkout_settle(invoice_id=payment.invoice_id, payment_id=payment.id, result=result)


def _settle_from_gateway_status(
    *, payment: Payment, token: str = "", charge_if_not_found: bool = False
) -> tuple[Invoice, Payment]:
    """Asks the gateway what became of the payment's charge and settles accordingly. Not found: the gateway
    never received it (nothing captured): the payment fails, or, for the same checkout run again, is charged
    now with the same idempotency key. Unknown or still processing: it stays pending."""
    try:
        result = get_gateway().payment_status(idempotency_key=payment.gateway_idempotency_key)
    except Exception as exc:
        logger.warning("gateway status unknown", extra={"payment_id": str(payment.id), "error": str(exc)})
        return Invoice.objects.get(id=payment.invoice_id), payment
    if result.status == NOT_FOUND:
        if charge_if_not_found:
            return _charge_and_settle(payment=payment, token=token)
        result = GatewayResult(status="failed", failure_reason="not_captured: the gateway never received the charge")
    elif result.status not in (SUCCEEDED, DECLINED):
        return Invoice.objects.get(id=payment.invoice_id), payment
    return _checkout_settle(invoice_id=payment.invoice_id, payment_id=payment.id, result=result)


def payments_reconcile_pending(*, older_than: timedelta, limit: int = 100) -> int:
    """Beat: settles payments left pending (a gateway timeout, or the process died between the charge and its
    settlement) through the gateway's status call; never charges. Returns how many were settled."""
    stale = Payment.objects.filter(status=PaymentStatus.PENDING, created_at__lt=timezone.now() - older_than)[:limit]
    settled = 0
    for payment in stale:
        _, payment = _settle_from_gateway_status(payment=payment)
        settled += payment.status != PaymentStatus.PENDING
    return settled


@transaction.atomic
def _checkout_begin(
    *, invoice_id: UUID, payment_method_id: UUID, promotion_code: str | None, by: Actor, request_key: str | None
) -> tuple[Invoice, Payment, str, bool]:
    invoice = Invoice.objects.select_for_update().filter(id=invoice_id, user_id=by.user_id).first()
    if invoice is None:
        raise NotFound("No such invoice.")
    earlier = (
        invoice.payments.select_related("payment_method").filter(checkout_key=request_key).first()
        if request_key
        else None
    )
    if earlier is not None:  # this very request, run again (its worker died): its payment, never a second one
        token = earlier.payment_method.token if earlier.payment_method else ""
        return invoice, earlier, token, earlier.status == PaymentStatus.PENDING
    if invoice.status == InvoiceStatus.DRAFT:
        raise Conflict("The session is still running: the invoice can be paid once it is finalized.")
    if invoice.status == InvoiceStatus.PAID:
        raise Conflict("This invoice is already paid.", code="already_paid")
    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict(f"This invoice is {invoice.status} and cannot be paid.")
    if invoice.payments.filter(status=PaymentStatus.PENDING).exists():
        raise Conflict("A payment of this invoice is already in progress.", code="payment_in_progress")
    method = PaymentMethod.objects.filter(id=payment_method_id, user_id=by.user_id, deleted_at__isnull=True).first()
    if method is None:
        raise InvalidInput("No such payment method.", errors={"payment_method_id": ["No such payment method."]})
    paid = ledger_cash_balance(invoice.id)  # a hold's capture may have paid part of it
    if paid and promotion_code:
        raise BusinessRuleViolation(
            "Part of this invoice is paid already; a promotion can no longer be applied.", code="promotion_refused"
        )

    redemption = None if paid else _apply_promotion(invoice=invoice, code=promotion_code)
    due = max(0, invoice.total_amount - paid)

    gateway = get_gateway()
    payment = Payment.objects.create(
        invoice=invoice,
        user_id=invoice.user_id,
        payment_method=method,
        amount=due,
        currency=invoice.currency,
        discount_amount=0 if paid else invoice.discount_amount,
        promotion_code=redemption.code if redemption else "",
        redemption_id=redemption.redemption_id if redemption else None,
        gateway=gateway.name if due else "",
        checkout_key=request_key or "",
    )
    if payment.amount == 0:  # nothing to charge (e.g. fully discounted): paid at once
        _payment_succeeded(invoice=invoice, payment=payment, reference="")
    return invoice, payment, method.token, False


def _apply_promotion(*, invoice: Invoice, code: str | None) -> PromotionRedemption | None:
    """The code given (applied now), else the redemption already bound to the invoice (re-checked): pricing
    computes the discount from the invoice's real total; billing checks it is for this invoice, its owner and
    currency, and caps it at the items' sum."""
    if not pricing.registered():
        if code:
            raise BusinessRuleViolation("Promotions are not available right now.", code="promotions_unavailable")
        return None
    try:
        if code:
            redemption = pricing.facade().apply_promotion(code=code, invoice_id=invoice.id)
        else:
            redemption = pricing.facade().redemption_for_invoice(invoice_id=invoice.id)
    except PromotionRefused as exc:
        error = BusinessRuleViolation if code else PromotionNoLongerApplies
        detail = (
            f"The promotion code was refused: {exc.reason}"
            if code
            else f"The promotion applied to this invoice no longer applies ({exc.reason}); it was removed. "
            "Check out again to pay the full amount, or give another code."
        )
        raise error(detail, code="promotion_refused", errors={"promotion_code": [exc.reason]}) from None
    if redemption is None:
        return None
    if (redemption.reference, redemption.user_id, redemption.currency) != (
        str(invoice.id),
        invoice.user_id,
        invoice.currency,
    ):
        raise BusinessRuleViolation("The promotion does not match this invoice.", code="promotion_refused")
    discount = max(0, min(redemption.discount_amount, invoice.subtotal_amount))
    invoice.lines.filter(kind=LineKind.DISCOUNT).delete()
    InvoiceLine.objects.create(
        invoice=invoice,
        position=(invoice.lines.aggregate(last=Max("position"))["last"] or 0) + 1,
        kind=LineKind.DISCOUNT,
        description=f"Promotion {redemption.code}",
        quantity=Decimal(1),
        unit="item",
        unit_amount=-discount,
        amount=-discount,
        promotion_code=redemption.code,
        promotion_id=redemption.promotion_id,
        redemption_id=redemption.redemption_id,
    )
    _recompute_totals(invoice)
    _invoice_updated(invoice, reason="discount")
    return redemption


@transaction.atomic
def _checkout_settle(*, invoice_id: UUID, payment_id: UUID, result: GatewayResult) -> tuple[Invoice, Payment]:
    invoice = Invoice.objects.select_for_update().get(id=invoice_id)  # the same lock order as checkout
    payment = Payment.objects.select_for_update().get(id=payment_id)
    if payment.status != PaymentStatus.PENDING:  # settled already (a reconciliation got there first)
        return invoice, payment
    if result.succeeded:
        _payment_succeeded(invoice=invoice, payment=payment, reference=result.reference)
    else:
        _payment_failed(invoice=invoice, payment=payment, reason=result.failure_reason or result.status)
    return invoice, payment


def _payment_succeeded(*, invoice: Invoice, payment: Payment, reference: str) -> None:
    now = timezone.now()
    payment.status = PaymentStatus.SUCCEEDED
    payment.gateway_reference = reference
    payment.completed_at = now
    payment.save()
    if payment.amount:
        _post_to_ledger(
            invoice=invoice,
            payment=payment,
            kind=LedgerEntry.Kind.CHARGE,
            amount=payment.amount,
            description=f"charge {reference}",
        )
    if ledger_cash_balance(invoice.id) >= invoice.total_amount:  # else the rest is still to be charged
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = now
        invoice.save(update_fields=["status", "paid_at", "updated_at"])
    publish(
        PaymentSucceeded(
            payment_id=payment.id,
            invoice_id=invoice.id,
            session_id=invoice.session_id,
            user_id=invoice.user_id,
            station_id=invoice.station_id,
            operator_id=invoice.operator_id,
            amount=payment.amount,
            discount_amount=payment.discount_amount,
            currency=payment.currency,
        )
    )
    _invoice_updated(invoice, reason="payment")


def _payment_failed(*, invoice: Invoice, payment: Payment, reason: str) -> None:
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = reason[:500]
    payment.completed_at = timezone.now()
    payment.save()
    if payment.redemption_id:
        _release_promotion(redemption_id=payment.redemption_id)
        invoice.lines.filter(kind=LineKind.DISCOUNT, redemption_id=payment.redemption_id).delete()
        _recompute_totals(invoice)
        _invoice_updated(invoice, reason="discount")
    publish(
        PaymentFailed(
            payment_id=payment.id,
            invoice_id=invoice.id,
            user_id=invoice.user_id,
            amount=payment.amount,
            currency=payment.currency,
            reason=payment.failure_reason,
        )
    )


def _release_invoice_promotions(*, invoice_id: UUID) -> None:
    """Gives back the uses of the promotions bound to an invoice that will not be paid (logged on failure)."""
    if not pricing.registered():
        return
    try:
        with transaction.atomic():
            pricing.facade().release_promotions_for_invoice(invoice_id=invoice_id)
    except Exception:
        logger.exception("could not release an invoice's promotions", extra={"invoice_id": str(invoice_id)})


def _release_promotion(*, redemption_id: UUID) -> None:
    """Gives the promotion's use back. A failure here must not leave the payment pending: it is logged."""
    try:
        with transaction.atomic():
            pricing.facade().release_promotion(redemption_id=redemption_id)
    except Exception:
        logger.exception("could not release a promotion redemption", extra={"redemption_id": str(redemption_id)})


def _post_to_ledger(*, invoice: Invoice, payment: Payment, kind: str, amount: int, description: str) -> None:
    """One balanced posting: a charge debits gateway cash and credits sales; a refund the reverse."""
    posting_id = uuid.uuid4()
    sign = 1 if kind == LedgerEntry.Kind.CHARGE else -1
    legs = [(LedgerAccount.GATEWAY_CASH, sign * amount), (LedgerAccount.SALES, -sign * amount)]
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            posting_id=posting_id,
            invoice=invoice,
            payment=payment,
            kind=kind,
            account=account,
            amount=leg_amount,
            currency=payment.currency,
            description=description[:300],
        )
        for account, leg_amount in legs
    )


# --- void and refund ------------------------------------------------------------------------------


@transaction.atomic
def invoice_set_status(*, invoice_id: UUID, status: str, reason: str, by: Actor) -> Invoice:
    invoice = _invoice_for_staff(invoice_id=invoice_id, by=by)
    if status == InvoiceStatus.VOID:
        _void(invoice=invoice, reason=reason)
    elif status == InvoiceStatus.REFUNDED:
        _refund(invoice=invoice, reason=reason)
    else:
        raise InvalidInput("Staff may set void or refunded.", errors={"status": ['Choose "void" or "refunded".']})
    return invoice


def _void(*, invoice: Invoice, reason: str) -> None:
    if invoice.status == InvoiceStatus.VOID:
        return
    if invoice.status not in EDITABLE_STATUSES:
        raise Conflict(f"A {invoice.status} invoice cannot be voided; refund a paid one instead.")
    if invoice.payments.filter(status=PaymentStatus.PENDING).exists():
        raise Conflict("A payment of this invoice is in progress; it cannot be voided now.")
    if ledger_cash_balance(invoice.id):
        raise Conflict("Part of this invoice is paid; refund it instead.", code="partly_paid")
    invoice.status = InvoiceStatus.VOID
    invoice.status_reason = reason
    invoice.closed_at = timezone.now()
    invoice.save()
    if pricing.registered():  # the promotion bound to it gives its use back
        pricing.facade().release_promotions_for_invoice(invoice_id=invoice.id)
    publish(InvoiceVoided(invoice_id=invoice.id, session_id=invoice.session_id, user_id=invoice.user_id, reason=reason))
    _invoice_updated(invoice, reason="void")
    holds.hold_release_for_invoice(invoice=invoice, reason=reason)  # its card pre-authorisation, if any


def _refund(*, invoice: Invoice, reason: str) -> None:
    """Refunds every captured payment in full through the gateway (one, or a hold's capture and the charge of
    the rest of a total above it; a partly paid invoice too). The gateway is called while the invoice's row is
    locked: refunds are rare staff actions, and the lock makes a double refund impossible; each refund is keyed
    to its payment, so a retry after a failure half-way never refunds twice."""
    if invoice.status == InvoiceStatus.REFUNDED:
        return
    payments = list(
        Payment.objects.select_for_update()
        .filter(invoice=invoice, status=PaymentStatus.SUCCEEDED)
        .order_by("created_at")
    )
    partly_paid = invoice.status == InvoiceStatus.OPEN and any(payment.amount for payment in payments)
    if invoice.status != InvoiceStatus.PAID and not partly_paid:
        raise Conflict(f"Only a paid invoice can be refunded; this one is {invoice.status}.")
    if partly_paid and invoice.payments.filter(status=PaymentStatus.PENDING).exists():
        raise Conflict("A payment of this invoice is in progress; it cannot be refunded now.")
    now = timezone.now()
    for payment in payments:
        _refund_payment(invoice=invoice, payment=payment, reason=reason, at=now)
    invoice.status = InvoiceStatus.REFUNDED
    invoice.status_reason = reason
    invoice.closed_at = now
    invoice.save()
    _invoice_updated(invoice, reason="refund")


def _refund_payment(*, invoice: Invoice, payment: Payment, reason: str, at) -> None:
    if payment.amount:
        try:
            result = get_gateway().refund(
                charge_reference=payment.gateway_reference,
                amount=payment.amount,
                currency=payment.currency,
                idempotency_key=f"refund:{payment.id}",
            )
        except GatewayError as exc:
            raise GatewayUnavailable(f"The payment gateway could not refund: {exc}. Nothing changed; retry.") from None
        except Exception as exc:  # a timeout: the refund may or may not have happened; a retry never refunds twice
            logger.warning("gateway refund outcome unknown", extra={"payment_id": str(payment.id), "error": str(exc)})
            raise GatewayUnavailable(
                "The payment gateway did not answer the refund in time. Retry: the refund is keyed to this payment, "
                "so it never happens twice."
            ) from None
        if not result.succeeded:
            raise Conflict(f"The payment gateway refused the refund: {result.failure_reason or result.status}.")
        payment.refund_reference = result.reference
        _post_to_ledger(
            invoice=invoice,
            payment=payment,
            kind=LedgerEntry.Kind.REFUND,
            amount=payment.amount,
            description=f"refund {result.reference}: {reason}",
        )
    payment.status = PaymentStatus.REFUNDED
    payment.refunded_at = at
    payment.save()
    publish(
        PaymentRefunded(
            payment_id=payment.id,
            invoice_id=invoice.id,
            user_id=invoice.user_id,
            station_id=invoice.station_id,
            operator_id=invoice.operator_id,
            amount=payment.amount,
            currency=payment.currency,
            reason=reason,
        )
    )


from apps.billing.services import holds  # noqa: E402  (uses the functions above)
from apps.billing.services.holds import (  # noqa: E402, F401  (re-exported: the use cases of holds)
    HoldInTransaction,
    adhoc_hold_amount,
    hold_attach,
    hold_authorize,
    hold_settle,
    hold_unused_after,
    hold_void,
    holds_sweep,
)
