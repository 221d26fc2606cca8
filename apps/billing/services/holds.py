"""Card pre-authorisations (holds) for ad-hoc sessions: authorize, attach to a session, capture the invoice's
total when it is generated (the rest released; a total above the hold charged to the same card), void.

The house pattern of checkout holds here too: a state is committed before the gateway is called, the gateway is
called outside any transaction and lock, keyed so that asking again never moves money twice, and its answer is
settled in a second short transaction. Capture and void are decided in the transaction that generates the
invoice (or voids it, or releases the hold) and run after its commit by a Celery task (eager in the embedded
mode); a worker claims the hold with a lease, so two never talk to the gateway about one hold at once, and the
sweep picks up whatever a crash or a timeout left half-way.
"""

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.billing import services as core
from apps.billing.gateways import GatewayError, GatewayResult, UnknownToken, get_gateway
from apps.billing.models import (
    HoldStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentHold,
    PaymentKind,
    PaymentStatus,
)
from apps.billing.selectors import ledger_cash_balance
from evcharge.contracts import adminconfig
from evcharge.contracts.billing import GatewayUnavailable, PaymentDeclined
from evcharge.errors import Conflict, DomainError, InvalidInput, NotFound
from evcharge.money import MAX_AMOUNT, currencies

logger = logging.getLogger("evcharge.billing")

HOLD_AMOUNT_KEY = "billing.adhoc_hold_amount"
DEFAULT_HOLD_AMOUNT = 5000
SETTLE_HOLD_TASK = "billing.settle_payment_hold"
LEASE = timedelta(minutes=2)  # longer than any gateway call may take; a crashed worker's hold is taken up after


class HoldInTransaction(RuntimeError):
    """hold_authorize() was called inside a transaction: the hold's record would share the caller's fate while
    the money it stands for is held at the gateway whatever happens to that transaction."""


def adhoc_hold_amount() -> int:
    """The amount to hold (minor units), from admin config; a value that is not a positive amount is ignored."""
    value = DEFAULT_HOLD_AMOUNT
    if adminconfig.registered():
        value = adminconfig.facade().get_value(HOLD_AMOUNT_KEY, DEFAULT_HOLD_AMOUNT)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        logger.warning(
            "config %s is not a positive amount (%r); holding %s", HOLD_AMOUNT_KEY, value, DEFAULT_HOLD_AMOUNT
        )
        return DEFAULT_HOLD_AMOUNT
    return value


# --- authorize ------------------------------------------------------------------------------------


def hold_authorize(*, card_token: str, currency: str, idempotency_key: str) -> PaymentHold:
    """Holds billing's configured amount on the card. The hold's row is committed (`pending`) before the gateway
    is called and its answer settled after; the same idempotency key gives the same hold (a hold whose gateway
    call failed is tried again). Raises PaymentDeclined, InvalidInput (unknown token, bad currency or key),
    Conflict (the key was used with another card) or GatewayUnavailable (failed, or no answer yet)."""
    if transaction.get_connection().in_atomic_block:
        raise HoldInTransaction("hold_authorize() must run outside transaction.atomic(): it calls the gateway")
    key = (idempotency_key or "").strip()
    if not key or len(key) > 255:
        raise InvalidInput(
            "An idempotency key of 1 to 255 characters is required.", errors={"idempotency_key": ["Required."]}
        )
    if currency not in currencies():
        raise InvalidInput(f"Unknown currency {currency!r}.", errors={"currency": ["Not an ISO 4217 currency in use."]})
    hold = PaymentHold.objects.filter(idempotency_key=key).first()
    if hold is None:
        gateway = get_gateway()
        try:
            card = gateway.card_details(token=card_token)
        except UnknownToken as exc:
            raise InvalidInput(str(exc), errors={"card_token": [str(exc)]}) from None
        try:
            hold = PaymentHold.objects.create(
                idempotency_key=key,
                gateway=gateway.name,
                card_token=card_token,
                card_brand=card.brand,
                card_last4=card.last4,
                amount=adhoc_hold_amount(),
                currency=currency,
            )
        except IntegrityError:  # the same key, at the same moment
            hold = PaymentHold.objects.get(idempotency_key=key)
    if (hold.card_token, hold.currency) != (card_token, currency):
        raise Conflict("This idempotency key was used for another card or currency.", code="idempotency_key_reused")
    if _may_authorize_again(hold):
        hold = _authorize_at_gateway(hold)
    if hold.status == HoldStatus.DECLINED:
        raise PaymentDeclined(hold.failure_reason or "declined")
    if hold.status == HoldStatus.FAILED and not hold.authorization_reference:
        raise GatewayUnavailable(f"The payment gateway failed ({hold.failure_reason}); nothing is held. Retry.")
    if hold.status == HoldStatus.PENDING:
        raise GatewayUnavailable(
            "The payment gateway did not answer in time. Retry with the same idempotency key: the card is never "
            "held twice, and a hold nobody uses is released."
        )
    return hold


def _may_authorize_again(hold: PaymentHold) -> bool:
    """Pending (no answer yet: ask again, same gateway key) or failed before anything was held (a new attempt)."""
    if hold.status == HoldStatus.PENDING:
        return True
    return hold.status == HoldStatus.FAILED and not hold.authorization_reference and hold.session_id is None


def _gateway_key(hold: PaymentHold) -> str:
    return f"hold:{hold.id}:{hold.authorize_attempts}"


def _authorize_at_gateway(hold: PaymentHold) -> PaymentHold:
    if hold.status == HoldStatus.FAILED:  # nothing was held: a fresh attempt under a fresh gateway key
        PaymentHold.objects.filter(id=hold.id, status=HoldStatus.FAILED).update(
            status=HoldStatus.PENDING, authorize_attempts=hold.authorize_attempts + 1, updated_at=timezone.now()
        )
        hold.refresh_from_db()
        if hold.status != HoldStatus.PENDING:
            return hold
    try:
        result = get_gateway().authorize(
            token=hold.card_token, amount=hold.amount, currency=hold.currency, idempotency_key=_gateway_key(hold)
        )
    except GatewayError as exc:  # nothing held
        logger.warning("gateway error on authorize", extra={"hold_id": str(hold.id), "error": str(exc)})
        changes = {"status": HoldStatus.FAILED, "failure_reason": f"gateway_error: {exc}"[:500]}
    except Exception as exc:  # a timeout: the amount may be held; the sweep asks again with the same key
        logger.warning("gateway authorize outcome unknown", extra={"hold_id": str(hold.id), "error": str(exc)})
        return hold
    else:
        if result.succeeded:
            changes = {
                "status": HoldStatus.AUTHORIZED,
                "authorization_reference": result.reference,
                "authorized_at": timezone.now(),
                "failure_reason": "",
            }
        else:
            changes = {"status": HoldStatus.DECLINED, "failure_reason": (result.failure_reason or result.status)[:500]}
    PaymentHold.objects.filter(id=hold.id, status=HoldStatus.PENDING).update(**changes, updated_at=timezone.now())
    hold.refresh_from_db()
    return hold


# --- attach, and the capture decided when the invoice is generated ---------------------------------


@transaction.atomic
def hold_attach(*, hold_id: UUID, session_id: UUID, user_id: UUID, promotion_code: str = "") -> PaymentHold:
    """Ties an authorized hold to the session it pays for (in the caller's transaction)."""
    code = (promotion_code or "").strip()
    if len(code) > 64:
        raise InvalidInput("A promotion code has at most 64 characters.", errors={"promotion_code": ["Too long."]})
    invoice = Invoice.objects.select_for_update().filter(session_id=session_id).first()  # the lock order: invoice
    hold = PaymentHold.objects.select_for_update().filter(id=hold_id).first()  # then hold
    if hold is None:
        raise NotFound("No such payment hold.", code="unknown_hold")
    if hold.session_id == session_id:
        return hold
    if hold.session_id is not None:
        raise Conflict("This payment hold already pays for another session.", code="hold_in_use")
    if hold.status != HoldStatus.AUTHORIZED:
        raise Conflict(
            f"This payment hold is {hold.status}; only an authorized hold can pay.", code="hold_not_authorized"
        )
    if PaymentHold.objects.filter(session_id=session_id).exists():
        raise Conflict("This session already has a payment hold.", code="session_has_hold")
    if invoice is not None and invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN):
        raise Conflict(f"This session's invoice is {invoice.status} already.", code="session_already_billed")
    hold.session_id = session_id
    hold.user_id = user_id
    hold.promotion_code = code
    hold.attached_at = timezone.now()
    hold.save()
    if invoice is not None:  # billing heard of the session before the hold was attached
        if invoice.status == InvoiceStatus.DRAFT:
            _link(hold=hold, invoice=invoice)
            hold.save()
        else:
            hold_capture_begin(invoice=invoice)
            hold.refresh_from_db()
    return hold


def hold_link_to_invoice(*, invoice: Invoice) -> None:
    """session.started.v1 (in the caller's transaction holding the invoice's lock): the session's hold, if any,
    learns its invoice and operator; the invoice shows the real amount held."""
    hold = PaymentHold.objects.select_for_update().filter(session_id=invoice.session_id).first()
    if hold is not None and hold.invoice_id is None:
        _link(hold=hold, invoice=invoice)
        hold.save()


def _link(*, hold: PaymentHold, invoice: Invoice) -> None:
    hold.invoice = invoice
    hold.operator_id = invoice.operator_id
    if hold.status == HoldStatus.AUTHORIZED and invoice.hold_amount != hold.amount:
        invoice.hold_amount = hold.amount
        invoice.save(update_fields=["hold_amount", "updated_at"])


def hold_capture_begin(*, invoice: Invoice) -> PaymentHold | None:
    """In the transaction that generated the invoice (holding its lock): with an authorized hold attached, the
    hold's promotion code is applied if still valid (a refused code is skipped and noted), a pending capture of
    the total (at most the hold) is recorded and the capture runs after commit. A total of zero pays the invoice
    at once and releases the whole hold."""
    hold = PaymentHold.objects.select_for_update().filter(session_id=invoice.session_id).first()
    if hold is None:
        return None
    if hold.invoice_id is None:
        _link(hold=hold, invoice=invoice)
    if hold.status != HoldStatus.AUTHORIZED or invoice.status != InvoiceStatus.OPEN:
        if hold.status in (HoldStatus.VOIDED, HoldStatus.VOIDING, HoldStatus.DECLINED, HoldStatus.FAILED):
            logger.warning(
                "a session's invoice was generated, but its payment hold is %s: the invoice stays open",
                hold.status,
                extra={"hold_id": str(hold.id), "invoice_id": str(invoice.id)},
            )
        hold.save()
        return hold
    if invoice.payments.filter(status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]).exists():
        hold.save()
        return hold
    if hold.currency != invoice.currency:  # cannot pay it: given back, the invoice stays open
        hold.status = HoldStatus.VOIDING
        hold.void_reason = f"the session was billed in {invoice.currency}, the hold is in {hold.currency}"
        hold.save()
        _settle_after_commit(hold.id)
        return hold
    redemption = _apply_promotion_of(hold=hold, invoice=invoice) if hold.promotion_code else None
    amount = min(invoice.total_amount, hold.amount)
    payment = Payment.objects.create(
        invoice=invoice,
        user_id=invoice.user_id,
        kind=PaymentKind.HOLD_CAPTURE,
        amount=amount,
        currency=invoice.currency,
        discount_amount=invoice.discount_amount,
        promotion_code=redemption.code if redemption else "",
        redemption_id=redemption.redemption_id if redemption else None,
        gateway=hold.gateway if amount else "",
        checkout_key=f"hold:{hold.id}",
    )
    hold.payment = payment
    if amount == 0:  # nothing to pay (e.g. no energy, or fully discounted): paid, and the hold given back
        core._payment_succeeded(invoice=invoice, payment=payment, reference="")
        hold.status = HoldStatus.VOIDING
        hold.void_reason = "nothing to pay"
    else:
        hold.status = HoldStatus.CAPTURING
    hold.save()
    _settle_after_commit(hold.id)
    return hold


def _apply_promotion_of(*, hold: PaymentHold, invoice: Invoice):
    """The code given at attach, applied through pricing as a checkout would; refused → skipped and noted."""
    try:
        with transaction.atomic():
            return core._apply_promotion(invoice=invoice, code=hold.promotion_code)
    except DomainError as exc:
        hold.promotion_refusal = exc.detail[:300]
        invoice.refresh_from_db()
        logger.info("promotion code skipped at capture", extra={"hold_id": str(hold.id), "reason": exc.detail})
        return None


# --- void -----------------------------------------------------------------------------------------


@transaction.atomic
def hold_void(*, hold_id: UUID, reason: str) -> PaymentHold:
    """Releases a hold that will pay for nothing; idempotent, a captured (or capturing) hold is left as it is.
    The gateway is called after the commit."""
    hold = PaymentHold.objects.select_for_update().filter(id=hold_id).first()
    if hold is None:
        raise NotFound("No such payment hold.", code="unknown_hold")
    _void_decide(hold=hold, reason=reason)
    return hold


def hold_release_for_invoice(*, invoice: Invoice, reason: str) -> None:
    """The invoice was voided (in the caller's transaction): its authorized hold is released."""
    hold = PaymentHold.objects.select_for_update().filter(session_id=invoice.session_id).first()
    if hold is not None:
        _void_decide(hold=hold, reason=f"invoice voided: {reason}")


def _void_decide(*, hold: PaymentHold, reason: str) -> None:
    if hold.status == HoldStatus.AUTHORIZED:
        hold.status = HoldStatus.VOIDING
        hold.void_reason = reason[:300]
        hold.save()
        _settle_after_commit(hold.id)
    elif hold.status == HoldStatus.PENDING and not hold.void_reason:  # released once the sweep learns the answer
        hold.void_reason = reason[:300]
        hold.save()


# --- talking to the gateway (after commit: a Celery task, or the sweep) -----------------------------


def _settle_after_commit(hold_id: UUID) -> None:
    transaction.on_commit(lambda: _dispatch_settle(hold_id), robust=True)


def _dispatch_settle(hold_id: UUID) -> None:
    """To a worker through Celery; in this process when tasks run eagerly (the embedded mode)."""
    from evcharge.celery import app

    if app.conf.task_always_eager:
        hold_settle(hold_id=hold_id)
        return
    try:
        app.tasks[SETTLE_HOLD_TASK].delay(str(hold_id))
    except Exception:
        logger.warning("could not queue a hold's settlement; the sweep will", exc_info=True)


def _claim(hold_id: UUID) -> bool:
    """One worker at a time talks to the gateway about a hold: the lease is taken in one UPDATE."""
    now = timezone.now()
    return bool(
        PaymentHold.objects.filter(id=hold_id)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + LEASE)
    )


def hold_settle(*, hold_id: UUID) -> PaymentHold | None:
    """Does what the hold's state asks of the gateway: captures (then charges the rest of a total above the
    hold), or voids. Safe to run any number of times, from any number of workers."""
    if not _claim(hold_id):
        return PaymentHold.objects.filter(id=hold_id).first()
    try:
        hold = PaymentHold.objects.get(id=hold_id)
        if hold.status == HoldStatus.CAPTURING:
            hold = _capture_at_gateway(hold)
        elif hold.status == HoldStatus.VOIDING:
            hold = _void_at_gateway(hold)
        if hold.status == HoldStatus.CAPTURED and hold.invoice_id:
            _charge_the_rest(hold)
        return hold
    finally:
        PaymentHold.objects.filter(id=hold_id).update(locked_until=None)


def _capture_at_gateway(hold: PaymentHold) -> PaymentHold:
    payment = Payment.objects.get(id=hold.payment_id)
    try:
        result = get_gateway().capture(
            authorization_reference=hold.authorization_reference,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.gateway_idempotency_key,
        )
    except Exception as exc:  # an error or a timeout: the authorisation still stands; the sweep asks again
        logger.warning("gateway capture not done", extra={"hold_id": str(hold.id), "error": str(exc)})
        return hold
    return _capture_settle(hold_id=hold.id, result=result)


@transaction.atomic
def _capture_settle(*, hold_id: UUID, result: GatewayResult) -> PaymentHold:
    invoice_id = PaymentHold.objects.values_list("invoice_id", flat=True).get(id=hold_id)
    invoice = Invoice.objects.select_for_update().get(id=invoice_id)  # the lock order: invoice, hold, payment
    hold = PaymentHold.objects.select_for_update().get(id=hold_id)
    payment = Payment.objects.select_for_update().get(id=hold.payment_id)
    if hold.status != HoldStatus.CAPTURING or payment.status != PaymentStatus.PENDING:
        return hold
    if result.succeeded:
        hold.captured_amount = payment.amount
        hold.status = HoldStatus.CAPTURED if payment.amount == hold.amount else HoldStatus.PARTIALLY_CAPTURED
        hold.captured_at = timezone.now()
        core._payment_succeeded(invoice=invoice, payment=payment, reference=result.reference)
    else:
        hold.status = HoldStatus.FAILED
        hold.failure_reason = f"capture refused: {result.failure_reason or result.status}"[:500]
        core._payment_failed(invoice=invoice, payment=payment, reason=hold.failure_reason)
    hold.save()
    return hold


def _void_at_gateway(hold: PaymentHold) -> PaymentHold:
    try:
        result = get_gateway().void(
            authorization_reference=hold.authorization_reference, idempotency_key=f"void:{hold.id}"
        )
    except Exception as exc:
        logger.warning("gateway void not done", extra={"hold_id": str(hold.id), "error": str(exc)})
        return hold
    changes = {"status": HoldStatus.VOIDED, "voided_at": timezone.now()}
    if not result.succeeded:  # nothing the gateway can still release (unknown, expired): nothing is held
        logger.warning("gateway refused a void", extra={"hold_id": str(hold.id), "reason": result.failure_reason})
        changes["failure_reason"] = f"void refused: {result.failure_reason or result.status}"[:500]
    PaymentHold.objects.filter(id=hold.id, status=HoldStatus.VOIDING).update(**changes, updated_at=timezone.now())
    hold.refresh_from_db()
    return hold


def _charge_the_rest(hold: PaymentHold) -> None:
    """The total was above the hold: the hold was captured in full, the rest is charged to the same card through
    checkout's charge path (a pending payment committed first, keyed by its id)."""
    rest_key = f"hold-rest:{hold.id}"
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(id=hold.invoice_id)
        earlier = invoice.payments.filter(checkout_key=rest_key).first()
        if earlier is None:
            due = invoice.total_amount - ledger_cash_balance(invoice.id)
            if invoice.status != InvoiceStatus.OPEN or due <= 0:
                return
            if invoice.payments.filter(status=PaymentStatus.PENDING).exists():
                return
            payment = Payment.objects.create(
                invoice=invoice,
                user_id=invoice.user_id,
                kind=PaymentKind.CHARGE,
                amount=due,
                currency=invoice.currency,
                gateway=hold.gateway,
                checkout_key=rest_key,
            )
    if earlier is None:
        _, payment = core._charge_and_settle(payment=payment, token=hold.card_token)
    elif earlier.status == PaymentStatus.PENDING:  # a crash or a timeout: ask the gateway, charge if it never got it
        _, payment = core._settle_from_gateway_status(payment=earlier, token=hold.card_token, charge_if_not_found=True)
    else:
        return
    if payment.status == PaymentStatus.FAILED:  # the invoice stays open for the rest: staff follow it up
        reason = f"the rest ({payment.amount}) was not charged: {payment.failure_reason}"[:500]
        PaymentHold.objects.filter(id=hold.id).update(failure_reason=reason, updated_at=timezone.now())


# --- the sweep --------------------------------------------------------------------------------------


def holds_sweep(*, unused_after: timedelta, limit: int = 100) -> int:
    """Beat: asks the gateway again about authorisations it never answered; releases holds that pay for nothing
    (never attached to a session within `unused_after`, or attached to one billing never heard start: its start
    failed; or their invoice was paid otherwise or voided); begins the capture a payment in flight was in the way
    of; settles captures, voids and the charge of the rest that a crash or a timeout left half-way. Returns how
    many holds it settled."""
    now = timezone.now()
    settled = 0
    for hold in PaymentHold.objects.filter(status=HoldStatus.PENDING, updated_at__lt=now - LEASE)[:limit]:
        hold = _authorize_at_gateway(hold)
        settled += hold.status != HoldStatus.PENDING
        if hold.status == HoldStatus.AUTHORIZED and hold.void_reason:
            hold_void(hold_id=hold.id, reason=hold.void_reason)
    closed = [InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.REFUNDED]
    unused = PaymentHold.objects.filter(status=HoldStatus.AUTHORIZED).filter(
        Q(session_id__isnull=True, created_at__lt=now - unused_after)
        | Q(session_id__isnull=False, invoice__isnull=True, attached_at__lt=now - unused_after)
        | Q(invoice__status__in=closed)  # paid otherwise (a checkout got there first) or voided
    )
    for hold_id in unused.values_list("id", flat=True)[:limit]:
        with transaction.atomic():
            hold = PaymentHold.objects.select_for_update(skip_locked=True).filter(id=hold_id).first()
            if hold is None or hold.status != HoldStatus.AUTHORIZED:
                continue
            if hold.session_id is None:
                what = f"never attached to a session within {unused_after}"
            elif hold.invoice_id is None:
                what = f"its session never started within {unused_after}"
            elif (status := Invoice.objects.values_list("status", flat=True).get(id=hold.invoice_id)) in closed:
                what = f"its session's invoice is {status}"
            else:
                continue
            hold.status = HoldStatus.VOIDING
            hold.void_reason = f"unused: {what}"
            hold.save()
    waiting = PaymentHold.objects.filter(
        status=HoldStatus.AUTHORIZED, invoice__status=InvoiceStatus.OPEN, invoice__finalized_at__lt=now - LEASE
    )
    for hold_id, invoice_id in waiting.values_list("id", "invoice_id")[:limit]:  # a checkout's payment was in the way
        with transaction.atomic():
            hold_capture_begin(invoice=Invoice.objects.select_for_update().get(id=invoice_id))
        settled += PaymentHold.objects.filter(id=hold_id).exclude(status=HoldStatus.AUTHORIZED).exists()
    stale = PaymentHold.objects.filter(
        Q(status__in=[HoldStatus.CAPTURING, HoldStatus.VOIDING])
        | Q(status=HoldStatus.CAPTURED, invoice__status=InvoiceStatus.OPEN, failure_reason=""),
        Q(locked_until__isnull=True) | Q(locked_until__lt=now),
    )
    for hold_id in stale.values_list("id", flat=True)[:limit]:
        before = PaymentHold.objects.values_list("status", flat=True).get(id=hold_id)
        hold = hold_settle(hold_id=hold_id)
        settled += hold is not None and hold.status != before
    return settled


def hold_unused_after() -> timedelta:
    return timedelta(minutes=settings.BILLING_HOLD_UNUSED_MINUTES)
