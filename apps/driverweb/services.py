"""The driver's pages behind a connector's QR code: what they show and what they start, through the contexts'
facades only (stations for the connector, pricing for the price, billing for the card hold and the receipt,
identity for a guest's identity, reservations for the session).

Who supplies what: the connector's state is the stations context's, the price pricing's, the energy the
charger's (reported through telemetry), the hold amount billing's configuration; the page sends an e-mail
address, a card token and optionally a promotion code, nothing else that moves money.
"""

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.driverweb.models import WebCheckout, token_digest
from evcharge.contracts import billing, identity, pricing, reservations, stations
from evcharge.contracts.billing import SessionReceipt
from evcharge.contracts.pricing import NoApplicableTariff, Quote
from evcharge.contracts.reservations import SessionLive
from evcharge.contracts.stations import ConnectorView
from evcharge.errors import BusinessRuleViolation, Conflict, DomainError, InvalidInput, NotFound
from evcharge.money import format_money

logger = logging.getLogger("evcharge.driverweb")

EXAMPLE_ENERGY_WH = 20_000  # the example total the page shows, as the EU rule asks for a typical session
STARTABLE_STATUS = "Available"


class TooManyRequests(DomainError):
    status, title, type_slug = 429, "Too many requests", "too-many-requests"


# --- the connector's page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceComponent:
    key: str  # per_kwh | per_minute | session_fee | idle_fee: the order the EU rule (AFIR) names
    amount: int
    unit: str  # "kWh", "min", "session", "min"


@dataclass(frozen=True)
class ConnectorPage:
    connector: ConnectorView
    quote: Quote | None  # None: no tariff applies here now
    components: tuple[PriceComponent, ...]
    can_start: bool
    refusal: str  # why no start is offered: "" | "busy" | "out_of_service" | "charger_offline" | "no_price"


SESSION_REFUSALS = {  # the reservations context's 409 codes, as the page words them
    "connector_busy": "busy",
    "connector_out_of_service": "out_of_service",
    "station_disabled": "out_of_service",
    "charger_offline": "charger_offline",
    "connector_unknown": "out_of_service",  # not (yet) known where sessions start
}


def connector_page(code: str) -> ConnectorPage | None:
    connector = stations.facade().connector_by_code(code)
    if connector is None:
        return None
    try:
        quote = pricing.facade().quote(
            station_id=connector.station_id, connector_type=connector.type, energy_wh=EXAMPLE_ENERGY_WH
        )
    except (NoApplicableTariff, InvalidInput):
        quote = None
    components: tuple[PriceComponent, ...] = ()
    if quote is not None:
        tariff = quote.tariff
        components = (
            PriceComponent("per_kwh", tariff.energy_price_per_kwh, "kWh"),
            PriceComponent("per_minute", tariff.time_price_per_min, "min"),
            PriceComponent("session_fee", tariff.session_fee, "session"),
            PriceComponent("idle_fee", tariff.idle_fee_per_min, "min"),
        )
    refusal = ""
    if quote is None:
        refusal = "no_price"
    elif connector.status in ("Faulted", "Unavailable"):
        refusal = "out_of_service"
    elif connector.status != STARTABLE_STATUS:
        refusal = "busy"
    else:  # what the session's own rules would refuse: offer no start rather than hold a card for nothing
        refusal = SESSION_REFUSALS.get(reservations.facade().connector_start_refusal(connector.connector_id), "")
    return ConnectorPage(
        connector=connector, quote=quote, components=components, can_start=not refusal, refusal=refusal
    )


def money(amount: int | None, currency: str) -> str:
    """An amount in minor units as the active language writes it: "€0.39" in English, "0,39 €" in German."""
    if amount is None:
        return "-"
    return format_money(amount, currency, locale=translation.to_locale(translation.get_language() or "en"))


# --- rate limits -------------------------------------------------------------------------------------


def rate_limit(scope: str, who: str, *, per_hour: int) -> None:
    """A fixed one-hour window per (scope, who) in the shared cache; over the limit: 429."""
    window = int(timezone.now().timestamp() // 3600)
    key = f"driverweb:{scope}:{hashlib.sha256(who.encode()).hexdigest()[:32]}:{window}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    if count > per_hour:
        raise TooManyRequests(
            "Too many attempts from here; please wait a while and try again.", code=f"{scope}_rate_limited"
        )


TEST_CARD_TOKENS = ("tok_visa", "tok_declined", "tok_error")


def test_card_tokens() -> tuple[str, ...]:
    """The test gateway's card tokens, offered in place of a card form while it is the configured gateway."""
    return TEST_CARD_TOKENS if settings.PAYMENT_GATEWAY.endswith(".TestGateway") else ()


# --- starting ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartRequest:
    code: str
    checkout_key: str  # one per form (or per API checkout): the same request again is the same checkout
    client_ip: str
    email: str = ""
    card_token: str = ""
    promotion_code: str = ""
    user_id: UUID | None = None  # a signed-in driver
    language: str = "en"


def checkout_token(request: StartRequest, connector_id: UUID) -> str:
    """The page's key, derived with the server's secret from the checkout's key and everything the payer sent: the
    same submit gives the same page, and nobody without the secret can compute it. Another payer reusing a key
    (an API client's weak one, say) gets a checkout of their own, never someone else's page."""
    payer = str(request.user_id) if request.user_id else "guest"
    message = "\x1f".join(
        (
            "driverweb-checkout",
            request.checkout_key.strip(),
            str(connector_id),
            payer,
            request.email.strip().lower(),
            request.card_token.strip(),
            request.promotion_code.strip(),
        )
    )
    mac = hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def start(request: StartRequest) -> tuple[str, WebCheckout]:
    """Holds billing's amount on the card, then starts the session and ties the hold to it; a session that cannot
    start releases the hold. Returns the session page's token and the checkout."""
    key = request.checkout_key.strip()
    if not 8 <= len(key) <= 200:
        raise InvalidInput("A checkout key of 8 to 200 characters is required.", code="checkout_key_required")
    connector = stations.facade().connector_by_code(request.code)
    if connector is None:
        raise NotFound("No connector has this code.", code="connector_unknown")
    token = checkout_token(request, connector.connector_id)
    existing = WebCheckout.objects.filter(token_sha256=token_digest(token)).first()
    if existing is not None:
        return token, existing
    email, card_token = _payer(request)
    rate_limit("start", request.client_ip, per_hour=settings.DRIVERWEB_STARTS_PER_IP_HOUR)
    rate_limit("payment_ip", request.client_ip, per_hour=settings.DRIVERWEB_PAYMENTS_PER_IP_HOUR)
    rate_limit("payment_card", card_token, per_hour=settings.DRIVERWEB_PAYMENTS_PER_CARD_HOUR)
    page = connector_page(request.code)
    if page is None or not page.can_start:
        raise Conflict(
            _refusal_text(page.refusal if page else "busy"), code=f"connector_{page.refusal if page else 'busy'}"
        )
    _check_promotion(request, page)
    hold = billing.facade().hold_authorize(
        card_token=card_token, currency=page.quote.tariff.currency, idempotency_key=f"driverweb:{token_digest(token)}"
    )
    try:
        with transaction.atomic():
            user_id = request.user_id or identity.facade().guest_driver_create()
            session = reservations.facade().session_start_for(user_id=user_id, connector_id=connector.connector_id)
            billing.facade().hold_attach(
                hold_id=hold.hold_id,
                session_id=session.session_id,
                user_id=user_id,
                promotion_code=request.promotion_code.strip(),
            )
            checkout = WebCheckout.objects.create(
                token_sha256=token_digest(token),
                kind=WebCheckout.Kind.DRIVER if request.user_id else WebCheckout.Kind.GUEST,
                session_id=session.session_id,
                user_id=user_id,
                station_id=connector.station_id,
                connector_code=connector.code,
                email=email,
                language=request.language,
                hold_id=hold.hold_id,
                promotion_code=request.promotion_code.strip(),
            )
    except Exception:
        billing.facade().hold_void(hold_id=hold.hold_id, reason="the session could not start")
        raise
    logger.info("web checkout started", extra={"session": str(checkout.session_id), "kind": checkout.kind})
    return token, checkout


AMOUNT_DEPENDENT_REFUSALS = {"below_minimum"}  # decided on the invoice's real total, when billing applies the code


class PromotionCodeRefused(BusinessRuleViolation):
    """The typed promotion code cannot apply here; `refusal` is pricing's code for why (unknown, expired, ...)."""

    def __init__(self, *, promotion_code: str, refusal: str, reason: str) -> None:
        super().__init__(
            f"The promotion code {promotion_code} cannot be used: {reason}",
            errors={"promotion_code": [reason]},
            code="promotion_refused",
        )
        self.promotion_code = promotion_code
        self.refusal = refusal
        self.reason = reason


def _check_promotion(request: StartRequest, page: ConnectorPage) -> None:
    """A typed promotion code that cannot apply is refused before any card is held, not dropped from the receipt
    later. Checked against the page's example session; a rule on the amount waits for the real total."""
    code = request.promotion_code.strip()
    if not code:
        return
    evaluation = pricing.facade().evaluate_promotion(
        code=code,
        amount=page.quote.estimated_total,
        currency=page.quote.tariff.currency,
        station_id=page.connector.station_id,
        user_id=request.user_id,
    )
    if evaluation.valid or evaluation.refusal_code in AMOUNT_DEPENDENT_REFUSALS:
        return
    raise PromotionCodeRefused(
        promotion_code=code,
        refusal=evaluation.refusal_code or "",
        reason=evaluation.reason or "This promotion code cannot be used.",
    )


def _payer(request: StartRequest) -> tuple[str, str]:
    """The receipt address and the card token: a guest gives both; a signed-in driver's come from their account
    (their saved card unless they give another token)."""
    email, card_token = request.email.strip(), request.card_token.strip()
    if request.user_id is not None:
        if not card_token:
            saved = billing.facade().saved_card(request.user_id)
            if saved is None:
                raise InvalidInput(
                    "You have no saved card; add one or pay with a card now.",
                    errors={"card_token": ["No saved card."]},
                    code="no_saved_card",
                )
            card_token = saved.token
        return email, card_token
    errors = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["An e-mail address for the receipt is required."]
    if not card_token:
        errors["card_token"] = ["A card is required."]
    if errors:
        raise InvalidInput("Give an e-mail address for the receipt and a card.", errors=errors)
    return email, card_token


def _refusal_text(refusal: str) -> str:
    return {
        "busy": "This connector is in use; try another one.",
        "out_of_service": "This connector is out of service.",
        "no_price": "This connector has no price right now, so it cannot be started.",
        "charger_offline": "The charger is offline right now; try another connector.",
    }.get(refusal, "This connector cannot be started now.")


# --- the session's page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionPage:
    checkout: WebCheckout
    session: SessionLive
    receipt: SessionReceipt | None


def checkout_for_token(token: str) -> WebCheckout:
    checkout = WebCheckout.objects.filter(token_sha256=token_digest(token)).first() if token else None
    if checkout is None:
        raise NotFound("No session has this link.", code="session_link_unknown")
    return checkout


def session_page(token: str) -> SessionPage:
    checkout = checkout_for_token(token)
    session = reservations.facade().session_live(checkout.session_id)
    if session is None:
        raise NotFound("No session has this link.", code="session_link_unknown")
    if session.status == "cancelled":  # the charger never started it: nothing to pay (billing's sweep would too)
        billing.facade().hold_void(hold_id=checkout.hold_id, reason="the charger never started the session")
        if checkout.kind == WebCheckout.Kind.GUEST:  # nor may it start later with the guest's tag, unpaid
            identity.facade().guest_driver_retire(checkout.user_id)
    receipt = billing.facade().session_receipt(checkout.session_id) if session.status == "completed" else None
    if receipt is not None and receipt.status == "draft":  # the charger's final reading is not in yet
        receipt = None
    return SessionPage(checkout=checkout, session=session, receipt=receipt)


CANCELLED_BY_DRIVER = "cancelled by the driver before the charger started"


def cancel(token: str) -> SessionPage:
    """Withdraws a start the charger has not confirmed yet (a remote start waiting for its StartTransaction): the
    session is cancelled, the hold released (the gateway is called after commit) and a guest's identity retired, so
    a charger that starts late starts nothing. Once the charger has started it is too late: Conflict (stop it
    instead). Cancelling a cancelled session again changes nothing."""
    checkout = checkout_for_token(token)
    with transaction.atomic():
        reservations.facade().session_cancel_pending(session_id=checkout.session_id, reason=CANCELLED_BY_DRIVER)
        session = reservations.facade().session_live(checkout.session_id)  # locked by the cancel, if it was pending
        if session is None or session.status != "cancelled":
            raise Conflict("The charger has already started this session; stop it instead.", code="session_not_pending")
        billing.facade().hold_void(hold_id=checkout.hold_id, reason=CANCELLED_BY_DRIVER)
        if checkout.kind == WebCheckout.Kind.GUEST:
            identity.facade().guest_driver_retire(checkout.user_id)
    logger.info("web checkout cancelled before the charger started", extra={"session": str(checkout.session_id)})
    return session_page(token)


def stop(token: str) -> SessionPage:
    """Stops the session as its driver (no meter value: the energy is the charger's)."""
    checkout = checkout_for_token(token)
    with transaction.atomic():
        reservations.facade().session_stop_for(session_id=checkout.session_id, user_id=checkout.user_id)
    return session_page(token)


def history(user_id: UUID) -> list[tuple[SessionLive, SessionReceipt | None]]:
    sessions = reservations.facade().sessions_of(user_id, limit=50)
    return [(s, billing.facade().session_receipt(s.session_id)) for s in sessions]


# --- the receipt by e-mail -----------------------------------------------------------------------------

FINAL_INVOICE_STATUSES = ("paid", "void", "refunded")
SETTLED_PAYMENT_STATUSES = (  # the bank has answered (or nothing is asked of it); pending/authorized are not
    "none",
    "declined",
    "failed",
    "captured",
    "partially_captured",
    "voided",
    "succeeded",
    "refunded",
)


def receipt_settled(receipt: SessionReceipt | None) -> bool:
    """Nothing more will change on this receipt by itself: its invoice is final and the bank has answered. Until
    then the session's page keeps asking (a capture the sweep retries lands later)."""
    return (
        receipt is not None
        and receipt.status in FINAL_INVOICE_STATUSES
        and receipt.payment_status in SETTLED_PAYMENT_STATUSES
    )


def receipt_send_once(*, session_id: UUID) -> bool:
    """E-mails the receipt of a web checkout's session once its invoice is settled (paid, or void). The row is
    marked in the caller's transaction and the mail leaves after its commit: at most once."""
    checkout = WebCheckout.objects.select_for_update().filter(session_id=session_id).first()
    if checkout is None or checkout.receipt_sent_at is not None or not checkout.email:
        return False
    receipt = billing.facade().session_receipt(session_id)
    if receipt is None or receipt.status not in FINAL_INVOICE_STATUSES:
        return False
    checkout.receipt_sent_at = timezone.now()
    checkout.save(update_fields=["receipt_sent_at"])
    with translation.override(checkout.language):
        context = {
            "receipt": receipt,
            "lines": receipt_lines(receipt),
            "discount": money(receipt.discount_amount, receipt.currency),
            "total": money(receipt.total_amount, receipt.currency),
            "payment_label": payment_label(receipt.payment_status),
        }
        subject = render_to_string("driverweb/receipt_subject.txt", context).strip()
        body = render_to_string("driverweb/receipt_email.txt", context)
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [checkout.email], fail_silently=False)
    )
    return True


PAYMENT_STATUS_LABELS = {
    "none": gettext_lazy("Not paid yet"),
    "pending": gettext_lazy("Waiting for the bank"),
    "authorized": gettext_lazy("Held on your card"),
    "capturing": gettext_lazy("Being charged"),
    "captured": gettext_lazy("Charged to your card"),
    "partially_captured": gettext_lazy("Charged to your card, the rest released"),
    "voiding": gettext_lazy("Being released"),
    "voided": gettext_lazy("Released, nothing charged"),
    "succeeded": gettext_lazy("Paid"),
    "failed": gettext_lazy("Payment failed"),
    "refunded": gettext_lazy("Refunded"),
}
SESSION_STATUS_LABELS = {
    "pending": gettext_lazy("Waiting for the charger"),
    "active": gettext_lazy("Charging"),
    "completed": gettext_lazy("Finished"),
    "cancelled": gettext_lazy("Not started"),
}


def payment_label(status: str) -> str:
    return str(PAYMENT_STATUS_LABELS.get(status, status))


def session_label(status: str) -> str:
    return str(SESSION_STATUS_LABELS.get(status, status))


def receipt_lines(receipt: SessionReceipt) -> list[dict]:
    return [
        {
            "description": line_description(line),
            "quantity": line.quantity,
            "unit": line.unit,
            "amount": money(line.amount, receipt.currency),
        }
        for line in receipt.lines
        if line.kind != "discount"
    ]


def line_description(line: billing.ReceiptLine) -> str:
    """A receipt line in the reader's language, from its kind, quantity and unit (billing's description is
    English). Only the lines billing computes from the tariff are rewritten; lines staff wrote (a reservation fee,
    a product, an adjustment) keep their words, and so does a line whose unit is not the one its kind is
    counted in."""
    quantity = Decimal(line.quantity)
    if line.kind == "energy" and line.unit == "kWh":
        return _("Energy %(kwh)s kWh") % {"kwh": number_format(quantity, 3, use_l10n=True)}
    if line.kind == "time" and line.unit == "min":
        return _("Charging time %(duration)s") % {"duration": _duration(quantity)}
    if line.kind == "idle_fee" and line.unit == "min":
        return _("Idle fee for %(duration)s after the grace period") % {"duration": _duration(quantity)}
    if line.kind == "session_fee":
        return str(_("Session fee"))
    return line.description


def _duration(minutes: Decimal) -> str:
    seconds = int((minutes * 60).to_integral_value())
    return _("%(minutes)d min %(seconds)02d s") % {"minutes": seconds // 60, "seconds": seconds % 60}
