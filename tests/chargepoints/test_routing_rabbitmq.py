# ruff: noqa: F811  (pytest fixtures imported from gateway_fixtures)
"""Command routing over RabbitMQ: a command reaches the one gateway instance that bound the charger's charge box
id; a command for a charger no instance holds is offline at once (returned by the broker), not after a timeout."""

import contextlib
import uuid

import pytest
from django.utils import timezone

from apps.chargepoints import routing
from apps.chargepoints.models import ChargeBox, RemoteCommand
from apps.chargepoints.services.commands import command_request
from evcharge.events.broker import connect
from tests.bus_fixtures import wait_until
from tests.chargepoints.gateway_fixtures import (  # noqa: F401  (fixtures)
    EventLoopThread,
    boot,
    connect_charger,
    gateway,
    ocpp_loop,
    ocpp_station,
)

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture(autouse=True)
def _own_exchange(settings, bus):
    settings.OCPP_COMMANDS_EXCHANGE = f"test.{uuid.uuid4().hex[:12]}.ocpp.commands"
    yield
    routing._drop_publisher()
    connection = connect(settings.EVENTS_BROKER_URL)
    with contextlib.suppress(Exception):
        connection.channel().exchange_delete(settings.OCPP_COMMANDS_EXCHANGE)
    connection.close()


class Instance:
    """A CommandConsumer as a gateway instance runs it, recording what it is handed."""

    def __init__(self, loop: EventLoopThread, name: str) -> None:
        self.loop = loop
        self.received: list[tuple[str, uuid.UUID]] = []
        self.consumer = routing.CommandConsumer(f"{name}-{uuid.uuid4().hex[:6]}", self._on_command)
        loop.run(self.consumer.start())

    async def _on_command(self, charge_box_id, command_id) -> None:
        self.received.append((charge_box_id, command_id))

    def bind(self, charge_box_id: str) -> None:
        self.loop.run(self.consumer.bind(charge_box_id))

    def unbind(self, charge_box_id: str) -> None:
        self.loop.run(self.consumer.unbind(charge_box_id))

    def close(self) -> None:
        self.loop.run(self.consumer.close())


@pytest.fixture
def instances(ocpp_loop):
    made: list[Instance] = []

    def make(name: str) -> Instance:
        made.append(Instance(ocpp_loop, name))
        return made[-1]

    yield make
    for instance in made:
        instance.close()


def test_a_command_reaches_the_instance_holding_the_charger_and_no_other(ocpp_station, instances):
    charger_id = uuid.UUID(ocpp_station["charger"]["id"])
    first, second = instances("gw-a"), instances("gw-b")
    first.bind(ocpp_station["serial"])
    second.bind("SOMEONE-ELSE")

    command = command_request(charger_id=charger_id, action="Reset", payload={"type": "Soft"}, requested_by=None)

    wait_until(lambda: first.received, message="delivered to the instance holding the charger")
    assert first.received == [(ocpp_station["serial"], command.id)] and second.received == []
    command.refresh_from_db()
    assert command.status == "pending"  # the gateway marks it sent when it sends it


def test_a_command_no_instance_holds_is_offline_at_once_and_unbinding_stops_delivery(
    operator_client, ocpp_station, instances
):
    instance = instances("gw-a")
    instance.bind(ocpp_station["serial"])
    instance.unbind(ocpp_station["serial"])

    response = operator_client.post(
        f"/api/v1/chargers/{ocpp_station['charger']['id']}/commands",
        {"action": "Reset", "payload": {"type": "Soft"}},
        format="json",
    )

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "offline"
    assert routing.command_publish(charge_box_id=ocpp_station["serial"], command_id=uuid.uuid4()) is False
    assert instance.received == []


def test_a_gateway_receives_its_chargers_commands_over_rabbitmq_and_forgets_the_charger_when_it_leaves(
    operator_client, ocpp_station, connect_charger
):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    wait_until(
        lambda: routing.command_publish(charge_box_id=ocpp_station["serial"], command_id=uuid.uuid4()),
        message="the charge box bound",
    )

    posted = operator_client.post(
        f"/api/v1/chargers/{ocpp_station['charger']['id']}/commands",
        {"action": "GetConfiguration", "payload": {"key": ["HeartbeatInterval"]}},
        format="json",
    ).json()

    command = wait_until(lambda: RemoteCommand.objects.filter(id=posted["id"], status="accepted").first())
    assert command.response["configurationKey"][0]["key"] == "HeartbeatInterval"

    charger.close()
    wait_until(
        lambda: not routing.command_publish(charge_box_id=ocpp_station["serial"], command_id=uuid.uuid4()),
        message="the charge box unbound when the charger left",
    )


def test_a_remote_start_no_gateway_can_route_cancels_the_pending_session_at_once(driver_client, ocpp_station):
    # The charger looks online (a gateway that died has not been noticed yet) but no instance holds its binding.
    ChargeBox.objects.filter(id=ocpp_station["charger"]["id"]).update(
        connected=True, gateway_instance="gw-gone", last_seen_at=timezone.now()
    )

    def start():  # the reservations context learns of the new connector over the bus: until then 404
        response = driver_client.post(
            "/api/v1/sessions", {"connector_id": ocpp_station["connectors"][0]["id"]}, format="json"
        )
        return response if response.status_code != 404 else None

    response = wait_until(start, message="the connector known to the reservations context")

    assert response.status_code == 201, response.content
    session = driver_client.get(f"/api/v1/sessions/{response.json()['id']}").json()
    assert session["status"] == "cancelled" and "offline" in session["cancel_reason"]
    assert RemoteCommand.objects.get(session_id=session["id"]).status == "offline"
