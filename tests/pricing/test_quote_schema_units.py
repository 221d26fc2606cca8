"""The quote's schema says its amounts are minor units of the currency (59 means €0.59, not €59)."""


def test_the_quote_schema_says_amounts_are_minor_units(anon):
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    fields = schema["components"]["schemas"]["QuoteOut"]["properties"]
    for name in ("energy_price_per_kwh", "time_price_per_min", "session_fee", "idle_fee_per_min"):
        assert "Minor units of `currency`" in fields[name].get("description", ""), name
    assert "minor units" in fields["estimated_total"]["description"]
    assert "max_power_kw" in fields and "estimated_duration_min" in fields
