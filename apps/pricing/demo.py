"""Demo prices: a default plan per demo operator, a DC rule, and two promotion codes. Idempotent."""

from datetime import timedelta

from django.utils import timezone

from apps.pricing import services
from apps.pricing.models import PricingRule, Promotion, RatePlan
from evcharge.actor import Actor
from evcharge.money import format_money

PLANS = {
    # operator: (default plan, DC plan, DC connector type, currency, prices of each plan as
    # (energy per kWh, per minute, session fee, idle fee per minute, idle grace minutes))
    "voltway": ("Voltway Standard", "Voltway DC Fast", "CCS2", "EUR", (39, 0, 50, 10, 15), (59, 0, 50, 20, 10)),
    "ampere": ("Ampere Standard", "Ampere DC Fast", "CCS1", "USD", (35, 2, 0, 10, 10), (55, 0, 100, 25, 10)),
}
FIELDS = ("energy_price_per_kwh", "time_price_per_min", "session_fee", "idle_fee_per_min", "idle_grace_min")


def _plan(*, operator_id, name, currency, prices, is_default) -> RatePlan:
    plan = RatePlan.objects.filter(operator_id=operator_id, name=name).first()
    if plan is None:
        plan = services.rate_plan_create(
            by=Actor.system(),
            operator_id=operator_id,
            name=name,
            currency=currency,
            is_default=is_default,
            **dict(zip(FIELDS, prices, strict=True)),
        )
    return plan


def _per_kwh(plan: RatePlan) -> str:
    """The plan's energy price as money: 39 minor units of EUR -> "€0.39/kWh"."""
    return f"{format_money(plan.energy_price_per_kwh, plan.currency)}/kWh"


def seed(context: dict) -> None:
    operators = context.get("operators", {})
    system = Actor.system()
    lines = []
    for key, (default_name, dc_name, dc_type, currency, default_prices, dc_prices) in PLANS.items():
        operator_id = operators.get(key)
        if operator_id is None:
            continue
        default = _plan(
            operator_id=operator_id, name=default_name, currency=currency, prices=default_prices, is_default=True
        )
        dc = _plan(operator_id=operator_id, name=dc_name, currency=currency, prices=dc_prices, is_default=False)
        if not PricingRule.objects.filter(rate_plan=dc, connector_type=dc_type, station_id__isnull=True).exists():
            services.rule_create(by=system, rate_plan_id=dc.id, connector_type=dc_type, priority=10)
        lines.append(f"{default.name} ({_per_kwh(default)}, default), {dc.name} for {dc_type} ({_per_kwh(dc)})")

    voltway = operators.get("voltway")
    if voltway is not None:
        now = timezone.now()
        if not Promotion.objects.filter(operator_id=voltway, code_key="WELCOME10").exists():
            services.promotion_create(
                by=system,
                operator_id=voltway,
                code="WELCOME10",
                kind="percent",
                value=10,
                currency="EUR",
                max_discount=500,
                valid_from=now - timedelta(days=1),
                valid_to=now + timedelta(days=365),
                max_per_user=1,
            )
        if not Promotion.objects.filter(operator_id=voltway, code_key="FLAT200").exists():
            services.promotion_create(
                by=system,
                operator_id=voltway,
                code="FLAT200",
                kind="fixed",
                value=200,
                currency="EUR",
                min_amount=1000,
                valid_from=now - timedelta(days=1),
                valid_to=now + timedelta(days=90),
                max_redemptions=100,
            )
        lines.append(
            f"Promotions (Voltway stations, EUR invoices): WELCOME10 (10% off, at most {format_money(500, 'EUR')}, "
            f"once per driver), FLAT200 ({format_money(200, 'EUR')} off from {format_money(1000, 'EUR')}, 100 uses)"
        )
    if lines:
        context.setdefault("summary", []).append("Prices: " + "; ".join(lines))
