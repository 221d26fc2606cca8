import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.helpers import require_services

pytest_plugins = ["tests.bus_fixtures"]  # RabbitMQ bus per test, schema check of published events


def pytest_collection_modifyitems(items):
    # Every test runs with real commits: on_commit hooks (the event relay), row locks across threads.
    for item in items:
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(autouse=True)
def _platform_test_defaults(request, settings):
    settings.EVENTS_TRANSPORT = "rabbitmq" if request.node.get_closest_marker("rabbitmq") else "inline"
    settings.SECURE_SSL_REDIRECT = False
    settings.PAYMENT_GATEWAY = settings.PAYMENT_GATEWAY or "apps.billing.gateways.TestGateway"  # tests pay with it
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tests: fast, not safe
    from evcharge.celery import app
    from evcharge.events.transports import reset_transports

    reset_transports()
    app.conf.task_always_eager = not request.node.get_closest_marker("rabbitmq")
    cache.clear()
    require_services(
        postgres=request.node.get_closest_marker("postgres") is not None,
        rabbitmq=request.node.get_closest_marker("rabbitmq") is not None,
        broker_url=settings.CELERY_BROKER_URL,
    )
    yield
    reset_transports()
    # Eager tasks run from several threads at once (a consumer thread's relay wake-up beside the test's) can leave
    # Celery's process-wide "joining would block" flag set (its save-and-restore is not thread-safe): clear it.
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def _no_unexpected_dead_letters(request):
    """A handler that fails in a test must fail the test, unless the test expects dead letters."""
    yield
    if request.node.get_closest_marker("allow_dead_letters"):
        return
    if "transactional_db" not in request.fixturenames and "db" not in request.fixturenames:
        return
    from evcharge.events.models import DeadLetter

    dead = list(DeadLetter.objects.values_list("consumer", "type", "error"))
    assert not dead, f"event handlers failed: {dead}"


# --- people and clients ---


@pytest.fixture
def make_operator():
    from apps.identity.models import Operator

    def make(name: str | None = None):
        return Operator.objects.create(name=name or f"Operator {uuid.uuid4().hex[:6]}")

    return make


@pytest.fixture
def make_user():
    from apps.identity.models import User

    def make(role: str = "driver", operator=None, email: str | None = None, password: str = "correct-horse-42"):
        return User.objects.create_user(
            email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.test",
            password=password,
            name=role.title(),
            role=role,
            operator=operator,
            is_staff=role != "driver",
        )

    return make


def access_token_for(user) -> str:
    from apps.identity.api.serializers import TokenObtainSerializer

    return str(TokenObtainSerializer.get_token(user).access_token)


@pytest.fixture
def client_for():
    def make(user=None, api_key: str | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
        elif api_key is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
        return client

    return make


@pytest.fixture
def operator_org(make_operator):
    return make_operator("Voltway")


@pytest.fixture
def other_operator_org(make_operator):
    return make_operator("Ampere")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin")


@pytest.fixture
def operator_user(make_user, operator_org):
    return make_user("operator", operator=operator_org)


@pytest.fixture
def other_operator_user(make_user, other_operator_org):
    return make_user("operator", operator=other_operator_org)


@pytest.fixture
def driver(make_user):
    return make_user("driver")


@pytest.fixture
def other_driver(make_user):
    return make_user("driver")


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


@pytest.fixture
def operator_client(client_for, operator_user):
    return client_for(operator_user)


@pytest.fixture
def other_operator_client(client_for, other_operator_user):
    return client_for(other_operator_user)


@pytest.fixture
def driver_client(client_for, driver):
    return client_for(driver)


@pytest.fixture
def other_driver_client(client_for, other_driver):
    return client_for(other_driver)


@pytest.fixture
def api_key_for():
    """A raw API key acting for an operator (as a charger would hold it)."""
    from apps.identity import services
    from evcharge.actor import Actor

    def make(operator) -> str:
        _, raw = services.api_key_create(
            name="test charger", by=Actor(user_id=None, role="admin"), operator_id=operator.id
        )
        return raw

    return make


# --- events ---


@pytest.fixture
def outbox():
    """outbox() -> every event published so far (EventEnvelope, in order); outbox("type") filters."""
    from evcharge.events.envelope import EventEnvelope
    from evcharge.events.models import OutboxMessage

    def read(event_type: str | None = None):
        rows = OutboxMessage.objects.order_by("created_at", "id")
        if event_type:
            rows = rows.filter(type=event_type)
        return [EventEnvelope.from_dict(row.envelope) for row in rows]

    return read
