"""Serializer fields for values every context takes: currencies and money amounts with their bounds."""

from rest_framework import serializers

from evcharge.money import MAX_AMOUNT, is_currency


class CurrencyField(serializers.CharField):
    """An ISO 4217 code of a currency in circulation ("EUR"); anything else is a 400 naming the field."""

    default_error_messages = {"invalid_currency": "{value!r} is not an ISO 4217 currency code in circulation."}

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "ISO 4217 currency code, e.g. EUR")
        super().__init__(min_length=3, max_length=3, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).upper()
        if not is_currency(value):
            self.fail("invalid_currency", value=value)
        return value


class AmountField(serializers.IntegerField):
    """An amount in minor units of its currency, 0..MAX_AMOUNT unless told otherwise."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        kwargs.setdefault("help_text", "Minor units of the currency (cents for EUR: 39 = €0.39)")
        super().__init__(**kwargs)
