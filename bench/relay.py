"""Event relay: outbox -> RabbitMQ throughput vs raw batched publish-with-confirms, same run; and
commit-to-handler latency at a steady rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evcharge_events \\
    CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/evcharge_events .venv/bin/python bench/relay.py

Throughput: N outbox rows (user.created.v1) are relayed by `relay_pending()` (claim FOR UPDATE SKIP
LOCKED + lease, batch publish with confirms, mark sent) into a durable queue bound to the exchange;
then the SAME message bodies are published raw with the SAME client (py-amqp, broker.ConfirmingPublisher)
in batches of the same size, waiting for each batch's confirms. Rounds alternate; medians are printed
with the ratio (goal: relay >= 75% of raw). One-by-one confirms are shown for reference.

Latency: one transaction per event at a steady --rate events/s for --seconds; the relay runs in its own
thread woken on each commit (as the Celery relay task would be), a consumer thread (the same
ConsumerLoop as `manage.py events_consume`) applies each event through the inbox; the handler records
now - commit time. Prints p50/p99/max.
Options: --rows N (default 20000), --rounds N (default 5), --rate N (500), --seconds N (10),
--publishers N (threads committing, default 8), --consumers N (consumer threads, default 2).
"""

import argparse
import os
import signal
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
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
        "   (goal >= 75%)"
    )
    print(f"one-by-one confirms       {one_by_one:,.0f} msg/s (raw batched is {raw / one_by_one:.1f}x faster)")
    empty_tables()


def latency(rate: int, seconds: float, publishers: int, consumers: int) -> None:
    from django.db import transaction

    from evcharge.contracts.identity import UserCreated
    from evcharge.events import publish
    from evcharge.events.consumer import ConsumerLoop
    from evcharge.events.registry import subscriber
    from evcharge.events.relay import relay_pending
    from evcharge.events.transports.rabbitmq import RabbitMQTransport

    committed_at: dict[uuid.UUID, float] = {}
    latencies: list[float] = []

    @subscriber("user.created.v1", consumer="bench")
    def on_user_created(event):
        latencies.append(time.perf_counter() - committed_at[event.id])

    wake = threading.Event()
    stop = threading.Event()
    RabbitMQTransport.wake_relay = lambda self: wake.set()  # what the Celery relay task's .delay() does

    def relay_worker():
        from django.db import connections

        while not stop.is_set():
            if wake.wait(0.5):
                wake.clear()
                relay_pending()
        connections.close_all()

    empty_tables()
    loops = [ConsumerLoop(["bench"]).start() for _ in range(consumers)]
    relayer = threading.Thread(target=relay_worker, daemon=True)
    relayer.start()

    total = int(rate * seconds)
    interval = publishers / rate  # each publisher (a web worker) offers rate / publishers events/s
    started = time.perf_counter() + 0.1

    def publisher(offset: int):
        from django.db import connections

        for index in range(offset, total, publishers):
            pause = started + index / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            with transaction.atomic():
                envelope = publish(UserCreated(user_id=uuid.uuid4(), role="driver"))
                transaction.on_commit(
                    lambda event_id=envelope.id: committed_at.__setitem__(event_id, time.perf_counter())
                )
        connections.close_all()

    assert interval > 0
    threads = [threading.Thread(target=publisher, args=(offset,)) for offset in range(publishers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    achieved = total / (time.perf_counter() - started)
    deadline = time.monotonic() + 60
    while len(latencies) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    relayer.join()
    for loop in loops:
        loop.stop()
    handled = sorted(latencies)
    ms = [value * 1000 for value in handled]
    print(f"events                    {total:,} at {achieved:,.0f}/s offered ({rate}/s target), {len(ms):,} handled")
    if ms:
        p50 = ms[len(ms) // 2]
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
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
            f"publish -> marked sent    p50 {lags[len(lags) // 2]:.1f} ms   p99 {lags[int(len(lags) * 0.99)]:.1f} ms"
            "   (the relay's share)"
        )
    empty_tables()


def cleanup() -> None:
    from django.conf import settings

    from evcharge.events.broker import connect
    from evcharge.events.topology import consumer_names, delete_topology

    connection = connect(settings.EVENTS_BROKER_URL)
    channel = connection.channel()
    channel.queue_delete(f"{settings.EVENTS_QUEUE_PREFIX}tap")
    delete_topology(channel, consumer_names())
    connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--publishers", type=int, default=8, help="threads committing events (web workers)")
    parser.add_argument("--consumers", type=int, default=2, help="consumer threads on the queue (workers)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still clean the broker up when stopped
    setup_django(f"bench.{uuid.uuid4().hex[:8]}")
    try:
        print("== throughput: outbox relay vs raw batch publish with confirms (same client, same messages)")
        throughput(args.rows, args.rounds)
        print(f"== latency: commit -> handler at {args.rate} events/s")
        print(
            f"   ({args.publishers} publishing threads, {args.consumers} consumer threads, "
            "relay thread woken on commit)"
        )
        latency(args.rate, args.seconds, args.publishers, args.consumers)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
