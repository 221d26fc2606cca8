import pytest
from rest_framework import serializers

from evcharge.api.fields import AmountField, CurrencyField
from evcharge.money import MAX_AMOUNT, format_money, is_currency, minor_units, to_major

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.mark.parametrize(("code", "digits"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("CHF", 2)])
def test_minor_units_are_iso_4217s(code, digits):
    assert minor_units(code) == digits


@pytest.mark.parametrize("code", ["ABC", "XAU", "XTS", "DEM", "eur", "", None, 978])
def test_made_up_metal_withdrawn_or_malformed_codes_are_not_currencies(code):
    assert not is_currency(code)


def test_amounts_display_in_major_units():
    assert str(to_major(39, "EUR")) == "0.39"
    assert str(to_major(3900, "JPY")) == "3900"
    assert str(to_major(1234, "KWD")) == "1.234"
    assert format_money(39, "EUR") == "€0.39"
    assert format_money(500, "JPY") == "¥500"
    assert format_money(1234, "KWD").endswith("1.234")


class _Body(serializers.Serializer):
    currency = CurrencyField()
    amount = AmountField()


@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        ({"currency": "ABC", "amount": 1}, "currency"),
        ({"currency": "EUR", "amount": 2**70}, "amount"),
        ({"currency": "EUR", "amount": MAX_AMOUNT + 1}, "amount"),
        ({"currency": "EUR", "amount": -1}, "amount"),
    ],
)
def test_fields_refuse_what_no_column_or_business_holds(body, bad_field):
    serializer = _Body(data=body)
    assert not serializer.is_valid()
    assert list(serializer.errors) == [bad_field]


def test_fields_take_lower_case_codes_and_the_largest_amount():
    serializer = _Body(data={"currency": "eur", "amount": MAX_AMOUNT})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"currency": "EUR", "amount": MAX_AMOUNT}
