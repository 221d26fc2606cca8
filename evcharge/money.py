"""Money for every context: ISO 4217 currencies with their real minor units, bounds, display.

Amounts are integers in minor units of their currency everywhere (ARCHITECTURE rule 6). This module is
the one table of currencies: pricing, billing, notifications and the reporting dashboard all ask it.
The data is CLDR's (through Babel), restricted to currencies in circulation.
"""

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies

# The largest amount in minor units any price, line, invoice total, discount or payment may hold:
# 10^13 minor units (100 billion EUR) is far beyond any charging bill and leaves room for sums of many
# such amounts in a 64-bit column (2^63 ≈ 9.2 * 10^18).
MAX_AMOUNT = 10**13

# Codes that are legal tender somewhere but are not money a station bills in: precious metals, SDR, test codes.
_NOT_BILLABLE = {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}


@lru_cache(maxsize=1)
def currencies() -> frozenset[str]:
    """ISO 4217 codes of the currencies that are legal tender somewhere today."""
    today = date.today()
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, start_date=today, tender=True))
    return frozenset(codes - _NOT_BILLABLE)


def is_currency(code: object) -> bool:
    return isinstance(code, str) and code in currencies()


def minor_units(currency: str) -> int:
    """Digits after the decimal point: EUR 2, JPY 0, KWD 3."""
    if not is_currency(currency):
        raise ValueError(f"{currency!r} is not an ISO 4217 currency in circulation")
    return get_currency_precision(currency)


def to_major(amount: int, currency: str) -> Decimal:
    """An amount in minor units as an exact decimal in major units: (39, "EUR") -> Decimal("0.39")."""
    return Decimal(amount).scaleb(-minor_units(currency))


def format_money(amount: int, currency: str, locale: str = "en") -> str:
    """(39, "EUR") -> "€0.39"; (500, "JPY") -> "¥500"; locale-aware grouping and symbol placement."""
    return format_currency(to_major(amount, currency), currency, locale=locale)
