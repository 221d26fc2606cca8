"""The line arithmetic of CONTRACT.md on hand-computed examples (pure functions, no database)."""

from fractions import Fraction

import pytest

from apps.pricing import arithmetic as a

pytestmark = pytest.mark.django_db  # pure functions: no commits needed, a rolled-back transaction is enough


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(1, 2), 0),
        (Fraction(3, 2), 2),
        (Fraction(5, 2), 2),
        (Fraction(7, 2), 4),
        (Fraction(-5, 2), -2),
        (Fraction(2501, 1000), 3),
        (Fraction(2499, 1000), 2),
        (7, 7),
    ],
)
def test_round_half_even(value, expected):
    assert a.round_half_even(value) == expected


@pytest.mark.parametrize(
    ("energy_wh", "price", "expected"),
    [
        (12_345, 39, 481),  # 481.455
        (10_000, 39, 390),
        (500, 1, 0),  # 0.5 -> 0 (even)
        (1_500, 1, 2),  # 1.5 -> 2 (even)
        (2_500, 1, 2),  # 2.5 -> 2 (even)
        (12_500, 39, 488),  # 487.5 -> 488 (even)
        (11_500, 39, 448),  # 448.5 -> 448 (even)
        (0, 39, 0),
    ],
)
def test_energy_line(energy_wh, price, expected):
    assert a.energy_amount(energy_wh=energy_wh, energy_price_per_kwh=price) == expected


def test_time_and_idle_lines():
    assert a.time_amount(duration_s=90, time_price_per_min=5) == 8  # 7.5 -> 8
    assert a.time_amount(duration_s=30, time_price_per_min=5) == 2  # 2.5 -> 2
    assert a.idle_amount(idle_s=20 * 60, idle_fee_per_min=10, idle_grace_min=15) == 50
    assert a.idle_amount(idle_s=10 * 60, idle_fee_per_min=10, idle_grace_min=15) == 0
    assert a.idle_amount(idle_s=15 * 60 + 3, idle_fee_per_min=10, idle_grace_min=15) == 0  # 0.5 -> 0


def test_estimated_total_is_session_fee_plus_energy_line():
    assert a.estimated_total(energy_wh=12_345, energy_price_per_kwh=39, session_fee=50) == 531


@pytest.mark.parametrize(
    ("amount", "percent", "cap", "expected"),
    [
        (1_005, 10, None, 100),  # 100.5 -> 100
        (1_015, 10, None, 102),  # 101.5 -> 102
        (10_000, 10, 500, 500),  # 1000 capped at 500
        (4_000, 10, 500, 400),
        (50, 100, None, 50),
        (0, 10, None, 0),
    ],
)
def test_percent_discount(amount, percent, cap, expected):
    assert a.percent_discount(amount=amount, percent=percent, max_discount=cap) == expected


def test_fixed_discount_never_below_zero():
    assert a.fixed_discount(amount=1_000, value=200) == 200
    assert a.fixed_discount(amount=150, value=200) == 150
    assert a.fixed_discount(amount=0, value=200) == 0


def test_kwh_to_wh_and_bad_input():
    assert a.kwh_to_wh("12.5") == 12_500
    assert a.kwh_to_wh("0.0005") == 0  # 0.5 Wh -> 0 (even)
    assert a.kwh_to_wh("0.0015") == 2  # 1.5 Wh -> 2
    for bad in ("abc", "NaN", "Infinity", ""):
        with pytest.raises(ValueError):
            a.kwh_to_wh(bad)
    with pytest.raises(ValueError):
        a.energy_amount(energy_wh=-1, energy_price_per_kwh=39)
    with pytest.raises(TypeError):
        a.energy_amount(energy_wh=1.5, energy_price_per_kwh=39)
