from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from evcharge.contracts._base import event_contract


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
