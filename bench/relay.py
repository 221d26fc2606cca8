"""Event relay: outbox -> RabbitMQ throughput vs raw batched publish-with-confirms, same run; and
commit-to-handler latency at a steady rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evcharge_events \\
    CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/evcharge_events .venv/bin/python bench/relay.py

Throughput: N outbox rows (user.created.v1) are relayed by `relay_pending()` (per batch one transaction: take
the rows FOR UPDATE SKIP LOCKED, marking them sent, publish with confirms, commit; two lanes on a backlog) into a
durable queue bound to the exchange;
then the SAME message bodies are published raw with the SAME client (py-amqp, broker.ConfirmingPublisher)
in batches of the same size, waiting for each batch's confirms. Rounds alternate; medians are printed
with the ratio (goal: relay >= 90% of raw). One-by-one confirms are shown for reference.

Latency: separate processes, as in production (web processes publish, a Celery worker relays,
workers consume), so that no one interpreter's GIL sets the pace. All are spawned (fresh interpreter,
Django set up in each, the parent's unique exchange/queue prefix inherited through the environment):
  - --publishers processes share a fixed schedule (event i due at start + i / --rate, for --seconds),
    one transaction per event publishing one user.created.v1; the commit time is time.time() taken by
    the transaction's first on-commit hook, i.e. right after COMMIT returned, and handed back to the
    parent at the end (while the clock runs only the wake-up crosses processes, and the parent
    counts the inbox rows every 0.1 s to know when all were handled);
  - one relay process runs relay_pending() whenever a commit wakes it (a multiprocessing Event set by
    the on-commit hook where production calls relay_outbox.delay()) and at least every --sweep s;
    so the Celery hop itself (task message, worker pick-up) is NOT in the figure;
  - --consumers processes each run the same ConsumerLoop as `manage.py events_consume --consumer bench`
    (one thread); the handler, inside the inbox transaction, stamps time.time() per event.
The parent waits until the inbox holds every event, then pairs the stamps: handler - commit, both the
host's wall clock. Prints the offered rate, p50/p99/max, and publish -> taken to send (the rows' sent_at).
Prints the CPU each role used per event (publishers, relay, consumers; PostgreSQL and RabbitMQ not counted).
Options: --rows N (default 20000), --rounds N (default 10: single rounds swing by ±10 points on a shared 2-core
machine), --rate N (500), --seconds N (10), --publishers N (processes, default 2), --consumers N (processes,
default 2), --sweep S (0.5),
--find-max [N]: then, for 1..N consumer processes (default 4), steps the rate up (250, 500, 750, ... /s) and
prints the highest steady rate at which every event is handled with a commit -> handler p99 under 100 ms.
"""

import argparse
import os
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("PAYMENT_GATEWAY", "apps.billing.gateways.TestGateway")  # named: no default outside embedded
os.environ["EVENTS_TRANSPORT"] = "rabbitmq"


def setup_django(unique: str):
    import django

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://... (the relay claims rows with FOR UPDATE SKIP LOCKED).")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("amqp"):
        sys.exit("Set CELERY_BROKER_URL=amqp://... (your own vhost).")
    os.environ["EVENTS_EXCHANGE"] = f"{unique}.events"
    os.environ["EVENTS_QUEUE_PREFIX"] = f"{unique}."
    django.setup()
    from django.core.management import call_command

    call_command("migrate", "events", interactive=False, verbosity=0)
    freeze_startup()


def freeze_startup() -> None:
    """What a Celery worker (evcharge/celery.py) and a web process (evcharge/wsgi.py) do once started."""
    import gc

    gc.collect()
    gc.freeze()


def empty_tables():
    from django.db import connection

    from evcharge.events.models import InboxMessage, OutboxMessage

    OutboxMessage.objects.all().delete()
    InboxMessage.objects.filter(consumer="bench").delete()
    with connection.cursor() as cursor:  # what autovacuum would do between rounds, outside the timing
        cursor.execute("VACUUM ANALYZE events_outboxmessage")


def fill_outbox(rows: int) -> None:
    from evcharge.contracts.identity import UserCreated
    from evcharge.events.envelope import EventEnvelope
    from evcharge.events.models import OutboxMessage

    envelopes = [EventEnvelope.wrap(UserCreated(user_id=uuid.uuid4(), role="driver")) for _ in range(rows)]
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(id=e.id, type=e.type, envelope=e.to_dict(), created_at=e.time, available_at=e.time)
            for e in envelopes
        ],
        batch_size=5000,
    )


def stored_bodies() -> list[tuple[uuid.UUID, bytes]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, envelope::text FROM events_outboxmessage ORDER BY created_at")
        return [(row[0], row[1].encode()) for row in cursor.fetchall()]


def purge(queue: str) -> None:
    from evcharge.events.broker import connect

    connection = connect(os.environ["CELERY_BROKER_URL"])
    connection.channel().queue_purge(queue)
    connection.close()


def relay_round(rows: int, queue: str) -> float:
    from evcharge.events.relay import relay_pending
    from evcharge.events.transports.rabbitmq import RabbitMQTransport

    empty_tables()
    fill_outbox(rows)
    purge(queue)
    transport = RabbitMQTransport()
    transport.send([])  # connect and declare outside the timing
    started = time.perf_counter()
    claimed = relay_pending(transport=transport)
    elapsed = time.perf_counter() - started
    transport.close()
    assert claimed == rows, (claimed, rows)
    return rows / elapsed


def raw_round(bodies: list[tuple[uuid.UUID, bytes]], queue: str, batch: int, *, one_by_one=False) -> float:
    from django.conf import settings

    from evcharge.events.broker import ConfirmingPublisher, Outgoing
    from evcharge.events.transports.rabbitmq import message_properties

    purge(queue)
    publisher = ConfirmingPublisher(settings.EVENTS_BROKER_URL)
    exchange, size = settings.EVENTS_EXCHANGE, 1 if one_by_one else batch
    started = time.perf_counter()
    for start in range(0, len(bodies), size):
        # the same message objects and properties as the relay's transport builds them
        messages = [
            Outgoing(event_id, exchange, "user.created.v1", body, message_properties(event_id, "user.created.v1"))
            for event_id, body in bodies[start : start + size]
        ]
        result = publisher.publish_batch(messages)
        assert not result.failed
    elapsed = time.perf_counter() - started
    publisher.close()
    return len(bodies) / elapsed


def throughput(rows: int, rounds: int) -> None:
    from django.conf import settings

    queue = f"{settings.EVENTS_QUEUE_PREFIX}tap"
    from evcharge.events.broker import connect
    from evcharge.events.topology import declare_exchanges

    connection = connect(settings.EVENTS_BROKER_URL)
    channel = connection.channel()
    declare_exchanges(channel)
    channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.queue_bind(queue, settings.EVENTS_EXCHANGE, routing_key="#")
    connection.close()

    batch = settings.EVENTS_RELAY_BATCH_SIZE
    relay_rates, raw_rates = [], []
    for round_number in range(1, rounds + 1):
        relay_rates.append(relay_round(rows, queue))
        bodies = stored_bodies()  # exactly the messages the relay just sent
        raw_rates.append(raw_round(bodies, queue, batch))
        print(
            f"  round {round_number}: relay {relay_rates[-1]:,.0f} msg/s   raw {raw_rates[-1]:,.0f} msg/s"
            f"   ratio {relay_rates[-1] / raw_rates[-1]:.0%}"
        )
    one_by_one = raw_round(bodies[:2000], queue, batch, one_by_one=True)
    relay, raw = statistics.median(relay_rates), statistics.median(raw_rates)
    print(f"rows per round            {rows:,} (batch {batch}, persistent, mandatory, durable queue)")
    print(f"raw batch publish+confirm {raw:,.0f} msg/s (median of {rounds})")
    print(f"relay (outbox -> broker)  {relay:,.0f} msg/s (median of {rounds})")
    ratios = sorted(r / w for r, w in zip(relay_rates, raw_rates, strict=True))
    print(
        f"ratio relay/raw           {relay / raw:.0%} of the medians, {statistics.median(ratios):.0%} median per round"
        "   (goal >= 90%)"
    )
    print(f"one-by-one confirms       {one_by_one:,.0f} msg/s (raw batched is {raw / one_by_one:.1f}x faster)")
    empty_tables()


BENCH_CONSUMER = "bench"


_handled: list[tuple[uuid.UUID, float]] = []  # in a consumer process: (event id, wall-clock time handled)


def on_user_created(event):
    """The bench's handler, run by the consumer processes inside the inbox transaction."""
    _handled.append((event.id, time.time()))


def subscribe_bench() -> None:
    from evcharge.events.registry import subscriber

    subscriber("user.created.v1", consumer=BENCH_CONSUMER)(on_user_created)


def child_setup() -> None:
    """A spawned child: a fresh interpreter with the parent's environment (unique exchange and queue
    prefix included), Django set up here, its own database and broker connections."""
    import django

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the children
    django.setup()
    freeze_startup()
    subscribe_bench()  # every process knows the bench consumer, so the relay declares its queue too


def consumer_process(ready, stop, results) -> None:
    """One `manage.py events_consume --consumer bench`: the same ConsumerLoop, one thread."""
    child_setup()
    from evcharge.events.consumer import ConsumerLoop

    loop = ConsumerLoop([BENCH_CONSUMER]).start(timeout=60)
    cpu = time.process_time()
    ready.put("consumer")
    stop.wait()
    loop.stop()
    results.put(("handled", list(_handled), time.process_time() - cpu))


def relay_process(ready, stop, wake, results, sweep: float) -> None:
    """The Celery relay task's stand-in: relay_pending() each time a commit wakes it (one mp.Event set
    by every publishing transaction's on-commit hook, where production sends relay_outbox.delay()),
    and at least every `sweep` seconds, like beat's periodic sweep."""
    child_setup()
    from django.db import connections

    from evcharge.events.relay import relay_pending
    from evcharge.events.transports import get_transport

    get_transport().send([])  # connect and declare the topology before the clock starts
    cpu = time.process_time()
    ready.put("relay")
    while not stop.is_set():
        wake.wait(sweep)
        wake.clear()  # a commit after this point sets it again; a commit before it is claimed below
        relay_pending()
    get_transport().close()
    connections.close_all()
    results.put(("relayed", [], time.process_time() - cpu))


def publisher_process(ready, go, start_at, wake, results, offset: int, step: int, total: int, rate: int) -> None:
    """One web process: a fixed schedule (event i due at start + i / rate, this process taking every
    `step`-th i), one transaction per event publishing one event; the commit time is stamped by the
    first on-commit hook, i.e. right after COMMIT returned and before the relay is woken."""
    child_setup()
    from django.db import connection, connections, transaction

    from evcharge.contracts.identity import UserCreated
    from evcharge.events import publish
    from evcharge.events.transports.rabbitmq import RabbitMQTransport

    RabbitMQTransport.wake_relay = lambda self: wake.set()  # what relay_outbox.delay() does, without Celery
    connection.ensure_connection()
    cpu = time.process_time()
    ready.put("publisher")
    go.wait()
    started = start_at.value
    committed: list[tuple[uuid.UUID, float, float]] = []  # (event id, commit time, lateness vs schedule)
    for index in range(offset, total, step):
        due = started + index / rate
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        stamp: list[float] = []
        with transaction.atomic():
            transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))  # the first hook: runs first
            envelope = publish(UserCreated(user_id=uuid.uuid4(), role="driver"))
        committed.append((envelope.id, stamp[0], max(0.0, -pause)))
    connections.close_all()
    results.put(("committed", committed, time.process_time() - cpu))


def latency(rate: int, seconds: float, publishers: int, consumers: int, sweep: float, *, quiet: bool = False) -> dict:
    import multiprocessing

    from django.db import connections

    from evcharge.events.models import InboxMessage

    subscribe_bench()  # the parent too: cleanup() deletes the bench queue with the others
    empty_tables()
    connections.close_all()  # nothing of the parent's is inherited anyway (spawn), but keep it tidy
    context = multiprocessing.get_context("spawn")
    ready, results = context.Queue(), context.Queue()
    stop, wake, go = context.Event(), context.Event(), context.Event()
    start_at = context.Value("d", 0.0)
    total = int(rate * seconds)
    children = []

    def spawn(target, *args):
        process = context.Process(target=target, args=args, daemon=True)
        process.start()
        children.append(process)

    def await_ready(count: int) -> None:
        for _ in range(count):
            ready.get(timeout=120)

    try:
        for _ in range(consumers):  # consuming (queue declared) before anything is published
            spawn(consumer_process, ready, stop, results)
        await_ready(consumers)
        spawn(relay_process, ready, stop, wake, results, sweep)
        await_ready(1)
        for offset in range(publishers):
            spawn(publisher_process, ready, go, start_at, wake, results, offset, publishers, total, rate)
        await_ready(publishers)
        start_at.value = time.time() + 0.2
        go.set()

        committed: dict[uuid.UUID, float] = {}
        lateness: list[float] = []
        cpu: dict[str, float] = {}
        for _ in range(publishers):  # each publisher hands its commit stamps back when it is done
            kind, rows, seconds_used = results.get(timeout=seconds * 10 + 120)
            assert kind == "committed", kind
            cpu[kind] = cpu.get(kind, 0.0) + seconds_used
            for event_id, at, late in rows:
                committed[event_id] = at
                lateness.append(late)
        last_commit = max(committed.values())
        deadline = time.monotonic() + 60
        inbox = InboxMessage.objects.filter(consumer=BENCH_CONSUMER)
        while inbox.count() < total and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        stopped = time.time()
        handled: dict[uuid.UUID, float] = {}
        for _ in range(consumers + 1):
            kind, rows, seconds_used = results.get(timeout=60)
            cpu[kind] = cpu.get(kind, 0.0) + seconds_used
            for event_id, at in rows:
                handled.setdefault(event_id, at)  # the inbox lets a handler run once per event anyway
        for process in children:
            process.join(30)
    finally:
        stop.set()
        go.set()
        for process in children:
            if process.is_alive():
                process.terminate()
                process.join(5)

    achieved = total / (last_commit - start_at.value)
    ms = sorted((handled[event_id] - at) * 1000 for event_id, at in committed.items() if event_id in handled)
    late = sorted(value * 1000 for value in lateness)
    p50 = ms[len(ms) // 2] if ms else float("inf")
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else float("inf")
    result = {"offered": achieved, "handled": len(ms), "total": total, "p50": p50, "p99": p99, "cpu": cpu}
    if quiet:
        empty_tables()
        return result
    print(
        f"events                    {total:,} at {achieved:,.0f}/s offered ({rate}/s target), {len(ms):,} handled"
        f"   (publishers behind schedule: p50 {late[len(late) // 2]:.1f} ms, max {late[-1]:.1f} ms)"
    )
    if ms:
        print(f"commit -> handler         p50 {p50:.1f} ms   p99 {p99:.1f} ms   max {ms[-1]:.1f} ms")
    from django.db.models import F

    from evcharge.events.models import OutboxMessage

    lags = sorted(
        (row.total_seconds() * 1000)
        for row in OutboxMessage.objects.annotate(lag=F("sent_at") - F("created_at")).values_list("lag", flat=True)
        if row is not None
    )
    if lags:
        print(
            f"publish -> taken to send  p50 {lags[len(lags) // 2]:.1f} ms   p99 {lags[int(len(lags) * 0.99)]:.1f} ms"
            "   (sent_at: when the relay took the row, in the transaction it commits once the broker confirmed)"
        )
    wall = stopped - start_at.value
    print(
        f"CPU seconds used          publishers {cpu.get('committed', 0):.1f}, relay {cpu.get('relayed', 0):.1f}, "
        f"consumers {cpu.get('handled', 0):.1f} in {wall:.1f} s wall x {os.cpu_count()} CPUs"
        f" (PostgreSQL and RabbitMQ not counted; load now {os.getloadavg()[0]:.2f})"
    )
    per_event = {role: 1000 * cpu.get(kind, 0.0) / total for role, kind in ROLES}
    print("CPU per event             " + ", ".join(f"{role} {value:.2f} ms" for role, value in per_event.items()))
    empty_tables()
    return result


ROLES = (("publishers", "committed"), ("relay", "relayed"), ("consumers", "handled"))
FIND_MAX_RATES = (250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000)
FIND_MAX_P99_MS = 100.0


def find_max(seconds: float, publishers: int, consumer_counts: list[int], sweep: float) -> None:
    """For each number of consumer processes, the highest steady rate (of FIND_MAX_RATES) at which every event is
    handled and the commit -> handler p99 stays under FIND_MAX_P99_MS."""
    print(f"== sustained rate: highest steady rate with p99 < {FIND_MAX_P99_MS:.0f} ms ({seconds:g} s per step)")
    for consumers in consumer_counts:
        best = None
        for rate in FIND_MAX_RATES:
            result = latency(rate, seconds, publishers, consumers, sweep, quiet=True)
            held = result["handled"] == result["total"] and result["offered"] >= 0.9 * rate
            print(
                f"   {consumers} consumer(s) at {rate:>5}/s: offered {result['offered']:,.0f}/s, p99 "
                f"{result['p99']:.1f} ms{'' if held else ' (publishers could not hold the rate)'}"
            )
            if not held or result["p99"] >= FIND_MAX_P99_MS:
                break
            best = rate
        print(f"max sustained rate        {best or 0}/s with {consumers} consumer process(es)")


def cleanup() -> None:
    from django.conf import settings

    from evcharge.events.broker import connect
    from evcharge.events.topology import consumer_names, delete_topology

    connection = connect(settings.EVENTS_BROKER_URL)
    channel = connection.channel()
    channel.queue_delete(f"{settings.EVENTS_QUEUE_PREFIX}tap")
    delete_topology(channel, consumer_names())
    connection.close()


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=positive, default=20000)
    parser.add_argument("--rounds", type=positive, default=10)
    parser.add_argument("--rate", type=positive, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes (web workers)")
    parser.add_argument("--consumers", type=int, default=2, help="consumer processes (events_consume)")
    parser.add_argument("--sweep", type=float, default=0.5, help="relay pass at least this often (s)")
    parser.add_argument(
        "--find-max",
        metavar="N",
        type=int,
        nargs="?",
        const=4,
        help="also find the highest steady rate with p99 < 100 ms for 1..N consumer processes (default 4)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still clean the broker up when stopped
    setup_django(f"bench.{uuid.uuid4().hex[:8]}")
    try:
        print("== throughput: outbox relay vs raw batch publish with confirms (same client, same messages)")
        throughput(args.rows, args.rounds)
        print(f"== latency: commit -> handler at {args.rate} events/s for {args.seconds:g} s")
        print(
            f"   ({args.publishers} publisher processes, 1 relay process woken on commit, "
            f"{args.consumers} consumer processes; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})"
        )
        latency(args.rate, args.seconds, args.publishers, args.consumers, args.sweep)
        if args.find_max:
            find_max(args.seconds, args.publishers, list(range(1, args.find_max + 1)), args.sweep)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
