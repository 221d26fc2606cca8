"""The event bus on the inline transport (any database), the catalog, admin and metrics."""

import uuid
from datetime import timedelta

import pytest
import yaml
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from evcharge.contracts._base import EVENT_TYPES
from evcharge.contracts.identity import UserCreated
from evcharge.events import EventEnvelope, publish
from evcharge.events.models import DeadLetter, InboxMessage, OutboxMessage
from evcharge.events.outbox import PublishOutsideTransaction
from evcharge.events.registry import topic_matches


def user_created() -> UserCreated:
    return UserCreated(user_id=uuid.uuid4(), role="driver")


def test_publish_outside_a_transaction_raises():
    with pytest.raises(PublishOutsideTransaction, match=r"inside transaction\.atomic"):
        publish(user_created())
    assert not OutboxMessage.objects.exists()


def test_rollback_publishes_and_delivers_nothing(subscribe):
    received = []
    subscribe("user.created.v1", consumer="events_test")(received.append)

    with pytest.raises(RuntimeError), transaction.atomic():
        publish(user_created())
        raise RuntimeError("no")

    assert not OutboxMessage.objects.exists()
    assert received == []


def test_commit_delivers_once_through_the_inbox(subscribe, outbox):
    received = []
    subscribe("user.created.v1", consumer="events_test")(received.append)

    with transaction.atomic():
        envelope = publish(user_created())

    assert [e.id for e in received] == [envelope.id]
    assert outbox("user.created.v1") == [envelope]
    assert OutboxMessage.objects.get().sent_at is not None
    assert InboxMessage.objects.filter(consumer="events_test", event_id=envelope.id).count() == 1


def test_a_replayed_event_is_skipped_by_the_inbox(subscribe):
    from evcharge.events.dispatch import APPLIED, DUPLICATE, deliver

    received = []
    subscribe("user.created.v1", consumer="events_test")(received.append)
    envelope = EventEnvelope.wrap(user_created())

    assert deliver(envelope, "events_test") == APPLIED
    assert deliver(envelope, "events_test") == DUPLICATE
    assert len(received) == 1


@pytest.mark.allow_dead_letters
def test_a_failing_handler_is_dead_lettered_and_the_command_replays_it(subscribe, settings, capsys):
    settings.EVENTS_HANDLER_MAX_ATTEMPTS = 2
    calls = []

    def handler(event):
        calls.append(event.id)
        if len(calls) <= 2:
            raise ValueError("boom")

    subscribe("user.created.v1", consumer="events_test")(handler)
    with transaction.atomic():
        envelope = publish(user_created())

    letter = DeadLetter.objects.get()
    assert (letter.consumer, letter.event_id, letter.attempts) == ("events_test", envelope.id, 2)
    assert "ValueError: boom" in letter.error

    call_command("events_deadletters", "--source", "database")
    assert str(envelope.id) in capsys.readouterr().out
    call_command("events_deadletters", "--replay", "--source", "database")
    assert "database: 1 replayed, 0 failed again" in capsys.readouterr().out
    assert calls == [envelope.id] * 3
    letter.refresh_from_db()
    assert letter.replayed_at is not None
    assert InboxMessage.objects.filter(consumer="events_test", event_id=envelope.id).exists()


def test_the_relay_backs_off_then_marks_rows_dead(settings, monkeypatch):
    from evcharge.events import relay
    from evcharge.events.transports.inline import InlineTransport

    settings.EVENTS_RELAY_MAX_ATTEMPTS = 2
    monkeypatch.setattr(InlineTransport, "send", lambda self, events: {e.id: "broker says no" for e in events})
    with transaction.atomic():
        envelope = publish(user_created())

    row = OutboxMessage.objects.get(id=envelope.id)
    assert (row.attempts, row.sent_at, row.dead_at, row.last_error) == (1, None, None, "broker says no")
    assert row.available_at > timezone.now()  # backing off
    assert relay.relay_pending() == 0  # not due yet

    OutboxMessage.objects.update(available_at=timezone.now() - timedelta(seconds=1))
    relay.relay_pending()
    row.refresh_from_db()
    assert row.attempts == 2 and row.dead_at is not None and row.state == "dead"
    assert relay.backoff(1) == timedelta(seconds=1) and relay.backoff(5) == timedelta(seconds=16)


def test_the_relay_skips_rows_claimed_by_another_relay():
    from evcharge.events import relay

    with transaction.atomic():
        OutboxMessage.objects.create(
            id=(e := EventEnvelope.wrap(user_created())).id,
            type=e.type,
            envelope=e.to_dict(),
            locked_until=timezone.now() + timedelta(seconds=30),
        )
    assert relay.relay_pending() == 0
    OutboxMessage.objects.update(locked_until=timezone.now() - timedelta(seconds=1))  # the lease ran out
    assert relay.relay_pending() == 1
    assert OutboxMessage.objects.get().sent_at is not None


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("station.created.v1", "station.created.v1", True),
        ("station.*.v1", "station.created.v1", True),
        ("station.*.v1", "station.config.updated.v1", False),
        ("station.#", "station.config.updated.v1", True),
        ("#.v1", "user.created.v1", True),
        ("*.created.v1", "user.created.v2", False),
    ],
)
def test_patterns_follow_amqp_topic_rules(pattern, key, matches):
    assert topic_matches(pattern, key) is matches


# --- the catalog ---


def test_every_event_type_has_a_schema_that_its_own_example_passes():
    from evcharge.events.catalog import event_schema, load_contracts, validation_errors

    contracts = load_contracts()
    assert len(contracts) >= 18 and "user.created.v1" in contracts
    for event_type in contracts:
        assert event_schema(event_type)["properties"]["type"] == {"const": event_type}
    good = EventEnvelope.wrap(user_created()).to_dict()
    assert validation_errors(good) == []
    bad = {**good, "data": {"user_id": "not-a-uuid", "role": 7}}
    assert len(validation_errors(bad)) == 2
    assert validation_errors({**good, "type": "nobody.declared.v1"})


def test_asyncapi_document_is_served_without_authentication(anon):
    response = anon.get("/api/asyncapi.yaml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    document = yaml.safe_load(response.content)
    assert document["asyncapi"].startswith("3.")
    assert set(document["channels"]) == set(EVENT_TYPES)
    assert document["channels"]["user.created.v1"]["bindings"]["amqp"]["exchange"]["type"] == "topic"
    message = document["components"]["messages"]["user.created.v1"]
    assert message["contentType"] == "application/cloudevents+json"
    assert message["payload"]["properties"]["data"] == {"$ref": "#/components/schemas/UserCreated"}
    assert document["operations"]["identity.send.user.created.v1"]["action"] == "send"


# --- operations ---


def test_metrics_show_backlog_and_counters(anon, subscribe):
    subscribe("user.created.v1", consumer="events_metrics")(lambda event: None)
    OutboxMessage.objects.create(
        id=(e := EventEnvelope.wrap(user_created())).id,
        type=e.type,
        envelope=e.to_dict(),
        created_at=timezone.now() - timedelta(minutes=5),
        available_at=timezone.now() + timedelta(minutes=5),
    )
    with transaction.atomic():
        publish(user_created())

    body = anon.get("/metrics").content.decode()

    assert "evcharge_events_outbox_backlog 1.0" in body
    age = next(
        line for line in body.splitlines() if line.startswith("evcharge_events_outbox_oldest_unsent_age_seconds")
    )
    assert float(age.split()[-1]) >= 299
    assert 'evcharge_events_published_total{type="user.created.v1"}' in body
    assert 'evcharge_events_consumed_total{consumer="events_metrics"}' in body


def test_admin_lists_the_outbox_by_state_and_replays_dead_rows(make_user, client):
    staff = make_user("admin")
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    envelope = EventEnvelope.wrap(user_created())
    OutboxMessage.objects.create(
        id=envelope.id, type=envelope.type, envelope=envelope.to_dict(), attempts=12, dead_at=timezone.now()
    )

    dead = client.get("/admin/events/outboxmessage/?state=dead")
    assert dead.status_code == 200 and str(envelope.id) in dead.content.decode()
    assert str(envelope.id) not in client.get("/admin/events/outboxmessage/?state=sent").content.decode()
    for page in ("/admin/events/inboxmessage/", "/admin/events/deadletter/?replayed=no"):
        assert client.get(page).status_code == 200

    response = client.post("/admin/events/outboxmessage/", {"action": "replay", "_selected_action": [str(envelope.id)]})
    assert response.status_code == 302
    row = OutboxMessage.objects.get(id=envelope.id)
    assert row.dead_at is None and row.sent_at is not None and row.attempts == 0  # sent again (inline)


def test_the_asyncapi_catalog_shows_the_version_of_every_state_carrying_event(anon):
    document = yaml.safe_load(anon.get("/api/asyncapi.yaml").content)
    schemas = document["components"]["schemas"]
    for name in (
        "StationCreated",
        "StationUpdated",
        "StationStatusChanged",
        "StationConfigUpdated",
        "ChargerHealthChanged",
        "ConfigChanged",
        "InvoiceUpdated",
    ):
        assert schemas[name]["properties"]["version"]["type"] == "integer", name
