from dataclasses import dataclass
from typing import ClassVar, Protocol
from uuid import UUID

from evcharge.contracts._base import FacadeSlot, event_contract
from evcharge.errors import NotFound


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


class BillingFacade(Protocol):
    def invoice_for_discount(self, invoice_id: UUID) -> InvoiceSummary:
        """The invoice's owner, status, currency and totals. Raises UnknownInvoice when there is none."""


_slot: FacadeSlot[BillingFacade] = FacadeSlot("billing")
register = _slot.register
facade = _slot.get
registered = lambda: _slot.registered  # noqa: E731
