from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from apps.pricing import arithmetic, selectors, services
from evcharge.contracts.pricing import (
    PromotionEvaluation,
    PromotionRedemption,
    Quote,
    TariffSnapshot,
)
from evcharge.contracts.stations import CONNECTOR_TYPES
from evcharge.errors import InvalidInput


class PricingFacadeImpl:
    """In-process implementation of evcharge.contracts.pricing.PricingFacade."""

    def running_cost(self, *, tariff: TariffSnapshot, energy_wh: int, duration_s: int) -> int:
        return (
            arithmetic.energy_amount(energy_wh=max(0, energy_wh), energy_price_per_kwh=tariff.energy_price_per_kwh)
            + arithmetic.time_amount(duration_s=max(0, duration_s), time_price_per_min=tariff.time_price_per_min)
            + tariff.session_fee
        )

    def quote(self, *, station_id: UUID, connector_type: str, energy_wh: int) -> Quote:
        if connector_type not in CONNECTOR_TYPES:
            raise InvalidInput("Unknown connector type.", errors={"connector_type": ["Unknown connector type."]})
        if not 0 <= energy_wh <= settings.PRICING_QUOTE_MAX_KWH * 1000:
            raise InvalidInput("Energy out of range.", errors={"energy_wh": ["Out of range."]})
        try:
            return selectors.quote_for(
                station_id=station_id, connector_type=connector_type, energy_wh=energy_wh, at=timezone.now()
            )
        except selectors.UnknownStation as exc:
            raise InvalidInput("Unknown station.", errors={"station_id": ["Unknown station."]}) from exc
        except selectors.ConnectorTypeAbsent as exc:
            raise InvalidInput(
                "This station has no connector of this type.",
                errors={"connector_type": ["This station has no connector of this type."]},
            ) from exc

    def tariff_snapshot(self, *, station_id: UUID, connector_type: str, at: datetime) -> TariffSnapshot:
        """Raises NoApplicableTariff (LookupError and NotFound) when the station is unknown or no plan applies."""
        return selectors.tariff_snapshot(station_id=station_id, connector_type=connector_type, at=at)

    def evaluate_promotion(
        self, *, code: str, amount: int, currency: str, station_id: UUID | None, user_id: UUID | None
    ) -> PromotionEvaluation:
        return selectors.promotion_evaluate(
            code=code, amount=amount, currency=currency, station_id=station_id, user_id=user_id
        )

    def apply_promotion(self, *, code: str, invoice_id: UUID) -> PromotionRedemption:
        redemption, _ = services.promotion_apply(code=code, invoice_id=invoice_id)
        return _redemption(redemption)

    def redemption_for_invoice(self, *, invoice_id: UUID) -> PromotionRedemption | None:
        redemption = services.redemption_for_invoice(invoice_id=invoice_id)
        return None if redemption is None else _redemption(redemption)

    def release_promotion(self, *, redemption_id: UUID) -> None:
        """Raises evcharge.errors.NotFound for an unknown redemption; releasing twice is harmless."""
        services.redemption_release(redemption_id=redemption_id)

    def release_promotions_for_invoice(self, *, invoice_id: UUID) -> None:
        services.redemptions_release_for_invoice(invoice_id=invoice_id)


def _redemption(redemption) -> PromotionRedemption:
    return PromotionRedemption(
        redemption_id=redemption.id,
        promotion_id=redemption.promotion_id,
        code=redemption.promotion.code,
        user_id=redemption.user_id,
        amount=redemption.amount,
        discount_amount=redemption.discount_amount,
        currency=redemption.currency,
        reference=redemption.reference,
    )
