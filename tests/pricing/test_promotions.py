"""Promotions: creation, evaluate (no side effect), apply (limits, idempotency, concurrency), release."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.pricing.models import Promotion, Redemption
from evcharge.contracts import pricing as pricing_contract
from evcharge.contracts.pricing import PromotionRefused
from tests.helpers import run_concurrently
from tests.pricing.conftest import create_invoice

PROMOTIONS = "/api/v1/pricing/promotions"
EVALUATE = "/api/v1/pricing/promotions/evaluate"
APPLY = "/api/v1/pricing/promotions/apply"


def facade():
    return pricing_contract.facade()


def apply(code, *, user_id=None, invoice=None, amount=10_000, currency="EUR", station_id=None):
    """Applies the code to `invoice`, else to a new open invoice of the code's operator with these figures."""
    if invoice is None:
        operator_id = Promotion.objects.filter(code_key=code.upper()).values_list("operator_id", flat=True).first()
        invoice = create_invoice(
            user_id=user_id or uuid.uuid4(),
            operator_id=operator_id or uuid.uuid4(),
            total=amount,
            currency=currency,
            station_id=station_id,
        )
    return facade().apply_promotion(code=code, invoice_id=invoice.id)


def evaluate(code, *, amount=10_000, currency="EUR", station_id=None, user_id=None):
    return facade().evaluate_promotion(
        code=code, amount=amount, currency=currency, station_id=station_id, user_id=user_id
    )


# --- creating ---


def test_operator_creates_and_lists_promotions(operator_client, other_operator_client, operator_org):
    body = {
        "code": "Welcome10",
        "kind": "percent",
        "value": 10,
        "currency": "EUR",
        "max_discount": 500,
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_to": "2027-01-01T00:00:00Z",
        "max_redemptions": 100,
        "max_per_user": 1,
    }
    created = operator_client.post(PROMOTIONS, body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["operator_id"] == str(operator_org.id)
    assert created.json()["redemptions_count"] == 0
    duplicate = operator_client.post(PROMOTIONS, {**body, "code": "WELCOME10"}, format="json")
    assert duplicate.status_code == 400
    assert "code" in duplicate.json()["errors"]
    # Codes are unique per operator only.
    assert other_operator_client.post(PROMOTIONS, body, format="json").status_code == 201
    assert operator_client.get(PROMOTIONS).json()["count"] == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "percent", "value": 101},
        {"kind": "fixed", "value": 200},  # no currency
        {"kind": "bogus", "value": 5},
        {"kind": "percent", "value": 10, "valid_from": "2026-02-01T00:00:00Z", "valid_to": "2026-01-01T00:00:00Z"},
        {"kind": "percent", "value": -5},
    ],
)
def test_promotion_validation(operator_client, bad):
    response = operator_client.post(PROMOTIONS, {"code": "BAD1", **bad}, format="json")
    assert response.status_code == 400, response.content


def test_drivers_may_not_create_promotions(driver_client):
    assert (
        driver_client.post(PROMOTIONS, {"code": "X1X", "kind": "percent", "value": 5}, format="json").status_code == 403
    )


# --- arithmetic and refusals ---


def test_percent_with_cap_fixed_and_never_below_zero(operator_org, make_promotion):
    make_promotion(operator_org.id, code="PCT10", kind="percent", value=10, max_discount=500)
    make_promotion(operator_org.id, code="FLAT200", kind="fixed", value=200)
    assert evaluate("pct10", amount=1_005).discount_amount == 100  # 100.5 -> 100
    assert evaluate("PCT10", amount=1_015).discount_amount == 102  # 101.5 -> 102
    assert evaluate("Pct10", amount=100_000).discount_amount == 500  # capped
    assert evaluate("FLAT200", amount=1_000).discount_amount == 200
    assert evaluate("FLAT200", amount=150).discount_amount == 150  # never below zero
    assert evaluate("FLAT200", amount=0).discount_amount == 0


@pytest.mark.parametrize(
    ("fields", "call", "reason_part"),
    [
        ({}, {"currency": "USD"}, "EUR"),
        ({"valid_to": "PAST"}, {}, "expired"),
        ({"valid_from": "FUTURE"}, {}, "valid from"),
        ({"min_amount": 2_000}, {"amount": 1_999}, "at least 20.00 EUR"),
        ({"station_ids": ["OTHER"]}, {"station_id": "HERE"}, "not valid at this station"),
        ({"max_redemptions": 1, "_used": 1}, {}, "fully redeemed"),
    ],
)
def test_refusals_have_a_reason_for_the_driver(operator_org, make_promotion, fields, call, reason_part):
    now = timezone.now()
    here, other = uuid.uuid4(), uuid.uuid4()
    values = {"PAST": now - timedelta(days=1), "FUTURE": now + timedelta(days=1)}
    fields = {k: values.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}
    if "station_ids" in fields:
        fields["station_ids"] = [other]
    used = fields.pop("_used", 0)
    if fields.get("valid_to"):
        fields["valid_from"] = now - timedelta(days=10)
    make_promotion(operator_org.id, code="CODE1", **fields)
    for _ in range(used):
        apply("CODE1")
    call = {**call, "station_id": here} if call.get("station_id") else call
    evaluation = evaluate("CODE1", **call)
    assert evaluation.valid is False
    assert reason_part in evaluation.reason
    with pytest.raises(PromotionRefused) as refused:
        apply("CODE1", **call)
    assert reason_part in refused.value.reason


def test_unknown_code_is_refused_with_422_over_http(driver_client, driver, operator_org, make_invoice):
    invoice = make_invoice(user_id=driver.id, operator_id=operator_org.id)
    response = driver_client.post(APPLY, {"code": "NOPE", "reference": str(invoice.id)}, format="json")
    assert response.status_code == 422
    assert response.json()["detail"] == "This promotion code does not exist."
    assert response.json()["code"] == "unknown"


def test_evaluate_has_no_side_effect(operator_org, make_promotion, driver_client):
    promotion = make_promotion(operator_org.id, code="ONCE", max_redemptions=1)
    for _ in range(3):
        response = driver_client.post(EVALUATE, {"code": "once", "amount": 1000, "currency": "EUR"}, format="json")
        assert response.status_code == 200
        assert response.json() == {"valid": True, "discount_amount": 100, "promotion_id": str(promotion.id)}
    assert Redemption.objects.count() == 0
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 0
    refused = driver_client.post(EVALUATE, {"code": "once", "amount": 1000, "currency": "USD"}, format="json").json()
    assert refused["valid"] is False and refused["discount_amount"] == 0 and "EUR" in refused["reason"]


def test_same_code_in_two_operators_is_told_apart_by_the_station(
    operator_org, other_operator_org, make_promotion, announce_station
):
    make_promotion(operator_org.id, code="SAME", value=10)
    make_promotion(other_operator_org.id, code="SAME", value=20)
    theirs = announce_station(other_operator_org.id)
    assert evaluate("SAME", station_id=theirs.id).discount_amount == 2_000
    assert evaluate("SAME").valid is False  # ambiguous without a station


def test_operator_wide_code_refused_at_another_operators_station(
    operator_org, other_operator_org, make_promotion, announce_station
):
    make_promotion(operator_org.id, code="MINE")
    foreign = announce_station(other_operator_org.id)
    assert "not valid at this station" in evaluate("MINE", station_id=foreign.id).reason


# --- apply over HTTP: to one's own open invoice, the discount from its real total ---


def test_apply_records_a_redemption_and_is_idempotent(
    operator_org, make_promotion, driver_client, driver, make_invoice
):
    promotion = make_promotion(operator_org.id, code="TEN", max_discount=500)
    invoice = make_invoice(user_id=driver.id, operator_id=operator_org.id, total=1_015)
    body = {"code": "ten", "reference": str(invoice.id)}
    first = driver_client.post(APPLY, body, format="json")
    assert first.status_code == 201, first.content
    redemption = first.json()
    assert redemption["discount_amount"] == 102
    assert (redemption["amount"], redemption["currency"]) == (1_015, "EUR")
    assert redemption["user_id"] == str(driver.id)
    assert redemption["status"] == "active"
    again = driver_client.post(APPLY, body, format="json")  # same code + invoice: re-checked, the same one
    assert again.status_code == 200
    assert again.json()["id"] == redemption["id"]

    other = make_invoice(user_id=driver.id, operator_id=operator_org.id, total=1_015)
    keyed = driver_client.post(
        APPLY, {**body, "reference": str(other.id)}, format="json", HTTP_IDEMPOTENCY_KEY="checkout-43"
    )
    replay = driver_client.post(
        APPLY, {**body, "reference": str(other.id)}, format="json", HTTP_IDEMPOTENCY_KEY="checkout-43"
    )
    assert keyed.status_code == replay.status_code == 201
    assert replay.json()["id"] == keyed.json()["id"]
    assert replay["Idempotent-Replayed"] == "true"
    reused = driver_client.post(APPLY, body, format="json", HTTP_IDEMPOTENCY_KEY="checkout-43")
    assert reused.status_code == 409

    promotion.refresh_from_db()
    assert promotion.redemptions_count == 2
    assert Redemption.objects.filter(promotion=promotion).count() == 2


@pytest.mark.parametrize(
    "forged",
    [
        {"amount": 1_000_000_000},
        {"amount": 2**70},
        {"currency": "USD"},
        {"amount": 1_000_000_000, "currency": "EUR"},
        {"user_id": None},
    ],
)
def test_a_clients_figures_are_refused(operator_org, make_promotion, driver_client, driver, make_invoice, forged):
    promotion = make_promotion(operator_org.id, code="TEN")
    invoice = make_invoice(user_id=driver.id, operator_id=operator_org.id, total=628)
    response = driver_client.post(APPLY, {"code": "TEN", "reference": str(invoice.id), **forged}, format="json")
    assert response.status_code == 400, response.content
    assert set(forged) <= set(response.json()["errors"])
    assert not Redemption.objects.exists()
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 0


def test_made_up_references_are_refused_and_burn_nothing(operator_org, make_promotion, driver_client):
    promotion = make_promotion(operator_org.id, code="SCARCE", max_redemptions=1)
    not_an_invoice = driver_client.post(APPLY, {"code": "SCARCE", "reference": "inv-1"}, format="json")
    assert not_an_invoice.status_code == 400
    assert "reference" in not_an_invoice.json()["errors"]
    for _ in range(3):
        unknown = driver_client.post(APPLY, {"code": "SCARCE", "reference": str(uuid.uuid4())}, format="json")
        assert unknown.status_code == 404
        assert unknown.json()["code"] == "unknown_invoice"
    assert not Redemption.objects.exists()
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 0
    assert evaluate("SCARCE").valid is True  # the single use is still there for a real invoice


def test_another_drivers_invoice_is_not_found(
    operator_org, other_operator_org, make_promotion, driver_client, other_driver, operator_client, make_invoice
):
    promotion = make_promotion(operator_org.id, code="SELF")
    theirs = make_invoice(user_id=other_driver.id, operator_id=operator_org.id)
    response = driver_client.post(APPLY, {"code": "SELF", "reference": str(theirs.id)}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    foreign = make_invoice(user_id=other_driver.id, operator_id=other_operator_org.id)
    assert operator_client.post(APPLY, {"code": "SELF", "reference": str(foreign.id)}, format="json").status_code == 404
    promotion.refresh_from_db()
    assert (promotion.redemptions_count, Redemption.objects.count()) == (0, 0)
    # the station's operator may apply it on the driver's behalf: the redemption is the invoice owner's
    on_behalf = operator_client.post(APPLY, {"code": "SELF", "reference": str(theirs.id)}, format="json")
    assert on_behalf.status_code == 201, on_behalf.content
    assert on_behalf.json()["user_id"] == str(other_driver.id)


@pytest.mark.parametrize("status", ["draft", "paid", "void", "refunded"])
def test_only_an_open_invoice_takes_a_code(operator_org, make_promotion, driver_client, driver, make_invoice, status):
    promotion = make_promotion(operator_org.id, code="OPENONLY")
    invoice = make_invoice(user_id=driver.id, operator_id=operator_org.id, status=status)
    response = driver_client.post(APPLY, {"code": "OPENONLY", "reference": str(invoice.id)}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invoice_not_open"
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 0


def test_a_redemption_is_recomputed_when_applied_again(operator_org, make_promotion, driver, make_invoice):
    promotion = make_promotion(operator_org.id, code="RECOMPUTE", max_redemptions=1)
    invoice = make_invoice(user_id=driver.id, operator_id=operator_org.id, total=1_000)
    first = apply("RECOMPUTE", invoice=invoice)
    assert first.discount_amount == 100
    # a forged row (what a client's `amount` used to make) is never handed back as it was
    Redemption.objects.filter(id=first.redemption_id).update(amount=1_000_000_000, discount_amount=100_000_000)
    invoice.subtotal_amount = invoice.total_amount = 2_000
    invoice.save()
    again = apply("RECOMPUTE", invoice=invoice)  # also: the one use in force is this invoice's own
    assert (again.redemption_id, again.amount, again.discount_amount) == (first.redemption_id, 2_000, 200)
    assert facade().redemption_for_invoice(invoice_id=invoice.id).discount_amount == 200
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 1


def test_another_code_for_the_same_invoice_releases_the_first(operator_org, make_promotion, driver, make_invoice):
    first_promotion = make_promotion(operator_org.id, code="FIRST", max_redemptions=1)
    make_promotion(operator_org.id, code="SECOND", value=20)
    invoice = make_invoice(user_id=driver.id, operator_id=operator_org.id, total=1_000)
    first = apply("FIRST", invoice=invoice)
    second = apply("SECOND", invoice=invoice)
    assert Redemption.objects.get(id=first.redemption_id).status == "released"
    first_promotion.refresh_from_db()
    assert first_promotion.redemptions_count == 0
    assert facade().redemption_for_invoice(invoice_id=invoice.id).redemption_id == second.redemption_id


def test_per_user_limit(operator_org, make_promotion):
    make_promotion(operator_org.id, code="ONEEACH", max_per_user=1)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    apply("ONEEACH", user_id=alice)
    with pytest.raises(PromotionRefused) as refused:
        apply("ONEEACH", user_id=alice)
    assert refused.value.code == "per_user_limit"
    assert "only once" in refused.value.reason
    assert evaluate("ONEEACH", user_id=alice).valid is False
    apply("ONEEACH", user_id=bob)


# --- release after a failed payment ---


def test_release_after_failed_payment_gives_the_use_back(operator_org, make_promotion, operator_client):
    promotion = make_promotion(operator_org.id, code="LAST", max_redemptions=1, max_per_user=1)
    user = uuid.uuid4()
    invoice = create_invoice(user_id=user, operator_id=operator_org.id)
    redemption = apply("LAST", invoice=invoice)
    with pytest.raises(PromotionRefused):
        apply("LAST")

    facade().release_promotion(redemption_id=redemption.redemption_id)  # the payment failed
    facade().release_promotion(redemption_id=redemption.redemption_id)  # twice is harmless
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 0
    assert Redemption.objects.get(id=redemption.redemption_id).status == "released"

    retried = apply("LAST", invoice=invoice)  # the driver retries the same invoice
    assert retried.redemption_id == redemption.redemption_id
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 1

    released = operator_client.post(f"/api/v1/pricing/redemptions/{retried.redemption_id}/release")
    assert released.status_code == 200
    assert released.json()["status"] == "released"
    listed = operator_client.get(PROMOTIONS).json()["results"][0]
    assert (listed["redemptions_count"], listed["redemptions_total"]) == (0, 1)


def test_release_of_unknown_redemption_is_not_found(driver_client, other_operator_client, operator_org, make_promotion):
    from evcharge.errors import NotFound

    with pytest.raises(NotFound):
        facade().release_promotion(redemption_id=uuid.uuid4())
    make_promotion(operator_org.id, code="OWN")
    redemption = apply("OWN")
    url = f"/api/v1/pricing/redemptions/{redemption.redemption_id}/release"
    assert other_operator_client.post(url).status_code == 404
    assert driver_client.post(url).status_code == 403


# --- concurrency (real threads, PostgreSQL row locks) ---


@pytest.mark.postgres
def test_concurrent_applies_with_k_uses_left_exactly_k_succeed(operator_org, make_promotion):
    promotion = make_promotion(operator_org.id, code="RUSH", max_redemptions=5)
    apply("RUSH")
    apply("RUSH")  # K = 3 uses left

    invoices = [create_invoice(user_id=uuid.uuid4(), operator_id=operator_org.id) for _ in range(10)]
    results = run_concurrently(lambda i: apply("RUSH", invoice=invoices[i]), 10)

    succeeded = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, PromotionRefused)]
    assert len(succeeded) == 3, results
    assert len(refused) == 7 and all(r.code == "exhausted" for r in refused)
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 5
    assert Redemption.objects.filter(promotion=promotion, status="active").count() == 5


@pytest.mark.postgres
def test_concurrent_applies_by_one_user_respect_the_per_user_limit(operator_org, make_promotion):
    promotion = make_promotion(operator_org.id, code="TWICE", max_per_user=2)
    user = uuid.uuid4()
    invoices = [create_invoice(user_id=user, operator_id=operator_org.id) for _ in range(8)]
    results = run_concurrently(lambda i: apply("TWICE", invoice=invoices[i]), 8)
    assert sum(not isinstance(r, BaseException) for r in results) == 2, results
    assert all(r.code == "per_user_limit" for r in results if isinstance(r, BaseException))
    assert Redemption.objects.filter(promotion=promotion, user_id=user).count() == 2


@pytest.mark.postgres
def test_concurrent_applies_of_one_reference_make_one_redemption(operator_org, make_promotion):
    promotion = make_promotion(operator_org.id, code="DOUBLECLICK", max_redemptions=10)
    user = uuid.uuid4()
    invoice = create_invoice(user_id=user, operator_id=operator_org.id)
    results = run_concurrently(lambda i: apply("DOUBLECLICK", invoice=invoice), 6)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len({r.redemption_id for r in results}) == 1
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 1


def test_promotion_row_counts_only_active_redemptions(operator_org, make_promotion):
    promotion = make_promotion(operator_org.id, code="COUNT")
    first = apply("COUNT")
    apply("COUNT")
    facade().release_promotion(redemption_id=first.redemption_id)
    assert Promotion.objects.get(id=promotion.id).redemptions_count == 1


@pytest.mark.postgres
def test_concurrent_http_applies_by_many_drivers_with_k_uses_left_exactly_k_succeed(
    operator_org, make_promotion, make_user, client_for, make_invoice
):
    promotion = make_promotion(operator_org.id, code="HTTPRUSH", max_redemptions=3)
    drivers = [make_user("driver") for _ in range(8)]
    invoices = [make_invoice(user_id=d.id, operator_id=operator_org.id, total=1_000) for d in drivers]
    clients = [client_for(d) for d in drivers]

    def post(i):
        return clients[i].post(APPLY, {"code": "HTTPRUSH", "reference": str(invoices[i].id)}, format="json")

    statuses = sorted(r.status_code for r in run_concurrently(post, 8))
    assert statuses == [201] * 3 + [422] * 5, statuses
    promotion.refresh_from_db()
    assert promotion.redemptions_count == 3
    assert Redemption.objects.filter(promotion=promotion, status="active").count() == 3
