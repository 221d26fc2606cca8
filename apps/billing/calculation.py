"""The arithmetic of a session's invoice lines: pure functions over integers, exact fractions,
each line rounded once, half to even.

- energy:      round_half_even(energy_wh x energy_price_per_kwh / 1000)
- time:        round_half_even(duration_seconds / 60 x time_price_per_min); the duration is
               ended_at - started_at in whole seconds (sub-second remainders are dropped)
- session fee: session_fee, once
- idle fee:    round_half_even(max(0, idle_seconds - idle_grace_min x 60) / 60 x idle_fee_per_min), where
               idle_seconds = ended_at - charging_ended_at in whole seconds (0 when charging_ended_at is None)
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from evcharge.contracts.pricing import TariffSnapshot

THOUSANDTH = Decimal("0.001")


def round_half_even(value: Fraction) -> int:
    """Python's round() of a Fraction is exact and rounds ties to the even neighbour."""
    return round(value)


def line_amount(*, quantity: Decimal | Fraction | int, unit_amount: int) -> int:
    return round_half_even(Fraction(quantity) * unit_amount)


def whole_seconds(delta: timedelta) -> int:
    return max(0, delta // timedelta(seconds=1))


def shown_quantity(value: Fraction) -> Decimal:
    """A quantity as displayed on the line (3 decimals); amounts never use this rounded value."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(THOUSANDTH, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, kw_only=True)
class ComputedLine:
    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_amount: int
    amount: int


@dataclass(frozen=True, kw_only=True)
class SessionFacts:
    energy_wh: int
    started_at: datetime
    ended_at: datetime
    charging_ended_at: datetime | None


def _minutes_text(seconds: int) -> str:
    return f"{seconds // 60} min {seconds % 60:02d} s"


def session_lines(*, facts: SessionFacts, tariff: TariffSnapshot) -> list[ComputedLine]:
    """The lines of a completed session, in a fixed order. Lines of a zero rate are left out,
    except energy, which is always shown."""
    lines: list[ComputedLine] = []
    energy_wh = max(0, facts.energy_wh)
    lines.append(
        ComputedLine(
            kind="energy",
            description=f"Energy {Decimal(energy_wh) / 1000:.3f} kWh",
            quantity=(Decimal(energy_wh) / 1000).quantize(THOUSANDTH),
            unit="kWh",
            unit_amount=tariff.energy_price_per_kwh,
            amount=round_half_even(Fraction(energy_wh * tariff.energy_price_per_kwh, 1000)),
        )
    )

    duration_seconds = whole_seconds(facts.ended_at - facts.started_at)
    if tariff.time_price_per_min:
        minutes = Fraction(duration_seconds, 60)
        lines.append(
            ComputedLine(
                kind="time",
                description=f"Charging time {_minutes_text(duration_seconds)}",
                quantity=shown_quantity(minutes),
                unit="min",
                unit_amount=tariff.time_price_per_min,
                amount=round_half_even(minutes * tariff.time_price_per_min),
            )
        )

    if tariff.session_fee:
        lines.append(
            ComputedLine(
                kind="session_fee",
                description="Session fee",
                quantity=Decimal(1).quantize(THOUSANDTH),
                unit="item",
                unit_amount=tariff.session_fee,
                amount=tariff.session_fee,
            )
        )

    if tariff.idle_fee_per_min and facts.charging_ended_at is not None:
        charging_ended_at = min(max(facts.charging_ended_at, facts.started_at), facts.ended_at)
        idle_seconds = whole_seconds(facts.ended_at - charging_ended_at)
        billable_seconds = max(0, idle_seconds - tariff.idle_grace_min * 60)
        if billable_seconds:
            minutes = Fraction(billable_seconds, 60)
            lines.append(
                ComputedLine(
                    kind="idle_fee",
                    description=(
                        f"Idle fee: {_minutes_text(billable_seconds)} beyond the {tariff.idle_grace_min} min grace"
                    ),
                    quantity=shown_quantity(minutes),
                    unit="min",
                    unit_amount=tariff.idle_fee_per_min,
                    amount=round_half_even(minutes * tariff.idle_fee_per_min),
                )
            )
    return lines


def estimated_hold(*, tariff: TariffSnapshot, estimated_wh: int, estimated_minutes: int) -> int:
    """The provisional hold recorded at session start: an estimate of a typical session's price."""
    return (
        round_half_even(Fraction(estimated_wh * tariff.energy_price_per_kwh, 1000))
        + estimated_minutes * tariff.time_price_per_min
        + tariff.session_fee
    )
