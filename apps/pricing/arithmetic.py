"""Money arithmetic of pricing, exactly as CONTRACT.md states it. Pure functions, no Django.

Every amount is an integer in minor units (cents). Each line is computed exactly (integer or
Fraction arithmetic, never floats) and rounded ONCE, half to even ("banker's rounding"):

    energy line   = round_half_even(energy_wh * energy_price_per_kwh / 1000)
    time line     = round_half_even(duration_s * time_price_per_min / 60)
    idle line     = round_half_even(max(0, idle_s - idle_grace_min * 60) * idle_fee_per_min / 60)
    session fee   = session_fee (already an integer)
    percent off   = min(round_half_even(amount * percent / 100), max_discount), never above amount
    fixed off     = min(value, amount)

Billing keeps its own copy of these rules over the tariff snapshot; keep both in step with CONTRACT.md.
"""

import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction

WH_PER_KWH = 1000
SECONDS_PER_MINUTE = 60


def round_half_even(value: Fraction | int) -> int:
    """Rounds an exact rational to the nearest integer; an exact .5 goes to the even neighbour.
    round_half_even(Fraction(5, 2)) == 2, round_half_even(Fraction(7, 2)) == 4, (-5/2) -> -2."""
    value = Fraction(value)
    floor = value.numerator // value.denominator
    remainder = value - floor
    if remainder > Fraction(1, 2):
        return floor + 1
    if remainder < Fraction(1, 2):
        return floor
    return floor if floor % 2 == 0 else floor + 1


def energy_amount(*, energy_wh: int, energy_price_per_kwh: int) -> int:
    """The energy line: energy_wh * price_per_kwh / 1000, rounded half to even.
    12_345 Wh at 39/kWh = 481.455 -> 481; 500 Wh at 1/kWh = 0.5 -> 0; 1_500 Wh at 1/kWh = 1.5 -> 2."""
    _check_non_negative(energy_wh=energy_wh, energy_price_per_kwh=energy_price_per_kwh)
    return round_half_even(Fraction(energy_wh * energy_price_per_kwh, WH_PER_KWH))


def time_amount(*, duration_s: int, time_price_per_min: int) -> int:
    """The time line: minutes (exact, from seconds) * price per minute, rounded half to even."""
    _check_non_negative(duration_s=duration_s, time_price_per_min=time_price_per_min)
    return round_half_even(Fraction(duration_s * time_price_per_min, SECONDS_PER_MINUTE))


def idle_amount(*, idle_s: int, idle_fee_per_min: int, idle_grace_min: int) -> int:
    """The idle line: the idle time beyond the grace period, per minute, rounded half to even."""
    _check_non_negative(idle_s=idle_s, idle_fee_per_min=idle_fee_per_min, idle_grace_min=idle_grace_min)
    billable_s = max(0, idle_s - idle_grace_min * SECONDS_PER_MINUTE)
    return round_half_even(Fraction(billable_s * idle_fee_per_min, SECONDS_PER_MINUTE))


def estimated_total(*, energy_wh: int, energy_price_per_kwh: int, session_fee: int) -> int:
    """What a quote estimates: the session fee plus the energy line (time and idle are unknown ahead)."""
    return session_fee + energy_amount(energy_wh=energy_wh, energy_price_per_kwh=energy_price_per_kwh)


def charging_seconds(*, energy_wh: int, power_kw: float | None) -> int | None:
    """The shortest time to deliver energy_wh at power_kw, in whole seconds rounded up; None without a power.
    22_000 Wh at 22 kW = 3600 s; 10_000 Wh at 7.4 kW = 4865 s."""
    if not power_kw:
        return None
    return math.ceil(Fraction(energy_wh) * 3600 / (Fraction(str(power_kw)) * WH_PER_KWH))


def percent_discount(*, amount: int, percent: int, max_discount: int | None = None) -> int:
    """round_half_even(amount * percent / 100), capped by max_discount, never more than the amount
    nor below zero. 1_005 at 10% = 100.5 -> 100; 1_015 at 10% = 101.5 -> 102."""
    _check_non_negative(amount=amount, percent=percent)
    discount = round_half_even(Fraction(amount * percent, 100))
    if max_discount is not None:
        discount = min(discount, max_discount)
    return max(0, min(discount, amount))


def fixed_discount(*, amount: int, value: int) -> int:
    """A fixed amount off, never more than the amount itself (the total never goes below zero)."""
    _check_non_negative(amount=amount, value=value)
    return min(value, amount)


def kwh_to_wh(kwh: str | int | Decimal) -> int:
    """A decimal kWh figure ("12.5", "0.0015") as whole Wh, rounded half to even. Raises ValueError
    for anything that is not a finite decimal number."""
    try:
        value = Decimal(str(kwh).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{kwh!r} is not a number") from exc
    if not value.is_finite():
        raise ValueError(f"{kwh!r} is not a finite number")
    return int((value * WH_PER_KWH).to_integral_value(rounding=ROUND_HALF_EVEN))


def _check_non_negative(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
