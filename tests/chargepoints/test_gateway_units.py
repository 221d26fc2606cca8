"""The gateway's pieces without a socket: meter values in platform units, the liveness window, the settings check."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from apps.chargepoints.checks import ocpp_security
from apps.chargepoints.facade import ChargepointsFacadeImpl
from apps.chargepoints.gateway.v16 import parse_time, samples_of
from apps.chargepoints.models import ChargeBox


def sampled(value: str, measurand: str | None = None, unit: str | None = None, **extra) -> dict:
    entry = {"value": value, **extra}
    if measurand:
        entry["measurand"] = measurand
    if unit:
        entry["unit"] = unit
    return entry


def test_meter_values_are_converted_to_platform_units():
    [sample] = samples_of(
        [
            {
                "timestamp": "2026-12-04T10:00:00Z",
                "sampled_value": [
                    sampled("12.345", "Energy.Active.Import.Register", "kWh"),
                    sampled("3.7", "Power.Active.Import", "kW", phase="L1"),
                    sampled("3.6", "Power.Active.Import", "kW", phase="L2"),
                    sampled("16", "Current.Import", "A", phase="L1"),
                    sampled("15", "Current.Import", "A", phase="L2"),
                    sampled("231.5", "Voltage", "V", phase="L1-N"),
                    sampled("80", "SoC", "Percent", location="EV"),
                ],
            }
        ]
    )
    assert sample.ts == datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert (sample.energy_wh, sample.power_w, sample.current_a, sample.voltage_v, sample.soc_pct) == (
        12_345,
        7_300,
        16.0,
        231.5,
        80.0,
    )


def test_a_value_without_a_measurand_or_unit_is_the_energy_register_in_wh_and_junk_is_left_out():
    samples = samples_of(
        [
            {"timestamp": "2026-12-04T10:00:00+01:00", "sampled_value": [sampled("1500")]},
            {"timestamp": "2026-12-04T10:01:00Z", "sampled_value": [sampled("abc"), sampled("9", unit="furlong")]},
            {"timestamp": "2026-12-04T10:02:00Z", "sampled_value": [sampled("0xA1B2", format="SignedData")]},
            {"timestamp": "2026-12-04T10:03:00Z", "sampled_value": [sampled("2000", location="Inlet")]},
        ]
    )
    assert [(s.ts, s.energy_wh) for s in samples] == [(datetime(2026, 12, 4, 9, tzinfo=UTC), 1500)]


def test_a_charger_time_without_a_zone_is_utc():
    assert parse_time("2026-12-04T10:00:00") == datetime(2026, 12, 4, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("connected", "seen_ago", "online"),
    [(True, timedelta(seconds=5), True), (True, timedelta(minutes=5), False), (False, timedelta(0), False)],
)
def test_a_charger_is_online_while_connected_and_seen_within_two_ping_intervals(settings, connected, seen_ago, online):
    settings.OCPP_PING_INTERVAL_S = 30
    box = ChargeBox.objects.create(
        id=uuid4(),
        charge_box_id=f"BOX-{uuid4().hex[:6]}",
        station_id=uuid4(),
        operator_id=uuid4(),
        password_hash="set",
        connected=connected,
        last_seen_at=datetime.now(UTC) - seen_ago,
        protocol="ocpp1.6",
    )
    facade = ChargepointsFacadeImpl()
    assert facade.is_online(box.id) is online
    assert facade.links([box.id, uuid4()])[box.id].connected is online
    assert list(facade.links([box.id, uuid4()])) == [box.id]


def test_unsecured_chargers_outside_debug_are_warned_about(settings):
    settings.DEBUG, settings.OCPP_ALLOW_UNSECURED = False, True
    assert [m.id for m in ocpp_security()] == ["chargepoints.W001"]
    settings.OCPP_ALLOW_UNSECURED = False
    settings.OCPP_TLS_CERT = "/nowhere/cert.pem"
    assert [m.id for m in ocpp_security()] == ["chargepoints.E002"]
