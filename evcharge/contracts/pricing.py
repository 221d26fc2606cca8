from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol
from uuid import UUID

from evcharge.contracts._base import FacadeSlot, event_contract
from evcharge.errors import NotFound


@dataclass(frozen=True, kw_only=True)
class TariffSnapshot:
    """The prices a session was started with; what it is billed at, whatever changes later.
    All amounts are integers in minor units of `currency`."""

    rate_plan_id: UUID | None
    currency: str
    energy_price_per_kwh: int
    time_price_per_min: int
    session_fee: int
    idle_fee_per_min: int
    idle_grace_min: int


@dataclass(frozen=True, kw_only=True)
class Quote:
    station_id: UUID
    connector_type: str
    tariff: TariffSnapshot
    estimated_wh: int
    estimated_total: int
    valid_until: datetime
    warnings: tuple[str, ...] = ()
    available: bool = True  # False when no connector of the type can charge now (faulted, unavailable)
    # The power the estimate assumes: the fastest connector of the type, capped by the station's
    # max_power_kw setting; None when unknown (then no duration is estimated).
    power_kw: float | None = None
    estimated_duration_s: int | None = None  # the shortest charge of estimated_wh at power_kw


@dataclass(frozen=True, kw_only=True)
class PromotionEvaluation:
    valid: bool
    discount_amount: int
    reason: str | None = None
    promotion_id: UUID | None = None
    refusal_code: str | None = None  # as PromotionRefused.code


@dataclass(frozen=True, kw_only=True)
class PromotionRedemption:
    """A code redeemed for one invoice (`reference` is the invoice id): its discount was computed by pricing
    from the code's rules and the invoice's real total (`amount`) and currency, for the invoice's owner."""

    redemption_id: UUID
    promotion_id: UUID
    code: str
    user_id: UUID
    amount: int
    discount_amount: int
    currency: str
    reference: str


class PromotionRefused(Exception):
    """apply_promotion refused the code; `reason` is for the driver, `code` for programs
    (unknown, inactive, not_yet_valid, expired, exhausted, per_user_limit, wrong_station,
    below_minimum, currency_mismatch, ambiguous_code, reference_taken)."""

    def __init__(self, reason: str, code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class NoApplicableTariff(NotFound, LookupError):
    """No rate plan applies (no matching rule, no assignment, no default plan), or the station is
    unknown to pricing. There is no default tariff: a session on such a station is refused (409 no_tariff);
    a NotFound (404) when it reaches the API otherwise."""

    def __init__(self, detail: str):
        super().__init__(detail, code="no_tariff")


class PricingFacade(Protocol):
    def quote(self, *, station_id: UUID, connector_type: str, energy_wh: int) -> Quote:
        """Raises evcharge.errors.InvalidInput (unknown station, connector type absent, bad energy)
        or NoApplicableTariff (a LookupError) when no rate plan applies."""

    def running_cost(self, *, tariff: TariffSnapshot, energy_wh: int, duration_s: int) -> int:
        """What a session has cost so far at this tariff (energy, time, session fee; no idle fee), in minor units:
        the same arithmetic as the invoice's lines."""

    def tariff_snapshot(self, *, station_id: UUID, connector_type: str, at: datetime) -> TariffSnapshot:
        """The tariff a session starting at `at` would be billed at.
        Raises NoApplicableTariff (a LookupError) when the station is unknown or nothing applies."""

    def evaluate_promotion(
        self, *, code: str, amount: int, currency: str, station_id: UUID | None, user_id: UUID | None
    ) -> PromotionEvaluation: ...

    def apply_promotion(self, *, code: str, invoice_id: UUID) -> PromotionRedemption:
        """Redeems the code for the invoice (one redemption per code and invoice; another code's redemption for
        the invoice is released). The discount is computed from the code's rules and the invoice's real total,
        currency, owner and station, which pricing asks billing for; a redemption already in force for the
        invoice is re-checked and recomputed, never handed back as it was. Raises PromotionRefused, or
        evcharge.contracts.billing.UnknownInvoice."""

    def redemption_for_invoice(self, *, invoice_id: UUID) -> PromotionRedemption | None:
        """The redemption in force for the invoice, re-checked and recomputed against its current total, or None.
        Raises PromotionRefused when it no longer applies (it stays in force until released)."""

    def release_promotion(self, *, redemption_id: UUID) -> None:
        """Undoes a redemption (the invoice was not paid), giving the use back."""

    def release_promotions_for_invoice(self, *, invoice_id: UUID) -> None:
        """Undoes every redemption in force for the invoice (it was voided)."""


@event_contract
@dataclass(frozen=True, kw_only=True)
class PricingRuleUpdated:
    TYPE: ClassVar[str] = "pricing.rule.updated.v1"
    SOURCE: ClassVar[str] = "/evcharge/pricing"
    operator_id: UUID
    rate_plan_id: UUID | None = None
    rule_id: UUID | None = None
    change: str  # created | updated | deleted
    fields: list[str]


_slot: FacadeSlot[PricingFacade] = FacadeSlot("pricing")
register = _slot.register
facade = _slot.get
registered = lambda: _slot.registered  # noqa: E731
