"""Prices edited in the admin go through the pricing services, as over the API: pricing.rule.updated.v1
is published and quotes change at once; an operator's staff edit only their own operator's prices."""

import pytest
from django.test import Client

from apps.pricing.models import PricingRule, Promotion, RatePlan

QUOTE = "/api/v1/pricing/quote"
PLAN_FIELDS = {
    "name": "Everyday",
    "currency": "EUR",
    "energy_price_per_kwh": "39",
    "time_price_per_min": "0",
    "session_fee": "0",
    "idle_fee_per_min": "0",
    "idle_grace_min": "0",
    "is_default": "on",
}
NO_RULES = {"rules-TOTAL_FORMS": "0", "rules-INITIAL_FORMS": "0"}
NO_REDEMPTIONS = {"redemptions-TOTAL_FORMS": "0", "redemptions-INITIAL_FORMS": "0"}


@pytest.fixture
def staff(operator_user) -> Client:
    browser = Client()
    browser.force_login(operator_user)
    return browser


@pytest.fixture(params=["operator staff", "superuser"])
def editor(request, operator_user, make_user) -> Client:
    user = operator_user
    if request.param == "superuser":
        user = make_user("admin")
        user.is_superuser = True
        user.save()
    browser = Client()
    browser.force_login(user)
    return browser


def quote(client, station) -> dict:
    response = client.get(QUOTE, {"stationId": str(station.id), "connectorType": "CCS2", "kWh": "10"})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_rate_plan_edited_in_the_admin_is_announced_and_quoted_at_once(
    editor, operator_org, announce_station, make_plan, driver_client, outbox
):
    station = announce_station(operator_org.id)
    plan = make_plan(operator_org.id, name="Everyday", is_default=True, energy_price_per_kwh=39)
    assert quote(driver_client, station)["energy_price_per_kwh"] == 39  # the cache is warm
    before = len(outbox("pricing.rule.updated.v1"))

    url = f"/admin/pricing/rateplan/{plan.id}/change/"
    assert editor.get(url).status_code == 200
    edit = {**PLAN_FIELDS, "energy_price_per_kwh": "45", "operator_id": str(operator_org.id), **NO_RULES}
    response = editor.post(url, edit)  # (operator_id is read-only on a plan's page: ignored)

    assert response.status_code == 302, response.content.decode()[:3000]
    (updated,) = outbox("pricing.rule.updated.v1")[before:]
    assert (updated.data.change, updated.data.fields, updated.data.rate_plan_id) == (
        "updated",
        ["energy_price_per_kwh"],
        plan.id,
    )
    assert quote(driver_client, station)["energy_price_per_kwh"] == 45


def test_operator_staff_add_a_plan_for_their_own_operator(staff, operator_org, other_operator_org, outbox):
    page = staff.get("/admin/pricing/rateplan/add/")
    assert page.status_code == 200 and 'name="operator_id"' not in page.content.decode()
    response = staff.post(
        "/admin/pricing/rateplan/add/",
        {**PLAN_FIELDS, "operator_id": str(other_operator_org.id), **NO_RULES},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = RatePlan.objects.get(name="Everyday")
    assert plan.operator_id == operator_org.id
    assert [e.data.change for e in outbox("pricing.rule.updated.v1")] == ["created"]


def test_a_rule_for_another_operators_plan_or_station_is_refused_in_the_form(
    staff, operator_org, other_operator_org, announce_station, make_plan, outbox
):
    mine = make_plan(operator_org.id, name="Mine")
    theirs = make_plan(other_operator_org.id, name="Theirs")
    their_station = announce_station(other_operator_org.id)
    page = staff.get("/admin/pricing/pricingrule/add/").content.decode()
    assert str(mine.id) in page and str(theirs.id) not in page and "Theirs" not in page
    before = len(outbox("pricing.rule.updated.v1"))

    other_plan = staff.post("/admin/pricing/pricingrule/add/", {"rate_plan": str(theirs.id), "priority": "1"})
    assert other_plan.status_code == 200  # the form again, with its error
    other_station = staff.post(
        "/admin/pricing/pricingrule/add/",
        {"rate_plan": str(mine.id), "station_id": str(their_station.id), "priority": "1"},
    )
    assert other_station.status_code == 200
    assert "another operator" in other_station.content.decode()
    assert not PricingRule.objects.exists()
    assert len(outbox("pricing.rule.updated.v1")) == before

    created = staff.post("/admin/pricing/pricingrule/add/", {"rate_plan": str(mine.id), "priority": "4"})
    assert created.status_code == 302
    assert PricingRule.objects.get().operator_id == operator_org.id
    assert [e.data.change for e in outbox("pricing.rule.updated.v1")[before:]] == ["created"]


def test_deleting_a_plan_goes_through_the_service(staff, operator_org, make_plan, make_rule, outbox):
    used = make_plan(operator_org.id, name="Used")
    make_rule(used)
    unused = make_plan(operator_org.id, name="Unused")
    before = len(outbox("pricing.rule.updated.v1"))

    staff.post(f"/admin/pricing/rateplan/{used.id}/delete/", {"post": "yes"})
    assert RatePlan.objects.filter(id=used.id).exists()
    response = staff.post(f"/admin/pricing/rateplan/{unused.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not RatePlan.objects.filter(id=unused.id).exists()
    assert [(e.data.change, e.data.rate_plan_id) for e in outbox("pricing.rule.updated.v1")[before:]] == [
        ("deleted", unused.id)
    ]


def test_a_promotion_is_switched_off_through_the_service_and_its_terms_stay(staff, operator_org, make_promotion):
    promotion = make_promotion(operator_org.id, code="SPRING", value=10)
    url = f"/admin/pricing/promotion/{promotion.id}/change/"
    page = staff.get(url).content.decode()
    assert 'name="active"' in page and 'name="value"' not in page
    response = staff.post(url, {"value": "100", "max_redemptions": "5", **NO_REDEMPTIONS})
    assert response.status_code == 302, response.content.decode()[:3000]
    promotion = Promotion.objects.get(id=promotion.id)
    assert (promotion.active, promotion.value, promotion.max_redemptions) == (False, 10, 5)


def test_operator_staff_create_a_promotion_through_the_service(staff, operator_org, other_operator_org):
    page = staff.get("/admin/pricing/promotion/add/").content.decode()
    assert 'name="code"' in page and 'name="operator_id"' not in page
    form = {
        "code": "Summer",
        "kind": "percent",
        "value": "150",
        "currency": "EUR",
        "min_amount": "0",
        "valid_from_0": "2026-01-01",
        "valid_from_1": "00:00:00",
        "station_ids": "[]",
        "operator_id": str(other_operator_org.id),
        **NO_REDEMPTIONS,
    }
    refused = staff.post("/admin/pricing/promotion/add/", form)
    assert refused.status_code == 200 and "pricing_percent_at_most_100" in refused.content.decode()
    assert not Promotion.objects.exists()

    created = staff.post("/admin/pricing/promotion/add/", {**form, "value": "15"})
    assert created.status_code == 302, created.content.decode()[:3000]
    promotion = Promotion.objects.get()
    assert (promotion.code_key, promotion.value, promotion.operator_id) == ("SUMMER", 15, operator_org.id)


def test_a_made_up_currency_is_refused_in_the_admin(staff, operator_org, make_plan, outbox):
    plan = make_plan(operator_org.id, name="Everyday")
    before = len(outbox("pricing.rule.updated.v1"))
    response = staff.post(f"/admin/pricing/rateplan/{plan.id}/change/", {**PLAN_FIELDS, "currency": "ZZZ", **NO_RULES})
    assert response.status_code == 200 and "ISO 4217" in response.content.decode()
    assert RatePlan.objects.get(id=plan.id).currency == "EUR"
    assert len(outbox("pricing.rule.updated.v1")) == before
