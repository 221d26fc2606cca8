"""Rate plans and rules over HTTP: who may do what, validation, pricing.rule.updated.v1."""

import uuid

PLANS = "/api/v1/pricing/rate-plans"
RULES = "/api/v1/pricing/rules"
PLAN_BODY = {
    "name": "Standard",
    "currency": "eur",
    "energy_price_per_kwh": 39,
    "time_price_per_min": 1,
    "session_fee": 50,
    "idle_fee_per_min": 10,
    "idle_grace_min": 15,
    "is_default": True,
}


def test_operator_manages_own_plans_and_events_are_published(operator_client, operator_org, outbox):
    created = operator_client.post(PLANS, PLAN_BODY, format="json")
    assert created.status_code == 201, created.content
    plan = created.json()
    assert plan["currency"] == "EUR"
    assert plan["operator_id"] == str(operator_org.id)
    assert plan["is_default"] is True

    listed = operator_client.get(PLANS).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == plan["id"]

    patched = operator_client.patch(f"{PLANS}/{plan['id']}", {"session_fee": 0}, format="json")
    assert patched.status_code == 200
    assert patched.json()["session_fee"] == 0
    assert operator_client.delete(f"{PLANS}/{plan['id']}").status_code == 204
    assert operator_client.get(f"{PLANS}/{plan['id']}").status_code == 404

    events = outbox("pricing.rule.updated.v1")
    assert [e.data.change for e in events] == ["created", "updated", "deleted"]
    assert events[1].data.fields == ["session_fee"]
    assert all(e.data.operator_id == operator_org.id for e in events)
    assert str(events[0].data.rate_plan_id) == plan["id"]


def test_new_default_plan_replaces_the_old_one(operator_client):
    first = operator_client.post(PLANS, PLAN_BODY, format="json").json()
    second = operator_client.post(PLANS, {**PLAN_BODY, "name": "New"}, format="json").json()
    assert operator_client.get(f"{PLANS}/{first['id']}").json()["is_default"] is False
    assert operator_client.get(f"{PLANS}/{second['id']}").json()["is_default"] is True
    operator_client.patch(f"{PLANS}/{first['id']}", {"is_default": True}, format="json")
    assert operator_client.get(f"{PLANS}/{second['id']}").json()["is_default"] is False


def test_operators_never_see_or_touch_other_operators_plans(operator_client, other_operator_client):
    plan = operator_client.post(PLANS, PLAN_BODY, format="json").json()
    assert other_operator_client.get(PLANS).json()["count"] == 0
    assert other_operator_client.get(f"{PLANS}/{plan['id']}").status_code == 404
    assert other_operator_client.patch(f"{PLANS}/{plan['id']}", {"name": "x"}, format="json").status_code == 404
    assert other_operator_client.delete(f"{PLANS}/{plan['id']}").status_code == 404
    rule = other_operator_client.post(RULES, {"rate_plan_id": plan["id"]}, format="json")
    assert rule.status_code == 400
    assert "rate_plan_id" in rule.json()["errors"]


def test_drivers_may_not_manage_prices(driver_client):
    assert driver_client.get(PLANS).status_code == 403
    assert driver_client.post(PLANS, PLAN_BODY, format="json").status_code == 403
    assert driver_client.get(RULES).status_code == 403


def test_admin_must_name_an_existing_operator(admin_client, operator_org):
    missing = admin_client.post(PLANS, PLAN_BODY, format="json")
    assert missing.status_code == 400
    assert "operator_id" in missing.json()["errors"]
    unknown = admin_client.post(PLANS, {**PLAN_BODY, "operator_id": str(uuid.uuid4())}, format="json")
    assert unknown.status_code == 400
    created = admin_client.post(PLANS, {**PLAN_BODY, "operator_id": str(operator_org.id)}, format="json")
    assert created.status_code == 201
    assert admin_client.get(PLANS).json()["count"] == 1


def test_plan_validation(operator_client):
    for bad in (
        {**PLAN_BODY, "energy_price_per_kwh": -1},
        {**PLAN_BODY, "energy_price_per_kwh": 0.39},
        {**PLAN_BODY, "currency": "EURO"},
        {**PLAN_BODY, "name": ""},
    ):
        response = operator_client.post(PLANS, bad, format="json")
        assert response.status_code == 400, bad
        assert response["Content-Type"] == "application/problem+json"


def test_rules_crud_and_window_validation(operator_client, outbox):
    plan = operator_client.post(PLANS, PLAN_BODY, format="json").json()
    station_id = str(uuid.uuid4())
    created = operator_client.post(
        RULES,
        {"rate_plan_id": plan["id"], "station_id": station_id, "connector_type": "ccs2", "priority": 5},
        format="json",
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert (rule["connector_type"], rule["specificity"], rule["priority"]) == ("CCS2", 3, 5)

    bad_window = operator_client.post(
        RULES,
        {"rate_plan_id": plan["id"], "valid_from": "2026-01-02T00:00:00Z", "valid_to": "2026-01-01T00:00:00Z"},
        format="json",
    )
    assert bad_window.status_code == 400
    assert "valid_to" in bad_window.json()["errors"]
    assert (
        operator_client.post(RULES, {"rate_plan_id": plan["id"], "connector_type": "X"}, format="json").status_code
        == 400
    )

    assert operator_client.get(RULES, {"station_id": station_id}).json()["count"] == 1
    assert operator_client.patch(f"{RULES}/{rule['id']}", {"priority": 7}, format="json").json()["priority"] == 7
    in_use = operator_client.delete(f"{PLANS}/{plan['id']}")
    assert in_use.status_code == 409
    assert operator_client.delete(f"{RULES}/{rule['id']}").status_code == 204

    rule_events = [e.data for e in outbox("pricing.rule.updated.v1") if e.data.rule_id]
    assert [(e.change, str(e.rule_id)) for e in rule_events] == [
        ("created", rule["id"]),
        ("updated", rule["id"]),
        ("deleted", rule["id"]),
    ]


def test_rule_for_another_operators_known_station_is_refused(operator_client, other_operator_org, announce_station):
    foreign_station = announce_station(other_operator_org.id)
    plan = operator_client.post(PLANS, PLAN_BODY, format="json").json()
    response = operator_client.post(
        RULES, {"rate_plan_id": plan["id"], "station_id": str(foreign_station.id)}, format="json"
    )
    assert response.status_code == 400
    assert "station_id" in response.json()["errors"]
