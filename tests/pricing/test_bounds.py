"""Every numeric input of pricing is bounded (a 400 naming the field, never a 500), money is 64-bit, and
currencies are ISO 4217 codes in circulation."""

import uuid

import pytest

from apps.pricing.models import Promotion, RatePlan, Redemption
from tests.pricing.conftest import create_invoice

HUGE = 2**70
PLANS = "/api/v1/pricing/rate-plans"
RULES = "/api/v1/pricing/rules"
PROMOTIONS = "/api/v1/pricing/promotions"
EVALUATE = "/api/v1/pricing/promotions/evaluate"
APPLY = "/api/v1/pricing/promotions/apply"
PLAN = {"name": "Plan", "currency": "EUR", "energy_price_per_kwh": 39}
PROMOTION = {"code": "BOUNDED", "kind": "fixed", "value": 100, "currency": "EUR"}


@pytest.mark.parametrize(
    "field", ["energy_price_per_kwh", "time_price_per_min", "session_fee", "idle_fee_per_min", "idle_grace_min"]
)
@pytest.mark.parametrize("value", [HUGE, -HUGE, 2**63, 2**31])
def test_rate_plan_numbers_are_bounded(operator_client, field, value):
    created = operator_client.post(PLANS, {**PLAN, field: value}, format="json")
    assert created.status_code == 400, created.content
    assert field in created.json()["errors"]
    plan = operator_client.post(PLANS, PLAN, format="json").json()
    patched = operator_client.patch(f"{PLANS}/{plan['id']}", {field: value}, format="json")
    assert patched.status_code == 400
    assert field in patched.json()["errors"]


@pytest.mark.parametrize("value", [HUGE, -HUGE, 2**31])
def test_rule_priority_is_bounded(operator_client, value):
    plan = operator_client.post(PLANS, PLAN, format="json").json()
    response = operator_client.post(RULES, {"rate_plan_id": plan["id"], "priority": value}, format="json")
    assert response.status_code == 400
    assert "priority" in response.json()["errors"]
    rule = operator_client.post(RULES, {"rate_plan_id": plan["id"]}, format="json").json()
    assert operator_client.patch(f"{RULES}/{rule['id']}", {"priority": value}, format="json").status_code == 400


@pytest.mark.parametrize("field", ["value", "min_amount", "max_discount", "max_redemptions", "max_per_user"])
@pytest.mark.parametrize("value", [HUGE, 2**63, 10**13 + 1])
def test_promotion_numbers_are_bounded(operator_client, field, value):
    response = operator_client.post(PROMOTIONS, {**PROMOTION, field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Promotion.objects.exists()


@pytest.mark.parametrize("field", ["max_redemptions", "max_per_user"])
def test_redemption_limits_fit_their_column(operator_client, field):
    assert operator_client.post(PROMOTIONS, {**PROMOTION, field: 2**31}, format="json").status_code == 400
    created = operator_client.post(PROMOTIONS, {**PROMOTION, field: 2**31 - 1}, format="json")
    assert created.status_code == 201, created.content
    patched = operator_client.patch(f"{PROMOTIONS}/{created.json()['id']}", {field: 2**31}, format="json")
    assert patched.status_code == 400
    assert field in patched.json()["errors"]


@pytest.mark.parametrize("value", [HUGE, -1, 10**13 + 1])
def test_evaluate_amount_is_bounded(driver_client, value):
    response = driver_client.post(EVALUATE, {"code": "X", "amount": value, "currency": "EUR"}, format="json")
    assert response.status_code == 400
    assert "amount" in response.json()["errors"]


def test_quote_kwh_is_bounded(driver_client):
    response = driver_client.get(
        "/api/v1/pricing/quote", {"stationId": str(uuid.uuid4()), "connectorType": "CCS2", "kWh": str(HUGE)}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("currency", ["ABC", "XAU", "EU", "€€€", 123])
def test_currencies_are_iso_4217_codes_in_circulation(operator_client, driver_client, currency):
    plan = operator_client.post(PLANS, {**PLAN, "currency": currency}, format="json")
    assert plan.status_code == 400 and "currency" in plan.json()["errors"]
    promotion = operator_client.post(PROMOTIONS, {**PROMOTION, "currency": currency}, format="json")
    assert promotion.status_code == 400 and "currency" in promotion.json()["errors"]
    evaluate = driver_client.post(EVALUATE, {"code": "X", "amount": 100, "currency": currency}, format="json")
    assert evaluate.status_code == 400 and "currency" in evaluate.json()["errors"]
    assert not RatePlan.objects.exists()


def test_currencies_are_upper_cased_and_use_their_real_minor_units(operator_client, driver_client, driver):
    plan = operator_client.post(PLANS, {**PLAN, "currency": "jpy"}, format="json")
    assert plan.status_code == 201 and plan.json()["currency"] == "JPY"
    operator_client.post(
        PROMOTIONS, {"code": "KWD", "kind": "percent", "value": 5, "currency": "KWD", "min_amount": 5000}, format="json"
    )
    response = driver_client.post(EVALUATE, {"code": "KWD", "amount": 100, "currency": "kwd"}, format="json")
    assert "5.000 KWD" in response.json()["reason"]


@pytest.mark.postgres
def test_redemption_amounts_are_64_bit(operator_org, make_promotion, driver):
    make_promotion(operator_org.id, code="BIG", kind="percent", value=10)
    big = 10**13  # beyond 2**31: an invoice total the old 32-bit columns could not hold
    invoice = create_invoice(user_id=driver.id, operator_id=operator_org.id, total=big)
    from evcharge.contracts import pricing

    redemption = pricing.facade().apply_promotion(code="BIG", invoice_id=invoice.id)
    stored = Redemption.objects.get(id=redemption.redemption_id)
    assert (stored.amount, stored.discount_amount) == (big, big // 10)
