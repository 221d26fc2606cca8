"""Nothing stuck on the bus: database errors count attempts, what was handled is purged after its retention,
and bindings no subscription names any more are removed."""

import uuid
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.db import OperationalError, transaction
from django.utils import timezone

from evcharge.contracts.identity import UserCreated
from evcharge.events import publish
from evcharge.events.models import DeadLetter, InboxMessage, OutboxMessage, QueueBinding
from evcharge.events.retention import purge_handled
from evcharge.events.topology import queue_name

CONSUMER = "stuck_test"


def publish_committed(event):
    with transaction.atomic():
        return publish(event)


def user_created() -> UserCreated:
    return UserCreated(user_id=uuid.uuid4(), role="driver")


@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.allow_dead_letters
def test_a_message_failing_on_the_database_is_dead_lettered_after_its_budget_and_blocks_nothing(bus, settings):
    settings.EVENTS_HANDLER_MAX_ATTEMPTS_DB = 3
    poisoned = user_created()
    applied = []

    def handler(event):
        if event.data.user_id == poisoned.user_id:
            raise OperationalError("canceling statement due to statement timeout")
        applied.append(event.id)

    bus.subscribe("user.created.v1", consumer=CONSUMER)(handler)
    poison = publish_committed(poisoned)
    after = publish_committed(user_created())

    bus.wait_until(lambda: applied == [after.id], message="the next message is handled, not blocked")
    (letter,) = bus.wait_until(lambda: bus.dead_letters(CONSUMER))
    assert letter.event_id == str(poison.id)
    assert letter.attempts == 3
    assert "OperationalError: canceling statement due to statement timeout" in letter.error
    assert not InboxMessage.objects.filter(event_id=poison.id).exists()


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_a_pattern_no_subscription_names_any_more_is_unbound_when_the_topology_is_declared(bus):
    from evcharge.events.registry import subscriber, unsubscribe
    from evcharge.events.topology import declare_topology, queue_name

    def on_user(event):
        pass

    subscriber("user.created.v1", consumer=CONSUMER)(on_user)
    bus._declared.add(CONSUMER)
    bus._channel_do(declare_topology)
    assert QueueBinding.objects.filter(queue=queue_name(CONSUMER), routing_key="user.created.v1").exists()

    unsubscribe(on_user)  # a release whose consumer no longer subscribes to user.created.v1
    bus._channel_do(declare_topology)

    assert not QueueBinding.objects.filter(queue=queue_name(CONSUMER)).exists()
    publish_committed(user_created())
    bus.settle()
    assert bus.queue_depth(queue_name(CONSUMER)) == 0, "the old binding still routes events to the queue"
    assert QueueBinding.objects.filter(queue=queue_name("billing"), routing_key="session.completed.v1").exists()


def test_the_purge_keeps_each_kind_for_its_retention(settings):
    settings.EVENTS_OUTBOX_RETENTION_DAYS, settings.EVENTS_INBOX_RETENTION_DAYS = 7, 14
    settings.EVENTS_DEADLETTER_RETENTION_DAYS = 30
    now = timezone.now()
    envelope = {"id": str(uuid.uuid4())}  # a dead letter's copy of the event: not checked here

    def outbox(days_ago, sent=True):
        envelope = publish_committed(user_created())
        OutboxMessage.objects.filter(id=envelope.id).update(sent_at=now - timedelta(days=days_ago) if sent else None)
        return OutboxMessage.objects.get(id=envelope.id)

    def inbox(days_ago):
        return InboxMessage.objects.create(
            consumer="billing", event_id=uuid.uuid4(), type="x.v1", received_at=now - timedelta(days=days_ago)
        )

    def dead(days_ago):
        return DeadLetter.objects.create(
            consumer="billing",
            event_id=uuid.uuid4(),
            type="x.v1",
            envelope=envelope,
            error="boom",
            created_at=now - timedelta(days=days_ago),
        )

    kept = [outbox(6), outbox(30, sent=False), inbox(13), dead(29)]
    outbox(8), inbox(15), dead(31)

    purged = purge_handled(now=now)

    assert (purged.outbox, purged.inbox, purged.dead_letters) == (1, 1, 1)
    assert {row.pk for row in kept} == {
        *OutboxMessage.objects.values_list("pk", flat=True),
        *InboxMessage.objects.values_list("pk", flat=True),
        *DeadLetter.objects.values_list("pk", flat=True),
    }


def test_an_inbox_horizon_shorter_than_the_redelivery_window_stops_the_start(settings):
    settings.EVENTS_INBOX_RETENTION_DAYS = 0

    errors = [message for message in run_checks() if message.id == "events.E001"]

    assert errors and "applied twice" in errors[0].msg
    settings.EVENTS_INBOX_RETENTION_DAYS = 14
    assert not [message for message in run_checks() if message.id == "events.E001"]


@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.allow_dead_letters
def test_deliveries_are_applied_in_batches_and_a_failing_one_is_retried_alone(bus, settings):
    from prometheus_client import REGISTRY

    settings.EVENTS_HANDLER_MAX_ATTEMPTS = 1
    poisoned = user_created()
    applied = []

    def handler(event):
        InboxMessage.objects.create(consumer="side_effect", event_id=event.id, type=event.type)  # an effect
        if event.data.user_id == poisoned.user_id:
            raise ValueError("bad data")
        applied.append(event.id)

    bus.subscribe("user.created.v1", consumer=CONSUMER)(handler)
    batches_before = REGISTRY.get_sample_value("evcharge_events_consumer_batch_size_count") or 0
    sizes_before = REGISTRY.get_sample_value("evcharge_events_consumer_batch_size_sum") or 0
    with transaction.atomic():  # 60 events reach the queue together
        events = [publish(user_created()) for _ in range(30)] + [publish(poisoned)]
        events += [publish(user_created()) for _ in range(29)]

    (letter,) = bus.wait_until(lambda: bus.dead_letters(CONSUMER))
    bus.settle()
    good = {e.id for e in events} - {events[30].id}
    assert set(applied) == good  # (a handler may run again when its batch is retried: its effects commit once)
    assert letter.event_id == str(events[30].id)
    assert set(InboxMessage.objects.filter(consumer="side_effect").values_list("event_id", flat=True)) == good
    assert set(InboxMessage.objects.filter(consumer=CONSUMER).values_list("event_id", flat=True)) == good
    batches = (REGISTRY.get_sample_value("evcharge_events_consumer_batch_size_count") or 0) - batches_before
    sizes = (REGISTRY.get_sample_value("evcharge_events_consumer_batch_size_sum") or 0) - sizes_before
    assert sizes == 60 and batches < 60 / 2, f"{sizes} deliveries in {batches} batches"
    bus.stop()  # a closed channel gives its unacknowledged deliveries back to the queue: there must be none
    assert bus.queue_depth(queue_name(CONSUMER)) == 0
    bus.start()
