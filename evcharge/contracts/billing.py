from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol
from uuid import UUID

from evcharge.contracts._base import FacadeSlot, event_contract
from evcharge.errors import BusinessRuleViolation, DomainError, NotFound


@event_contract
@dataclass(frozen=True, kw_only=True)
class InvoiceGenerated:
    TYPE: ClassVar[str] = "invoice.generated.v1"
    SOURCE: ClassVar[str] = "/evcharge/billing"
    invoice_id: UUID
    session_id: UUID
    user_id: UUID
    station_id: UUID
    currency: str
    subtotal_amount: int
    discount_amount: int
    total_amount: int
    operator_id: UUID | None = None
    energy_wh: int = 0


@event_contract
@dataclass(frozen=True, kw_only=True)
class PaymentSucceeded:
    TYPE: ClassVar[str] = "payment.succeeded.v1"
    SOURCE: ClassVar[str] = "/evcharge/billing"
    payment_id: UUID
    invoice_id: UUID
    session_id: UUID
    user_id: UUID
    station_id: UUID
    amount: int
    discount_amount: int
    currency: str
    operator_id: UUID | None = None


@event_contract
@dataclass(frozen=True, kw_only=True)
class PaymentFailed:
    TYPE: ClassVar[str] = "payment.failed.v1"
    SOURCE: ClassVar[str] = "/evcharge/billing"
    payment_id: UUID
    invoice_id: UUID
    user_id: UUID
    amount: int
    currency: str
    reason: str


@event_contract
@dataclass(frozen=True, kw_only=True)
class PaymentRefunded:
    TYPE: ClassVar[str] = "payment.refunded.v1"
    SOURCE: ClassVar[str] = "/evcharge/billing"
    payment_id: UUID
    invoice_id: UUID
    user_id: UUID
    station_id: UUID
    amount: int
    currency: str
    reason: str
    operator_id: UUID | None = None


@event_contract
@dataclass(frozen=True, kw_only=True)
class InvoiceVoided:
    TYPE: ClassVar[str] = "invoice.voided.v1"
    SOURCE: ClassVar[str] = "/evcharge/billing"
    invoice_id: UUID
    session_id: UUID
    user_id: UUID
    reason: str


@event_contract
@dataclass(frozen=True, kw_only=True)
class InvoiceUpdated:
    """The whole money state of an invoice, published whenever any of it changes after generation.

    Lines added or removed, a discount at checkout, a payment captured, a refund, a void: reporting (and any
    other read model) sets its figures from this event instead of adding deltas, keeping the highest
    `version` it has seen, so redelivered or reordered copies change nothing.
    """

    TYPE: ClassVar[str] = "invoice.updated.v1"
    SOURCE: ClassVar[str] = "/evcharge/billing"
    invoice_id: UUID
    session_id: UUID
    user_id: UUID
    station_id: UUID
    operator_id: UUID | None = None
    status: str  # draft | open | paid | void | refunded
    currency: str
    subtotal_amount: int
    discount_amount: int
    total_amount: int
    paid_amount: int  # captured payments net of refunds
    version: int  # per invoice, bumped in the transaction that changed it
    reason: str  # line_added | line_removed | discount | payment | refund | void | finalized | ...


@dataclass(frozen=True, kw_only=True)
class InvoiceSummary:
    """What pricing needs to know of an invoice to compute a discount on it: its owner, where, its state and
    its real money (minor units of `currency`). `total_amount` is what is left to pay before any discount
    of a promotion: the subtotal less other discounts."""

    invoice_id: UUID
    user_id: UUID
    operator_id: UUID
    station_id: UUID
    status: str  # draft | open | paid | void | refunded
    currency: str
    subtotal_amount: int
    total_amount: int
    payment_in_progress: bool = False


class UnknownInvoice(NotFound, LookupError):
    """No invoice with this id (a 404 when it reaches the API)."""

    def __init__(self, detail: str = "No such invoice."):
        super().__init__(detail, code="unknown_invoice")


@dataclass(frozen=True, kw_only=True)
class PaymentHold:
    """A card pre-authorisation for one ad-hoc session (a guest's, or a signed-in driver's one-tap start).

    Billing decides the amount (admin config `billing.adhoc_hold_amount`, minor units); it is captured at the
    invoice's final total when the session's invoice is generated and the rest is released."""

    hold_id: UUID
    status: str  # see HOLD_STATUSES: authorized | capturing | captured | partially_captured | voiding | voided | ...
    amount: int  # held, minor units of `currency`
    captured_amount: int
    currency: str
    card_label: str  # "Visa ending 4242"; the only card data kept besides the gateway's token
    session_id: UUID | None = None  # set by hold_attach
    promotion_code: str = ""  # the code given at attach (applied, if still valid, when the hold is captured)


HOLD_STATUSES = (
    "pending",  # the gateway was asked and has not answered (a timeout): reconciled by billing's sweep
    "authorized",  # the amount is held on the card
    "declined",  # the gateway declined the card: nothing held
    "failed",  # the gateway failed (nothing held), or refused the capture
    "capturing",  # the session's invoice is final: the capture is on its way to the gateway
    "captured",  # the whole held amount was captured (any total above it charged to the same card)
    "partially_captured",  # the invoice's total was captured, the rest released
    "voiding",  # nothing to pay (or never used): the release is on its way to the gateway
    "voided",  # released in full
)


@dataclass(frozen=True, kw_only=True)
class ReceiptLine:
    kind: str  # energy | time | session_fee | idle_fee | ... | discount
    description: str
    quantity: str  # decimal as text, e.g. "12.345"
    unit: str
    unit_amount: int
    amount: int


@dataclass(frozen=True, kw_only=True)
class SessionReceipt:
    """What a receipt shows of a session's invoice (the same figures GET /api/v1/invoices/{id} gives)."""

    invoice_id: UUID
    session_id: UUID
    user_id: UUID
    status: str  # draft | open | paid | void | refunded
    currency: str
    lines: tuple[ReceiptLine, ...]
    subtotal_amount: int
    discount_amount: int
    total_amount: int
    paid_amount: int
    payment_status: str  # none | pending | authorized | captured | partially_captured | voided | succeeded | failed
    #                      | refunded
    promotion_code: str  # the promotion applied to the invoice ("" when none)
    energy_wh: int
    started_at: datetime | None
    ended_at: datetime | None
    hold: PaymentHold | None = None  # the card pre-authorisation that pays for the session, if any


@dataclass(frozen=True, kw_only=True)
class SavedCard:
    """A driver's saved card: the gateway's token (never card data) and how the driver knows it."""

    payment_method_id: UUID
    token: str
    label: str


class PaymentDeclined(BusinessRuleViolation):
    """The gateway declined the card (a 422 with code `card_declined` and the gateway's reason)."""

    def __init__(self, reason: str):
        super().__init__(f"The card was declined: {reason}.", code="card_declined")
        self.reason = reason


class GatewayUnavailable(DomainError):
    """The payment gateway failed or did not answer (a 502); nothing was decided, the call may be retried."""

    status, title, type_slug = 502, "Payment gateway unavailable", "gateway-unavailable"


class BillingFacade(Protocol):
    def invoice_for_discount(self, invoice_id: UUID) -> InvoiceSummary:
        """The invoice's owner, status, currency and totals. Raises UnknownInvoice when there is none."""

    def hold_authorize(self, *, card_token: str, currency: str, idempotency_key: str) -> PaymentHold:
        """Pre-authorises billing's configured hold amount on the card through the gateway (a real
        `authorize` call, outside any transaction of the caller's). Raises PaymentDeclined (declined card),
        InvalidInput (unknown token) or GatewayUnavailable (502). The same idempotency key gives the same
        hold."""

    def hold_attach(self, *, hold_id: UUID, session_id: UUID, user_id: UUID, promotion_code: str = "") -> None:
        """Ties the hold to the session it pays for, in the caller's transaction. When the session's invoice
        is generated billing applies the promotion code (if still valid; a refused code is skipped), captures
        the final total (at most the hold; the rest is charged to the same card) and releases the rest. The same
        hold and session again changes nothing. Raises NotFound (unknown hold) or Conflict (the hold is not
        `authorized`, or pays for another session, or the session already has a hold)."""

    def hold_void(self, *, hold_id: UUID, reason: str) -> None:
        """Releases a hold that will pay for nothing (the session could not start, or was cancelled before
        the charger started). Idempotent; a captured hold is left as it is. Inside the caller's transaction the
        gateway is called after commit. Raises NotFound for an unknown hold."""

    def saved_card(self, user_id: UUID) -> SavedCard | None:
        """The driver's most recently saved card that is not removed; None when they have none."""

    def session_receipt(self, session_id: UUID) -> SessionReceipt | None:
        """The session's invoice as a receipt, or None while billing has no invoice for it yet."""


_slot: FacadeSlot[BillingFacade] = FacadeSlot("billing")
register = _slot.register
facade = _slot.get
registered = lambda: _slot.registered  # noqa: E731
