"""Which rate plan applies: assignment > rule (specificity, then priority, within validity) > default."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.pricing import selectors
from evcharge.contracts import pricing as pricing_contract
from evcharge.contracts.adminconfig import StationConfigUpdated, StationSettings
from evcharge.contracts.pricing import NoApplicableTariff
from evcharge.events import publish


def resolve(station, connector_type="CCS2", at=None):
    return pricing_contract.facade().tariff_snapshot(
        station_id=station.id, connector_type=connector_type, at=at or timezone.now()
    )


def test_most_specific_rule_wins_over_priority(operator_org, announce_station, make_plan, make_rule):
    station = announce_station(operator_org.id)
    default = make_plan(operator_org.id, is_default=True, energy_price_per_kwh=30)
    wide, by_type, by_station, exact = (make_plan(operator_org.id, energy_price_per_kwh=p) for p in (31, 32, 33, 34))
    assert resolve(station).rate_plan_id == default.id

    make_rule(wide, priority=100)
    assert resolve(station).rate_plan_id == wide.id
    make_rule(by_type, connector_type="CCS2", priority=50)
    assert resolve(station).rate_plan_id == by_type.id
    assert resolve(station, "TYPE2").rate_plan_id == wide.id  # the type rule does not match TYPE2
    make_rule(by_station, station_id=station.id, priority=0)
    assert resolve(station).rate_plan_id == by_station.id
    make_rule(exact, station_id=station.id, connector_type="CCS2", priority=-5)
    assert resolve(station).rate_plan_id == exact.id
    assert resolve(station, "TYPE2").rate_plan_id == by_station.id


def test_priority_breaks_ties_among_equally_specific_rules(operator_org, announce_station, make_plan, make_rule):
    station = announce_station(operator_org.id)
    low, high = make_plan(operator_org.id), make_plan(operator_org.id)
    make_rule(high, connector_type="CCS2", priority=10)
    make_rule(low, connector_type="CCS2", priority=1)
    assert resolve(station).rate_plan_id == high.id


def test_validity_window(operator_org, announce_station, make_plan, make_rule):
    station = announce_station(operator_org.id)
    default = make_plan(operator_org.id, is_default=True)
    night = make_plan(operator_org.id, energy_price_per_kwh=20)
    now = timezone.now()
    make_rule(night, station_id=station.id, valid_from=now + timedelta(hours=1), valid_to=now + timedelta(hours=2))
    assert resolve(station, at=now).rate_plan_id == default.id
    assert resolve(station, at=now + timedelta(minutes=90)).rate_plan_id == night.id
    assert resolve(station, at=now + timedelta(hours=2)).rate_plan_id == default.id  # valid_to is exclusive


def test_other_operators_rules_and_defaults_never_apply(
    operator_org, other_operator_org, announce_station, make_plan, make_rule
):
    station = announce_station(operator_org.id)
    foreign = make_plan(other_operator_org.id, is_default=True)
    make_rule(foreign, connector_type="CCS2", priority=99)
    with pytest.raises(NoApplicableTariff):
        resolve(station)


def test_nothing_applies_is_a_lookup_error_and_a_clear_404(operator_org, announce_station, make_plan, driver_client):
    station = announce_station(operator_org.id)
    make_plan(operator_org.id)  # not the default
    with pytest.raises(LookupError):
        resolve(station)
    with pytest.raises(LookupError):
        pricing_contract.facade().tariff_snapshot(station_id=uuid.uuid4(), connector_type="CCS2", at=timezone.now())
    response = driver_client.get("/api/v1/pricing/quote", {"stationId": station.id, "connectorType": "CCS2"})
    assert response.status_code == 404
    assert "no default plan" in response.json()["detail"]
    assert response.json()["code"] == "no_tariff"


def test_station_settings_assignment_wins_over_rules(operator_org, announce_station, make_plan, make_rule):
    station = announce_station(operator_org.id)
    exact, assigned = make_plan(operator_org.id), make_plan(operator_org.id, idle_grace_min=5)
    make_rule(exact, station_id=station.id, connector_type="CCS2", priority=100)

    def assign(rate_plan_id, idle_grace_min=None):
        with transaction.atomic():
            publish(
                StationConfigUpdated(
                    station_id=station.id,
                    operator_id=operator_org.id,
                    settings=StationSettings(
                        enabled=True,
                        reservable=True,
                        max_power_kw=None,
                        rate_plan_id=rate_plan_id,
                        idle_grace_min=idle_grace_min,
                    ),
                    changed=["rate_plan_id"],
                )
            )

    assign(assigned.id)
    tariff = resolve(station)
    assert tariff.rate_plan_id == assigned.id
    assert tariff.idle_grace_min == 5
    assign(assigned.id, idle_grace_min=30)
    assert resolve(station).idle_grace_min == 30
    assign(None)
    assert resolve(station).rate_plan_id == exact.id


def test_tariff_snapshot_carries_the_plans_prices(operator_org, announce_station, make_plan):
    station = announce_station(operator_org.id)
    plan = make_plan(
        operator_org.id,
        is_default=True,
        currency="USD",
        energy_price_per_kwh=45,
        time_price_per_min=3,
        session_fee=99,
        idle_fee_per_min=12,
        idle_grace_min=7,
    )
    tariff = resolve(station)
    assert (tariff.rate_plan_id, tariff.currency) == (plan.id, "USD")
    assert (tariff.energy_price_per_kwh, tariff.time_price_per_min, tariff.session_fee) == (45, 3, 99)
    assert (tariff.idle_fee_per_min, tariff.idle_grace_min) == (12, 7)
    assert selectors.known_station(station.id).operator_id == operator_org.id
