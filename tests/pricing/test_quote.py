"""GET /pricing/quote: the breakdown, the estimate's rounding, parameter validation, the warm cache."""

import uuid
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.pricing import selectors
from apps.pricing.models import KnownConnector, KnownStation, RatePlan, ReadModelVersion
from evcharge.contracts.stations import ChargerInfo, ConnectorInfo, Location, StationUpdated
from evcharge.events import publish

QUOTE = "/api/v1/pricing/quote"


@pytest.fixture
def station(operator_org, announce_station):
    return announce_station(operator_org.id, types=("CCS2", "CCS2", "TYPE2"))


def test_quote_breakdown_and_estimate(station, operator_org, make_plan, driver_client):
    plan = make_plan(
        operator_org.id,
        is_default=True,
        energy_price_per_kwh=39,
        time_price_per_min=2,
        session_fee=50,
        idle_fee_per_min=10,
        idle_grace_min=15,
    )
    before = timezone.now()
    response = driver_client.get(QUOTE, {"stationId": str(station.id), "connectorType": "CCS2", "kWh": "12.345"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["station_id"] == str(station.id)
    assert body["connector_type"] == "CCS2"
    assert body["currency"] == "EUR"
    assert body["rate_plan_id"] == str(plan.id)
    assert (body["energy_price_per_kwh"], body["time_price_per_min"], body["session_fee"]) == (39, 2, 50)
    assert (body["idle_fee_per_min"], body["idle_grace_min"]) == (10, 15)
    assert body["estimated_kwh"] == 12.345
    assert body["estimated_wh"] == 12_345
    assert body["estimated_total"] == 50 + 481  # 481.455 -> 481
    assert body["available"] is True
    assert body["warnings"] == []
    valid_until = datetime.fromisoformat(body["valid_until"].replace("Z", "+00:00"))
    assert before + timedelta(minutes=14) < valid_until <= timezone.now() + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("kwh", "price", "expected_energy"),
    [("12.5", 39, 488), ("11.5", 39, 448), ("0.5", 1, 0), ("1.5", 1, 2), ("2.5", 1, 2), ("0", 39, 0)],
)
def test_estimate_rounds_half_to_even(station, operator_org, make_plan, driver_client, kwh, price, expected_energy):
    make_plan(operator_org.id, is_default=True, energy_price_per_kwh=price, session_fee=0)
    body = driver_client.get(QUOTE, {"stationId": station.id, "connectorType": "CCS2", "kWh": kwh}).json()
    assert body["estimated_total"] == expected_energy


def test_snake_case_parameters_and_lower_case_type(station, operator_org, make_plan, driver_client):
    make_plan(operator_org.id, is_default=True, energy_price_per_kwh=40)
    response = driver_client.get(QUOTE, {"station_id": station.id, "connector_type": "type2", "kwh": "10"})
    assert response.status_code == 200, response.content
    assert response.json()["connector_type"] == "TYPE2"
    assert response.json()["estimated_total"] == 400


def test_quote_answers_anonymous_callers_as_signed_in_ones(station, anon, driver_client):
    query = {"stationId": station.id, "connectorType": "CCS2"}
    assert anon.get(QUOTE, query).json() == driver_client.get(QUOTE, query).json()  # public (issue 18)


@pytest.mark.parametrize(
    ("params", "bad_field"),
    [
        ({"connectorType": "CCS2"}, "stationId"),
        ({"stationId": "not-a-uuid", "connectorType": "CCS2"}, "stationId"),
        ({"stationId": "UNKNOWN", "connectorType": "CCS2"}, "stationId"),
        ({"stationId": "STATION"}, "connectorType"),
        ({"stationId": "STATION", "connectorType": "SCHUKO"}, "connectorType"),
        ({"stationId": "STATION", "connectorType": "NACS"}, "connectorType"),  # not at this station
        ({"stationId": "STATION", "connectorType": "CCS2", "kWh": "-1"}, "kWh"),
        ({"stationId": "STATION", "connectorType": "CCS2", "kWh": "1000.001"}, "kWh"),
        ({"stationId": "STATION", "connectorType": "CCS2", "kWh": "lots"}, "kWh"),
        ({"stationId": "STATION", "connectorType": "CCS2", "kWh": "NaN"}, "kWh"),
        ({"station_id": "STATION", "connector_type": "CCS2", "kwh": "1e9"}, "kwh"),
    ],
)
def test_bad_parameters_answer_400_naming_the_parameter(
    station, operator_org, make_plan, driver_client, params, bad_field
):
    make_plan(operator_org.id, is_default=True)
    replacements = {"STATION": str(station.id), "UNKNOWN": str(uuid.uuid4())}
    params = {name: replacements.get(value, value) for name, value in params.items()}
    response = driver_client.get(QUOTE, params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert bad_field in response.json()["errors"]


def test_faulted_connector_type_is_quoted_with_a_warning(station, operator_org, make_plan, driver_client):
    make_plan(operator_org.id, is_default=True)
    params = {"stationId": station.id, "connectorType": "CCS2", "kWh": "10"}
    station.set_status("CCS2", "Faulted", 0)
    body = driver_client.get(QUOTE, params).json()
    assert body["available"] is True  # the other CCS2 still works
    assert body["warnings"] == []

    station.set_status("CCS2", "Faulted", 1)
    response = driver_client.get(QUOTE, params)
    assert response.status_code == 200
    assert response.json()["available"] is False
    assert response.json()["warnings"] == ["all CCS2 connectors at this station are Faulted"]
    assert response.json()["estimated_total"] == 390

    station.set_status("CCS2", "Available", 1, old_status="Faulted")
    assert driver_client.get(QUOTE, params).json()["available"] is True


def test_quote_cache_follows_station_and_price_events(station, operator_org, make_plan, operator_client, driver_client):
    plan = make_plan(operator_org.id, is_default=True, energy_price_per_kwh=39)
    params = {"stationId": station.id, "connectorType": "CCS2", "kWh": "10"}
    assert driver_client.get(QUOTE, params).json()["estimated_total"] == 390
    assert driver_client.get(QUOTE, params).json()["estimated_total"] == 390  # served from the cache

    patched = operator_client.patch(
        f"/api/v1/pricing/rate-plans/{plan.id}", {"energy_price_per_kwh": 45}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert driver_client.get(QUOTE, params).json()["estimated_total"] == 450

    # The station drops its CCS2 connectors (station.updated.v1): the quote follows at once.
    with transaction.atomic():
        publish(
            StationUpdated(
                station_id=station.id,
                operator_id=operator_org.id,
                changed=["chargers"],
                name="Renamed",
                timezone="Europe/Berlin",
                location=Location(latitude=52.5, longitude=13.4),
                chargers=[
                    ChargerInfo(
                        charger_id=station.charger_id,
                        serial="SN-1",
                        max_power_kw=22.0,
                        connectors=[
                            ConnectorInfo(
                                connector_id=station.connector_of("TYPE2"),
                                number=1,
                                type="TYPE2",
                                max_power_kw=22.0,
                                status="Available",
                                code="ABC123",
                            )
                        ],
                    )
                ],
            )
        )
    response = driver_client.get(QUOTE, params)
    assert response.status_code == 400
    assert "connectorType" in response.json()["errors"]
    assert driver_client.get(QUOTE, {**params, "connectorType": "TYPE2"}).status_code == 200


def test_quote_cache_ends_when_a_rule_window_opens(station, operator_org, make_plan, make_rule):
    make_plan(operator_org.id, is_default=True, energy_price_per_kwh=39)
    promo_plan = make_plan(operator_org.id, energy_price_per_kwh=10)
    now = timezone.now()
    make_rule(promo_plan, station_id=station.id, valid_from=now + timedelta(minutes=5))
    first = selectors.quote_for(station_id=station.id, connector_type="CCS2", energy_wh=10_000, at=now)
    assert first.estimated_total == 390
    assert first.valid_until == now + timedelta(minutes=5)  # the quote ends when the cheaper rule starts
    later = selectors.quote_for(
        station_id=station.id, connector_type="CCS2", energy_wh=10_000, at=now + timedelta(minutes=6)
    )
    assert later.estimated_total == 100


def test_disabled_station_warns(operator_org, announce_station, make_plan, driver_client):
    disabled = announce_station(operator_org.id, types=("CCS2",), enabled=False)
    make_plan(operator_org.id, is_default=True)
    body = driver_client.get(QUOTE, {"stationId": disabled.id, "connectorType": "CCS2"}).json()
    assert body["available"] is False
    assert body["warnings"] == ["this station is disabled"]


def test_facade_quote(station, operator_org, make_plan):
    from evcharge.contracts import pricing

    make_plan(operator_org.id, is_default=True, session_fee=25)
    quote = pricing.facade().quote(station_id=station.id, connector_type="TYPE2", energy_wh=1_000)
    assert (quote.estimated_total, quote.estimated_wh, quote.tariff.currency) == (25 + 39, 1_000, "EUR")


def test_a_warm_quote_costs_no_query_then_one_check(
    station, operator_org, make_plan, driver_client, django_assert_num_queries, settings
):
    make_plan(operator_org.id, is_default=True)
    params = {"stationId": station.id, "connectorType": "CCS2", "kWh": "10"}
    assert driver_client.get(QUOTE, params).status_code == 200
    with django_assert_num_queries(0):
        assert driver_client.get(QUOTE, params).status_code == 200
    settings.PRICING_QUOTE_RECHECK_SECONDS = 0
    with django_assert_num_queries(1):  # the version check: still the same, so still cached
        assert driver_client.get(QUOTE, params).status_code == 200


def test_changes_committed_by_another_process_are_seen_at_the_next_check(
    station, operator_org, make_plan, driver_client, settings
):
    """A worker process applied the change: this process's memory was not cleared, the tokens tell it."""
    plan = make_plan(operator_org.id, is_default=True, energy_price_per_kwh=39)
    params = {"stationId": station.id, "connectorType": "CCS2", "kWh": "10"}
    assert driver_client.get(QUOTE, params).json()["estimated_total"] == 390
    RatePlan.objects.filter(id=plan.id).update(energy_price_per_kwh=50)  # behind this process's back
    assert driver_client.get(QUOTE, params).json()["estimated_total"] == 390  # within the recheck interval
    ReadModelVersion.objects.filter(id=1).update(token=uuid.uuid4())  # what the other process also did
    settings.PRICING_QUOTE_RECHECK_SECONDS = 0
    assert driver_client.get(QUOTE, params).json()["estimated_total"] == 500

    KnownConnector.objects.filter(station_id=station.id).update(status="Faulted")
    KnownStation.objects.filter(station_id=station.id).update(version=uuid.uuid4())
    assert driver_client.get(QUOTE, params).json()["available"] is False
