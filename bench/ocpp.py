"""OCPP gateway: N simulated chargers held by one gateway process vs a bare `ocpp` central system, same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evcharge_ocpp \\
    CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/evcharge_ocpp .venv/bin/python bench/ocpp.py

The clients (this process, one asyncio loop, the `ocpp` package's v16 ChargePoint over `websockets`) open
--chargers connections (default 2000), each BootNotification then StatusNotification, against two servers in
turn, each a process of its own on this machine:
- gateway: `manage.py ocpp_gateway` on the database of DATABASE_URL, with a fleet the bench creates there (an
  operator, stations with one charger and connector each, through the stations service, so telemetry and
  reservations know them) and each charger's OCPP password set through the credentials service: every
  handshake is authenticated, every MeterValues is stored in telemetry (readings, latest state, an outbox row),
  Heartbeats refresh last-seen in memory (flushed in batches);
- bare: an `ocpp` v16 central system that answers the same calls at once, without authentication, storage,
  events or metrics (what it leaves out is all the gateway's work).
Two phases per server:
- steady: --rate messages/s in all (default 200), Heartbeat and MeterValues alternating, spread over every
  charger, for --seconds (default 15): answer latency p50/p99 per message type;
- flat out: every charger sends MeterValues back to back for --seconds: MeterValues/s, and the ratio gateway/bare.
Prints the connections held at the end of each phase. Goals: 2,000 chargers held by one gateway process on this
2-core machine, MeterValues at >= 0.5 of the bare server's rate, steady p99 < 100 ms at 200 msg/s.
"""

import argparse
import asyncio
import base64
import contextlib
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file is named like the `ocpp` package it uses: keep its own folder off the import path.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("PAYMENT_GATEWAY", "apps.billing.gateways.TestGateway")  # named: no default outside embedded
# The gateway publishes over RabbitMQ as in production when a broker is given; this process sets the fleet up
# with the inline transport, so that every context's read model knows the chargers before the clients connect.
GATEWAY_TRANSPORT = "rabbitmq" if os.environ.get("CELERY_BROKER_URL", "").startswith("amqp") else "inline"
os.environ["EVENTS_TRANSPORT"] = "inline"
os.environ.setdefault("LOG_LEVEL", "WARNING")  # the figures, not a log line per frame

PASSWORD = "bench-charger-secret-0123456789"
CHARGERS_PER_STATION = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def setup_fleet(count: int, prefix: str) -> list[str]:
    """Creates `count` chargers with one connector each and sets their OCPP passwords; returns their serials."""
    import django

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://... (the gateway stores in PostgreSQL).")
    django.setup()
    import logging

    logging.getLogger("ocpp").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from apps.chargepoints.services.credentials import charge_box_set_password
    from apps.identity import services as identity
    from apps.pricing.models import RatePlan
    from apps.stations import services as stations
    from evcharge.actor import Actor

    operator = identity.operator_create(name=f"Bench {prefix}")
    admin = Actor.system()
    RatePlan.objects.create(
        operator_id=operator.id, name="bench", currency="EUR", energy_price_per_kwh=39, is_default=True
    )
    serials = []
    for first in range(0, count, CHARGERS_PER_STATION):
        chargers = [
            {
                "serial": f"{prefix}-{n:05d}",
                "max_power_kw": 22,
                "connectors": [{"number": 1, "type": "TYPE2"}],
            }
            for n in range(first, min(first + CHARGERS_PER_STATION, count))
        ]
        station = stations.station_create(
            name=f"Bench {prefix} {first}",
            latitude=52.5,
            longitude=13.4,
            timezone="Europe/Berlin",
            operator_id=operator.id,
            chargers=chargers,
            by=admin,
        )
        for charger in station.chargers.all():
            charge_box_set_password(charger_id=charger.id, password=PASSWORD, by=None)
            serials.append(charger.serial)
    return serials


def start_server(kind: str, port: int) -> subprocess.Popen:
    if kind == "gateway":
        command = [sys.executable, "manage.py", "ocpp_gateway", "--host", "127.0.0.1", "--port", str(port)]
    else:
        command = [sys.executable, __file__, "--bare-server", str(port)]
    env = {
        **os.environ,
        "LOG_LEVEL": "WARNING",
        "OCPP_INSTANCE_ID": f"bench-{kind}",
        "EVENTS_TRANSPORT": GATEWAY_TRANSPORT,
    }
    return subprocess.Popen(command, cwd=ROOT, env=env)


async def wait_listening(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


# --- the bare central system (a subprocess of this script) ---


def bare_server(port: int) -> None:
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from ocpp.v16.enums import Action
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    class Bare(ChargePoint):
        @on(Action.boot_notification)
        def on_boot(self, **_):
            now = datetime.now(UTC).isoformat()
            return call_result.BootNotification(current_time=now, interval=300, status="Accepted")

        @on(Action.heartbeat)
        def on_heartbeat(self, **_):
            return call_result.Heartbeat(current_time=datetime.now(UTC).isoformat())

        @on(Action.status_notification)
        def on_status(self, **_):
            return call_result.StatusNotification()

        @on(Action.meter_values)
        def on_meter_values(self, **_):
            return call_result.MeterValues()

    async def handler(connection):
        with contextlib.suppress(ConnectionClosed):
            await Bare(connection.request.path.rsplit("/", 1)[-1], connection).start()

    async def main():
        async with serve(handler, "127.0.0.1", port, subprotocols=["ocpp1.6"], ping_interval=None):
            await asyncio.Future()

    raise_fd_limit()
    asyncio.run(main())


# --- the clients ---


async def open_chargers(port: int, serials: list[str]) -> list:
    from ocpp.v16 import ChargePoint, call
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(50)

    async def open_one(serial: str):
        token = base64.b64encode(f"{serial}:{PASSWORD}".encode()).decode()
        async with gate:
            websocket = await connect(
                f"ws://127.0.0.1:{port}/ocpp/{serial}",
                subprotocols=["ocpp1.6"],
                additional_headers={"Authorization": f"Basic {token}"},
                open_timeout=120,
                ping_interval=None,
            )
            charger = ChargePoint(serial, websocket, response_timeout=60)
            charger.reader = asyncio.ensure_future(charger.start())
            await charger.call(call.BootNotification(charge_point_vendor="bench", charge_point_model="sim"))
            await charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
            return charger

    return await asyncio.gather(*(open_one(serial) for serial in serials))


def meter_values(energy_wh: int):
    from ocpp.v16 import call

    sampled = [{"value": str(energy_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
    return call.MeterValues(
        connector_id=1, meter_value=[{"timestamp": datetime.now(UTC).isoformat(), "sampledValue": sampled}]
    )


async def steady(chargers: list, rate: float, seconds: float) -> dict[str, list[float]]:
    from ocpp.v16 import call

    latencies: dict[str, list[float]] = {"Heartbeat": [], "MeterValues": []}
    total = int(rate * seconds)
    start = time.monotonic() + 0.5

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        charger = chargers[i % len(chargers)]
        kind = "Heartbeat" if i % 2 else "MeterValues"
        request = call.Heartbeat() if kind == "Heartbeat" else meter_values(1_000_000 + i)
        began = time.monotonic()
        await charger.call(request)
        latencies[kind].append((time.monotonic() - began) * 1000)

    await asyncio.gather(*(one(i) for i in range(total)))
    return latencies


async def flat_out(chargers: list, seconds: float) -> int:
    done = 0
    stop_at = time.monotonic() + seconds

    async def loop(charger, offset: int) -> None:
        nonlocal done
        energy = 2_000_000 + offset * 1_000
        while time.monotonic() < stop_at:
            energy += 10
            await charger.call(meter_values(energy))
            done += 1

    await asyncio.gather(*(loop(charger, n) for n, charger in enumerate(chargers)))
    return done


def held(chargers: list) -> int:
    return sum(1 for charger in chargers if charger._connection.close_code is None)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


async def measure(kind: str, port: int, serials: list[str], rate: float, seconds: float) -> dict:
    await wait_listening(port)
    began = time.monotonic()
    chargers = await open_chargers(port, serials)
    opened = time.monotonic() - began
    latencies = await steady(chargers, rate, seconds)
    steady_held = held(chargers)
    count = await flat_out(chargers, seconds)
    result = {
        "opened_s": opened,
        "held": held(chargers),
        "steady_held": steady_held,
        "latencies": latencies,
        "meter_values_per_s": count / seconds,
    }
    for charger in chargers:
        charger.reader.cancel()
        await charger._connection.close()
    return result


def report(kind: str, result: dict, chargers: int, rate: float) -> None:
    print(f"== {kind}")
    opened = f"opened and booted in {result['opened_s']:.1f} s"
    print(f"connections held          {result['held']:,} of {chargers:,} ({opened})")
    for message, values in result["latencies"].items():
        print(
            f"steady {rate:g} msg/s       {message:<12} p50 {statistics.median(values):.1f} ms   "
            f"p99 {pct(values, 0.99):.1f} ms   ({len(values):,} answered)"
        )
    print(f"flat out                  MeterValues {result['meter_values_per_s']:,.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chargers", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200, help="steady phase: messages/s in all")
    parser.add_argument("--seconds", type=float, default=15, help="length of each phase")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server)
        return
    raise_fd_limit()
    prefix = f"B{uuid.uuid4().hex[:6].upper()}"
    print(f"setting up {args.chargers:,} chargers (stations, connectors, OCPP passwords) ...", flush=True)
    serials = setup_fleet(args.chargers, prefix)
    results = {}
    for kind in ("bare", "gateway"):
        port = free_port()
        server = start_server(kind, port)
        try:
            results[kind] = asyncio.run(measure(kind, port, serials, args.rate, args.seconds))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        report(kind, results[kind], args.chargers, args.rate)
    ratio = results["gateway"]["meter_values_per_s"] / results["bare"]["meter_values_per_s"]
    print(f"ratio gateway/bare        {ratio:.2f} of the bare server's MeterValues rate (goal >= 0.5)")
    print(
        f"   ({os.cpu_count()} CPUs; clients, server and PostgreSQL share them; the gateway stores every MeterValues,"
        " the bare server nothing)"
    )


if __name__ == "__main__":
    main()
