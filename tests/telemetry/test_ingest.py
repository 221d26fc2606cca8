from datetime import timedelta

from apps.telemetry.models import CHARGER_LEVEL, LatestState, Reading
from tests.helpers import assert_problem, speak_ocpp
from tests.telemetry.conftest import event, iso, meter, recent

URL = "/api/v1/telemetry/events"


def test_a_batch_is_stored_and_announced_once(operator_client, charger, outbox):
    t0 = recent(60)
    batch = [
        meter(charger, ts=t0 + timedelta(seconds=i * 10), energy_wh=1000 + i * 50, power_w=11000) for i in range(3)
    ]
    batch.append(event(charger, "heartbeat", ts=t0 + timedelta(seconds=30)))

    response = operator_client.post(URL, batch, format="json")

    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 4, "duplicates": 0}
    assert Reading.objects.count() == 4
    assert Reading.objects.filter(connector_id=CHARGER_LEVEL).count() == 1
    ingested = outbox("telemetry.ingested.v1")
    assert len(ingested) == 1
    data = ingested[0].data
    assert data.count == 4
    assert data.charger_ids == [charger.charger_id]
    assert data.connector_ids == [charger.connectors[0].connector_id]
    assert (data.first_ts, data.last_ts) == (t0, t0 + timedelta(seconds=30))


def test_a_single_event_object_is_accepted(operator_client, charger):
    response = operator_client.post(URL, meter(charger, ts=recent(5), energy_wh=10), format="json")
    assert response.status_code == 202, response.content
    assert response.json()["accepted"] == 1


def test_a_bad_batch_names_every_bad_index_and_stores_nothing(operator_client, charger, outbox):
    good = meter(charger, ts=recent(60), energy_wh=100)
    batch = [
        good,
        {**good, "kind": "teleport"},
        {**good, "ts": iso(recent(-3600))},  # an hour in the future
        {k: v for k, v in good.items() if k != "energy_wh"},  # a meter reading without energy
        event(charger, "fault", ts=recent(50)),  # a fault without error_code
        event(charger, "status", ts=recent(50), status="Exploded"),
        {**good, "charger_id": "not-a-uuid", "energy_wh": -5},
        "not an object",
        {**good, "energyWh": 5},
    ]

    response = operator_client.post(URL, batch, format="json")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert set(errors) == {
        "1.kind",
        "2.ts",
        "3.energy_wh",
        "4.error_code",
        "5.status",
        "6.charger_id",
        "6.energy_wh",
        "7.non_field_errors",
        "8.energyWh",
    }
    assert Reading.objects.count() == 0
    assert LatestState.objects.count() == 0
    assert outbox("telemetry.ingested.v1") == []


def test_a_single_bad_object_names_its_fields(operator_client, charger):
    response = operator_client.post(URL, {"charger_id": str(charger.charger_id), "kind": "meter"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"ts", "energy_wh"}


def test_batch_size_and_shape_are_bounded(operator_client, charger):
    too_many = [meter(charger, ts=recent(i), energy_wh=i) for i in range(1001)]
    assert operator_client.post(URL, too_many, format="json").status_code == 400
    assert operator_client.post(URL, [], format="json").status_code == 400
    assert operator_client.post(URL, "hello", format="json").status_code == 400
    assert Reading.objects.count() == 0


def test_readings_older_than_the_retention_are_refused(operator_client, charger, settings):
    settings.TELEMETRY_RETENTION_DAYS = 1
    response = operator_client.post(URL, [meter(charger, ts=recent(3 * 86400), energy_wh=5)], format="json")
    assert response.status_code == 400
    assert "0.ts" in response.json()["errors"]


def test_unknown_chargers_and_foreign_connectors_are_refused_by_index(
    operator_client, station, make_station, operator_org
):
    other_station = make_station(operator_org)
    charger, other_charger = station.chargers[0], other_station.chargers[0]
    good = meter(charger, ts=recent(30), energy_wh=100)
    unknown = {**good, "charger_id": "6f1f9f4e-0000-4000-8000-000000000001"}
    wrong_connector = {**good, "connector_id": str(other_charger.connectors[0].connector_id)}

    response = operator_client.post(URL, [good, unknown, wrong_connector], format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"1.charger_id", "2.connector_id"}
    assert Reading.objects.count() == 0


def test_duplicates_are_stored_once(operator_client, charger, outbox):
    t0 = recent(120)
    batch = [meter(charger, ts=t0 + timedelta(seconds=i), energy_wh=100 + i) for i in range(3)]

    first = operator_client.post(URL, [*batch, batch[0]], format="json")
    again = operator_client.post(URL, batch, format="json")

    assert first.json() == {"accepted": 3, "duplicates": 1}
    assert again.status_code == 202
    assert again.json() == {"accepted": 0, "duplicates": 3}
    assert Reading.objects.count() == 3
    assert len(outbox("telemetry.ingested.v1")) == 1  # the second batch stored nothing


def test_a_batch_overlapping_stored_readings_stores_only_the_new_ones(operator_client, charger, outbox):
    t0 = recent(120)
    batch = [meter(charger, ts=t0 + timedelta(seconds=i), energy_wh=100 + i) for i in range(4)]
    operator_client.post(URL, batch[:2], format="json")

    response = operator_client.post(URL, batch, format="json")

    assert response.json() == {"accepted": 2, "duplicates": 2}
    assert sorted(Reading.objects.values_list("energy_wh", flat=True)) == [100, 101, 102, 103]
    assert [e.data.count for e in outbox("telemetry.ingested.v1")] == [2, 2]
    assert LatestState.objects.get(connector_id=charger.connectors[0].connector_id).energy_wh == 103


def test_values_no_column_could_hold_are_refused_not_crashed_on(operator_client, charger):
    good = meter(charger, ts=recent(30), energy_wh=100)
    batch = [
        {**good, "energy_wh": 2**63},  # beyond bigint
        {**good, "status": ["Available"]},
        {**good, "kind": {"meter": True}},
        {**good, "error_code": 7},
    ]

    response = operator_client.post(URL, batch, format="json")

    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {"0.energy_wh", "1.status", "2.kind", "3.error_code"}
    huge = operator_client.post(URL, f'[{{"energy_wh": {10**30}}}]', content_type="application/json")
    assert huge.status_code == 400
    broken = operator_client.post(URL, '[{"kind": "meter",', content_type="application/json")
    assert broken.status_code == 400
    assert Reading.objects.count() == 0


def test_charger_level_duplicates_are_stored_once(operator_client, charger):
    beat = event(charger, "heartbeat", ts=recent(10))
    operator_client.post(URL, [beat], format="json")
    response = operator_client.post(URL, [beat], format="json")
    assert response.json() == {"accepted": 0, "duplicates": 1}
    assert Reading.objects.count() == 1


def test_an_operator_api_key_may_post_for_its_chargers(client_for, api_key_for, operator_org, charger):
    client = client_for(api_key=api_key_for(operator_org))
    response = client.post(URL, [meter(charger, ts=recent(5), energy_wh=7)], format="json")
    assert response.status_code == 202, response.content


def test_other_operators_chargers_are_refused(
    client_for, api_key_for, other_operator_org, other_operator_client, charger, make_station
):
    own_station = make_station(other_operator_org)
    own = meter(own_station.chargers[0], ts=recent(5), energy_wh=1)
    foreign = meter(charger, ts=recent(5), energy_wh=1)

    by_key = client_for(api_key=api_key_for(other_operator_org)).post(URL, [own, foreign], format="json")
    by_token = other_operator_client.post(URL, [foreign], format="json")

    assert by_key.status_code == 403
    assert set(by_key.json()["errors"]) == {"1.charger_id"}
    assert by_token.status_code == 403
    assert Reading.objects.count() == 0


def test_an_admin_may_post_for_any_charger(admin_client, charger):
    assert admin_client.post(URL, [meter(charger, ts=recent(5), energy_wh=1)], format="json").status_code == 202


def test_drivers_and_strangers_may_not_post(driver_client, anon, client_for, charger):
    batch = [meter(charger, ts=recent(5), energy_wh=1)]
    assert driver_client.post(URL, batch, format="json").status_code == 403
    assert anon.post(URL, batch, format="json").status_code == 401
    assert client_for(api_key="evk_nope_nope").post(URL, batch, format="json").status_code == 401
    assert Reading.objects.count() == 0


def test_energy_of_a_charger_that_speaks_ocpp_is_taken_only_over_ocpp(monkeypatch, operator_client, charger, outbox):
    speak_ocpp(monkeypatch, charger.charger_id)
    batch = [
        event(charger, "heartbeat", ts=recent(20)),
        meter(charger, ts=recent(10), energy_wh=1),  # a meter far below the charger's own
    ]

    refused = operator_client.post(URL, batch, format="json")

    body = assert_problem(refused, 400, fields=("1.energy_wh",))
    assert body["code"] == "energy_from_ocpp_only"
    assert not Reading.objects.exists() and outbox("telemetry.ingested.v1") == []
    accepted = operator_client.post(URL, batch[:1], format="json")  # what is not energy is still welcome
    assert accepted.status_code == 202, accepted.content
