# ruff: noqa: F811  (pytest fixtures imported from gateway_fixtures)
"""The gateway's handshake and link: who may connect, boot, heartbeats, probes, a replaced or dead connection."""

import time
import urllib.error
import urllib.request
import uuid

import pytest
from django.db import connection as db
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from apps.chargepoints.models import ChargeBox
from tests.bus_fixtures import wait_until
from tests.chargepoints.gateway_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    boot,
    connect_charger,
    gateway,
    ocpp_loop,
    ocpp_station,
)

pytestmark = pytest.mark.postgres


def box(serial: str) -> ChargeBox:
    return ChargeBox.objects.get(charge_box_id=serial)


def refused_status(connect, *args, **kwargs) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect(*args, **kwargs)
    return refused.value.response.status_code


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_charger_connects_boots_and_is_recorded(ocpp_station, connect_charger, gateway, operator_client):
    charger = connect_charger(ocpp_station["serial"])
    answer = charger.call(
        call.BootNotification(
            charge_point_vendor="Acme",
            charge_point_model="AC22",
            firmware_version="1.4.2",
            charge_point_serial_number="SN-1",
        )
    )

    assert (answer.status, answer.interval) == ("Accepted", 300)
    recorded = box(ocpp_station["serial"])
    assert (recorded.vendor, recorded.model, recorded.firmware_version, recorded.serial_number) == (
        "Acme",
        "AC22",
        "1.4.2",
        "SN-1",
    )
    assert (recorded.connected, recorded.protocol, recorded.gateway_instance) == (True, "ocpp1.6", gateway.instance_id)
    assert recorded.booted_at is not None and recorded.connected_at is not None
    # The station's operator sees the link on the station.
    [seen] = operator_client.get(f"/api/v1/stations/{ocpp_station['station']['id']}").json()["chargers"]
    assert {key: seen["ocpp"][key] for key in ("connected", "vendor", "model", "firmware_version", "protocol")} == {
        "connected": True,
        "vendor": "Acme",
        "model": "AC22",
        "firmware_version": "1.4.2",
        "protocol": "ocpp1.6",
    }
    charger.close()
    wait_until(lambda: not box(ocpp_station["serial"]).connected, message="the charge box shows disconnected")
    assert box(ocpp_station["serial"]).disconnected_at is not None

    def charger_health() -> str:
        return operator_client.get(f"/api/v1/stations/{ocpp_station['station']['id']}").json()["chargers"][0]["health"]

    wait_until(lambda: charger_health() == "offline", message="the station shows the charger offline")
    [seen] = operator_client.get(f"/api/v1/stations/{ocpp_station['station']['id']}").json()["chargers"]
    assert seen["ocpp"]["connected"] is False


def test_the_heartbeat_interval_comes_from_admin_config(ocpp_station, connect_charger, admin_client):
    changed = admin_client.put("/api/v1/admin/config/ocpp.heartbeat_interval_s", {"value": 120}, format="json")
    assert changed.status_code in (200, 201), changed.content
    assert boot(connect_charger(ocpp_station["serial"])).interval == 120


def test_wrong_or_missing_credentials_are_refused_and_nothing_is_recorded(ocpp_station, connect_charger):
    serial = ocpp_station["serial"]
    assert refused_status(connect_charger, serial, password="not-the-password") == 401
    assert refused_status(connect_charger, serial, password=None) == 401
    assert refused_status(connect_charger, "NO-SUCH-BOX", password=PASSWORD) == 404
    assert (box(serial).connected, box(serial).connected_at) == (False, None)


def test_a_charger_offering_no_supported_subprotocol_is_refused(ocpp_station, connect_charger):
    assert refused_status(connect_charger, ocpp_station["serial"], subprotocols=["ocpp2.0.1"]) == 400
    assert refused_status(connect_charger, ocpp_station["serial"], subprotocols=[]) == 400
    assert not box(ocpp_station["serial"]).connected


def test_refused_handshakes_are_counted_and_probes_answer_over_http(ocpp_station, connect_charger, gateway):
    refused_status(connect_charger, "NO-SUCH-BOX", password=PASSWORD)

    assert http_get(f"{gateway.http_url}/health/live")[0] == 200
    assert http_get(f"{gateway.http_url}/health/ready")[0] == 200
    status, metrics = http_get(f"{gateway.http_url}/metrics")
    assert status == 200
    assert 'evcharge_ocpp_handshakes_refused_total{reason="unknown_box"}' in metrics
    assert http_get(f"{gateway.http_url}/somewhere-else")[0] == 404


def test_heartbeats_answer_the_time_without_a_database_write_each(ocpp_station, connect_charger, gateway):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    with db.cursor() as cursor:  # counts the charge box rows PostgreSQL updates, whichever process does it
        cursor.execute(
            "CREATE TABLE h1_box_updates (at timestamptz DEFAULT now());"
            "CREATE FUNCTION h1_count_box_update() RETURNS trigger AS $$"
            " BEGIN INSERT INTO h1_box_updates DEFAULT VALUES; RETURN NEW; END $$ LANGUAGE plpgsql;"
            "CREATE TRIGGER h1_count BEFORE UPDATE ON chargepoints_chargebox"
            " FOR EACH ROW EXECUTE FUNCTION h1_count_box_update();"
        )
    try:
        started = time.monotonic()
        for _ in range(40):
            assert charger.call(call.Heartbeat()).current_time.endswith("Z")
        elapsed = time.monotonic() - started
        time.sleep(0.5)  # a flush happens
        with db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM h1_box_updates")
            [updates] = cursor.fetchone()
    finally:
        with db.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER h1_count ON chargepoints_chargebox; DROP FUNCTION h1_count_box_update();"
                "DROP TABLE h1_box_updates;"
            )

    flushes_possible = int((elapsed + 0.5) / 0.2) + 1
    assert 1 <= updates <= min(flushes_possible, 20), (updates, elapsed)
    assert box(ocpp_station["serial"]).last_seen_at is not None


def test_a_second_connection_of_the_same_charge_box_replaces_the_first(ocpp_station, connect_charger, gateway):
    first = connect_charger(ocpp_station["serial"])
    boot(first)
    second = connect_charger(ocpp_station["serial"])

    wait_until(lambda: first.closed, message="the first connection is closed")
    assert boot(second).status == "Accepted"
    assert gateway.held() == [ocpp_station["serial"]]
    time.sleep(0.3)
    assert box(ocpp_station["serial"]).connected


def test_a_dead_link_is_dropped_within_two_ping_intervals(ocpp_station, connect_charger, ocpp_loop):
    from apps.chargepoints.gateway.server import Gateway

    gateway_ping = 0.5  # production: OCPP_PING_INTERVAL_S=30
    fast = Gateway(host="127.0.0.1", port=0, instance_id=f"fast-{uuid.uuid4().hex[:6]}", ping_interval=gateway_ping)
    ocpp_loop.run(fast.start())
    try:
        url = f"ws://127.0.0.1:{fast.port}"
        charger = connect_charger(ocpp_station["serial"], gateway_url=url, ping_interval=None)
        boot(charger)
        assert box(ocpp_station["serial"]).connected

        # The link dies silently: the charger no longer reads anything, so it answers no ping.
        charger.websocket.transport.pause_reading()
        died = time.monotonic()
        wait_until(lambda: not box(ocpp_station["serial"]).connected, timeout=6 * gateway_ping + 2)
        assert time.monotonic() - died <= 2 * gateway_ping + 0.5
        assert fast.held() == []
        charger.websocket.transport.abort()  # the charger's side of the dead link
    finally:
        ocpp_loop.run(fast.stop())


def test_a_restarted_gateway_releases_the_boxes_it_held(ocpp_station, connect_charger, gateway, ocpp_loop):
    from apps.chargepoints.gateway.server import Gateway

    boot(connect_charger(ocpp_station["serial"]))
    assert box(ocpp_station["serial"]).gateway_instance == gateway.instance_id
    # The process died: its successor with the same instance id starts (on another port).
    successor = Gateway(host="127.0.0.1", port=0, instance_id=gateway.instance_id)
    ocpp_loop.run(successor.start())
    try:
        assert not box(ocpp_station["serial"]).connected
    finally:
        ocpp_loop.run(successor.stop())


def test_with_a_certificate_the_gateway_serves_wss(ocpp_station, connect_charger, ocpp_loop, settings, tmp_path):
    import shutil
    import ssl
    import subprocess

    from apps.chargepoints.gateway.server import Gateway

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    settings.OCPP_TLS_CERT, settings.OCPP_TLS_KEY = str(cert), str(key)
    secure = Gateway(host="127.0.0.1", port=0, instance_id=f"tls-{uuid.uuid4().hex[:6]}")
    ocpp_loop.run(secure.start())
    try:
        trusted = ssl.create_default_context(cafile=str(cert))
        charger = connect_charger(ocpp_station["serial"], gateway_url=f"wss://127.0.0.1:{secure.port}", ssl=trusted)
        assert boot(charger).status == "Accepted"
        with pytest.raises(Exception):
            connect_charger(ocpp_station["serial"], gateway_url=f"ws://127.0.0.1:{secure.port}", open_timeout=3)
    finally:
        ocpp_loop.run(secure.stop())
