"""The event bus on real PostgreSQL and RabbitMQ: what issue 3's "done when" asks."""

import uuid

import pytest
from django.core.management import call_command
from django.db import transaction
from prometheus_client import REGISTRY

from evcharge.contracts.identity import UserCreated
from evcharge.events import publish
from evcharge.events.envelope import CLOUDEVENTS_CONTENT_TYPE, EventEnvelope
from evcharge.events.models import InboxMessage, OutboxMessage
from tests.helpers import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

CONSUMER = "events_test"


def user_created() -> UserCreated:
    return UserCreated(user_id=uuid.uuid4(), role="driver")


def publish_committed(event) -> EventEnvelope:
    with transaction.atomic():
        return publish(event)


class RelayKilled(BaseException):
    """Stands for the relay's process dying: nothing catches it."""


def counter(name: str, consumer: str) -> float:
    return REGISTRY.get_sample_value(f"evcharge_events_{name}_total", {"consumer": consumer}) or 0.0


def test_rollback_publishes_nothing(bus):
    tap = bus.tap()
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(user_created())
        raise RuntimeError("the business change failed")
    marker = publish_committed(user_created())
    bus.relay()

    messages = tap.wait_for(1)
    assert [m.event_id for m in messages] == [str(marker.id)]
    assert OutboxMessage.objects.count() == 1


def test_commit_publishes_exactly_once_as_a_persistent_cloudevent(bus):
    tap = bus.tap("user.created.v1")
    envelope = publish_committed(user_created())

    (message,) = tap.wait_for(1)
    assert message.routing_key == "user.created.v1"
    assert message.properties["content_type"] == CLOUDEVENTS_CONTENT_TYPE
    assert message.properties["delivery_mode"] == 2
    assert message.properties["message_id"] == str(envelope.id)
    assert EventEnvelope.from_json(message.body) == envelope

    bus.relay()  # a second pass (the beat sweep) finds nothing to send
    marker = publish_committed(user_created())
    assert [m.event_id for m in tap.wait_for(2)] == [str(envelope.id), str(marker.id)]
    row = OutboxMessage.objects.get(id=envelope.id)
    assert row.sent_at is not None and row.locked_until is None and row.attempts == 0


def test_user_registration_round_trip(bus, anon):
    received = []
    bus.subscribe("user.created.v1", consumer="events_roundtrip")(lambda event: received.append(event))

    response = anon.post(
        "/api/v1/auth/register", {"email": "round@trip.test", "password": "a-long-secret-42"}, format="json"
    )

    assert response.status_code == 201, response.content
    (event,) = bus.wait_until(lambda: received)
    assert isinstance(event.data, UserCreated)
    assert str(event.data.user_id) == response.json()["id"]
    assert event.data.role == "driver"
    assert InboxMessage.objects.filter(consumer="events_roundtrip", event_id=event.id).count() == 1
    bus.settle()
    assert OutboxMessage.objects.get().sent_at is not None


def test_a_duplicate_delivery_runs_the_handler_once(bus, settings):
    from evcharge.events.broker import ConfirmingPublisher, Outgoing
    from evcharge.events.transports.rabbitmq import message_properties

    calls = []
    bus.subscribe("user.*.v1", consumer=CONSUMER)(lambda event: calls.append(event.id))
    duplicates_before = counter("duplicates", CONSUMER)
    envelope = EventEnvelope.wrap(user_created())

    publisher = ConfirmingPublisher(settings.EVENTS_BROKER_URL)
    message = Outgoing(
        envelope.id,
        settings.EVENTS_EXCHANGE,
        envelope.type,
        envelope.to_json(),
        message_properties(envelope.id, envelope.type),
    )
    publisher.publish_batch([message, message])
    publisher.close()

    bus.wait_until(lambda: counter("duplicates", CONSUMER) == duplicates_before + 1)
    assert calls == [envelope.id]
    assert InboxMessage.objects.filter(consumer=CONSUMER, event_id=envelope.id).count() == 1


@pytest.mark.allow_dead_letters
def test_a_failing_handler_is_retried_then_dead_lettered_and_replay_works(bus, settings, capsys):
    settings.EVENTS_HANDLER_MAX_ATTEMPTS = 3
    settings.EVENTS_HANDLER_RETRY_DELAY_SECONDS = 0.2  # then 0.4: through the retry queue's TTL
    attempts, applied = [], []

    def handler(event):
        attempts.append(event.id)
        if len(attempts) <= 3:
            raise ValueError("tariff service down")
        applied.append(event.id)

    bus.subscribe("user.created.v1", consumer=CONSUMER)(handler)
    envelope = publish_committed(user_created())

    (letter,) = bus.wait_until(lambda: bus.dead_letters(CONSUMER))
    assert letter.event_id == str(envelope.id)
    assert letter.attempts == 3
    assert "ValueError: tariff service down" in letter.error
    assert attempts == [envelope.id] * 3
    assert not InboxMessage.objects.filter(event_id=envelope.id).exists()

    call_command("events_deadletters", "--consumer", CONSUMER)
    listed = capsys.readouterr().out
    assert str(envelope.id) in listed and "tariff service down" in listed

    call_command("events_deadletters", "--replay", "--consumer", CONSUMER)
    assert "rabbitmq: 1 moved back" in capsys.readouterr().out
    bus.wait_until(lambda: applied == [envelope.id])
    assert bus.dead_letters(CONSUMER) == []
    assert InboxMessage.objects.filter(consumer=CONSUMER, event_id=envelope.id).count() == 1


@pytest.mark.allow_dead_letters
def test_a_message_that_is_no_cloudevent_is_dead_lettered_by_the_broker(bus, settings):
    from evcharge.events.broker import ConfirmingPublisher, Outgoing

    bus.subscribe("user.created.v1", consumer=CONSUMER)(lambda event: None)
    publisher = ConfirmingPublisher(settings.EVENTS_BROKER_URL)
    publisher.publish_one(
        Outgoing("poison", settings.EVENTS_EXCHANGE, "user.created.v1", b"{not json", {"message_id": "poison"})
    )
    publisher.close()

    (letter,) = bus.wait_until(lambda: bus.dead_letters(CONSUMER))
    assert letter.error == "rejected by the broker (rejected)"


def test_relay_killed_between_publish_and_mark_sent_loses_nothing(bus, settings, monkeypatch):
    from evcharge.events import relay

    calls = []
    bus.subscribe("user.created.v1", consumer=CONSUMER)(lambda event: calls.append(event.id))
    tap = bus.tap("user.created.v1")
    duplicates_before = counter("duplicates", CONSUMER)

    def crash(events):
        raise RelayKilled("killed after publishing, before marking sent")

    monkeypatch.setattr(relay, "_after_publish", crash)
    published = []
    with pytest.raises(RelayKilled), transaction.atomic():
        published.append(publish(user_created()))  # the relay runs (and dies) right after this commit
    (envelope,) = published
    row = OutboxMessage.objects.get(id=envelope.id)
    assert row.sent_at is None and row.locked_until is None  # published, its transaction rolled back: due again
    tap.wait_for(1)

    monkeypatch.setattr(relay, "_after_publish", lambda events: None)
    assert bus.relay() == 1
    assert OutboxMessage.objects.get(id=envelope.id).sent_at is not None

    assert [m.event_id for m in tap.wait_for(2)] == [str(envelope.id)] * 2  # published twice...
    bus.wait_until(lambda: counter("duplicates", CONSUMER) == duplicates_before + 1)
    assert calls == [envelope.id]  # ...applied once
    assert InboxMessage.objects.filter(consumer=CONSUMER, event_id=envelope.id).count() == 1


def test_broker_unreachable_rows_stay_unsent_and_drain_once_it_is_back(bus, settings):
    from evcharge.events.transports import reset_transports

    calls = []
    bus.subscribe("user.created.v1", consumer=CONSUMER)(lambda event: calls.append(event.id))
    tap = bus.tap("user.created.v1")
    reachable = settings.EVENTS_BROKER_URL
    settings.EVENTS_BROKER_URL = "amqp://guest:guest@127.0.0.1:1/closed"  # nothing listens there
    reset_transports()

    envelopes = [publish_committed(user_created()) for _ in range(3)]
    bus.relay()

    rows = OutboxMessage.objects.order_by("created_at")
    assert [(r.sent_at, r.dead_at, r.attempts) for r in rows] == [(None, None, 1)] * 3
    assert all("Connection" in r.last_error or "refused" in r.last_error for r in rows), rows[0].last_error
    assert tap.messages() == []

    settings.EVENTS_BROKER_URL = reachable
    reset_transports()
    bus.wait_until(lambda: bus.relay() >= 0 and not OutboxMessage.objects.filter(sent_at__isnull=True).exists())

    assert sorted(m.event_id for m in tap.wait_for(3)) == sorted(str(e.id) for e in envelopes)
    bus.wait_until(lambda: sorted(calls) == sorted(e.id for e in envelopes))


def test_two_relays_in_parallel_publish_each_of_10k_rows_once(bus, settings):
    from evcharge.events.relay import relay_pending
    from evcharge.events.transports.rabbitmq import RabbitMQTransport

    bus.stop()  # nobody consumes: the tap alone counts what was published
    tap = bus.tap("#")
    envelopes = outbox_backlog(10_000)

    def relay(_index):
        transport = RabbitMQTransport()  # each relay its own connection, as two workers would have
        try:
            return relay_pending(transport=transport)
        finally:
            transport.close()

    claimed = run_concurrently(relay, 2, timeout=120)

    assert all(isinstance(n, int) for n in claimed), claimed
    assert sum(claimed) == 10_000
    published = [m.event_id for m in tap.wait_for(10_000, timeout=60)]
    assert len(published) == 10_000
    assert set(published) == {str(e.id) for e in envelopes}
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_the_celery_consumer_step_consumes_the_queues(bus, settings):
    from evcharge.celery import app
    from evcharge.events.consumer import EventConsumerStep

    assert "evcharge.events.consumer:EventConsumerStep" in app.steps["consumer"]
    calls = []
    bus.subscribe("user.created.v1", consumer=CONSUMER)(lambda event: calls.append(event.id))
    bus.stop()  # subscribe restarted the background consumers; the step alone consumes here
    settings.EVENTS_CONSUMERS = [CONSUMER]
    step = EventConsumerStep(parent=None)

    step.start(None)
    try:
        assert step.loop.names == [CONSUMER]
        envelope = publish_committed(user_created())
        bus.wait_until(lambda: calls)
    finally:
        step.stop(None)
    assert calls == [envelope.id]
    assert step.loop is None


def outbox_backlog(count: int) -> list[EventEnvelope]:
    envelopes = [EventEnvelope.wrap(user_created()) for _ in range(count)]
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(id=e.id, type=e.type, envelope=e.to_dict(), created_at=e.time, available_at=e.time)
            for e in envelopes
        ],
        batch_size=2000,
    )
    return envelopes


def test_a_backlog_reaches_the_broker_in_outbox_order_through_both_lanes(bus, settings):
    from evcharge.events.relay import relay_pending

    settings.EVENTS_RELAY_BATCH_SIZE = 100
    bus.stop()
    tap = bus.tap("#")
    envelopes = outbox_backlog(1_050)  # ten full batches and a half: the lanes take turns

    assert relay_pending() == 1_050

    assert [m.event_id for m in tap.wait_for(1_050, timeout=30)] == [str(e.id) for e in envelopes]
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_a_relay_dying_mid_backlog_keeps_what_was_confirmed_and_leaves_the_rest_due(bus, settings, monkeypatch):
    from evcharge.events import relay

    settings.EVENTS_RELAY_BATCH_SIZE = 100
    bus.stop()
    tap = bus.tap("#")
    envelopes = outbox_backlog(500)
    batches = []

    def crash_on_the_third(events):
        batches.append(events)
        if len(batches) == 3:
            raise RelayKilled("killed after publishing its third batch, before committing it")

    monkeypatch.setattr(relay, "_after_publish", crash_on_the_third)
    with pytest.raises(RelayKilled):
        relay.relay_pending()

    crashed = {event.id for event in batches[2]}
    confirmed = {event.id for batch in batches for event in batch} - crashed  # the other lane may finish its own
    assert set(OutboxMessage.objects.filter(sent_at__isnull=False).values_list("id", flat=True)) == confirmed
    assert len(tap.wait_for(len(confirmed) + 100)) == len(confirmed) + 100  # the crashed batch went out too

    monkeypatch.setattr(relay, "_after_publish", lambda events: None)
    assert relay.relay_pending() == 500 - len(confirmed)  # due at once: no lease to wait for, no lane holding rows
    published = [m.event_id for m in tap.wait_for(600)]
    assert set(published) == {str(e.id) for e in envelopes}
    assert len(published) - len(set(published)) == 100  # the crashed batch, twice: the inbox absorbs it
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_rows_a_hung_relay_holds_come_free_when_postgresql_ends_its_transaction(bus, settings, monkeypatch):
    import threading

    from django.db import connections

    from evcharge.events import relay

    settings.EVENTS_RELAY_LEASE_SECONDS = 1  # PostgreSQL's idle_in_transaction_session_timeout for the relay
    bus.stop()
    tap = bus.tap("#")
    [envelope] = outbox_backlog(1)
    hung, resume = threading.Event(), threading.Event()

    def hang(events):
        hung.set()
        resume.wait(10)

    monkeypatch.setattr(relay, "_after_publish", hang)
    outcome = []

    def hung_relay():
        try:
            outcome.append(relay.relay_pending())
        except Exception as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hung_relay)
    thread.start()
    assert hung.wait(10)
    monkeypatch.setattr(relay, "_after_publish", lambda events: None)
    try:
        assert relay.relay_pending() == 0  # locked by the hung relay's open transaction: skipped
        bus.wait_until(lambda: relay.relay_pending() == 1, timeout=10)  # PostgreSQL ended it after a second
    finally:
        resume.set()
        thread.join(10)

    [error] = outcome  # the hung relay's commit finds its session gone: it published, nothing more
    assert isinstance(error, Exception), error
    assert [m.event_id for m in tap.wait_for(2)] == [str(envelope.id)] * 2
    assert OutboxMessage.objects.get(id=envelope.id).sent_at is not None
