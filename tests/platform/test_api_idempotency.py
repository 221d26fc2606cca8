"""The Idempotency-Key helper every context reuses (POST /sessions, checkout, promotions/apply)."""

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from evcharge.actor import Actor
from evcharge.api.authentication import Principal
from evcharge.api.idempotency import idempotent
from evcharge.api.models import IdempotencyRecord
from evcharge.api.permissions import IsAnyUser
from evcharge.errors import Conflict
from tests.helpers import run_concurrently

factory = APIRequestFactory()


class WorkerKilled(BaseException):
    """The process dies mid-request: nothing after this line of the request runs."""


class CountingApi(APIView):
    permission_classes = [IsAnyUser]
    calls: list = []
    required = False
    atomic = False
    die_next = False
    work_seconds = 0.0

    def post(self, request):
        def run():
            CountingApi.calls.append(request.data)
            if request.data.get("operator"):
                from apps.identity.models import Operator

                Operator.objects.create(name=f"{request.data['operator']} {len(CountingApi.calls)}")
            time.sleep(CountingApi.work_seconds)
            if CountingApi.die_next:
                CountingApi.die_next = False
                raise WorkerKilled
            if request.data.get("fail"):
                raise Conflict("refused")
            if request.data.get("nested_same_key"):
                nested = call(request.data, key=request.headers["Idempotency-Key"])
                return Response({"nested_status": nested.status_code, "nested": nested.data}, status=201)
            return Response({"id": str(uuid.uuid4()), "n": len(CountingApi.calls)}, status=201)

        return idempotent(request, scope="test.counting", run=run, required=self.required, atomic=self.atomic)


ALICE = Principal(Actor(user_id=uuid.uuid4(), role="driver"))
BOB = Principal(Actor(user_id=uuid.uuid4(), role="driver"))


def call(body, *, key=None, user=ALICE, required=False, atomic=False):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    request = factory.post("/api/v1/test-only/counting", body, format="json", **headers)
    force_authenticate(request, user=user)
    response = CountingApi.as_view(required=required, atomic=atomic)(request)
    response.render()
    return response


@pytest.fixture(autouse=True)
def _reset_calls():
    CountingApi.calls = []
    CountingApi.die_next = False
    CountingApi.work_seconds = 0.0


def test_same_key_and_body_replays_the_first_response():
    first = call({"connector_id": "c1"}, key="k-1")
    again = call({"connector_id": "c1"}, key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.data == first.data
    assert again["Idempotent-Replayed"] == "true"
    assert len(CountingApi.calls) == 1


def test_same_key_with_another_body_is_409():
    call({"connector_id": "c1"}, key="k-1")
    response = call({"connector_id": "c2"}, key="k-1")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.data["code"] == "idempotency_key_reused"
    assert len(CountingApi.calls) == 1


def test_keys_belong_to_their_caller():
    call({"connector_id": "c1"}, key="k-1", user=ALICE)
    response = call({"connector_id": "c1"}, key="k-1", user=BOB)
    assert response.status_code == 201
    assert len(CountingApi.calls) == 2


def test_without_a_key_every_request_runs():
    call({"connector_id": "c1"})
    call({"connector_id": "c1"})
    assert len(CountingApi.calls) == 2
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_key_that_is_empty_or_too_long_is_400(key):
    response = call({"connector_id": "c1"}, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.data["errors"]
    assert CountingApi.calls == []


def test_a_key_of_255_characters_is_fine():
    assert call({"connector_id": "c1"}, key="x" * 255).status_code == 201


def test_a_required_key_that_is_missing_is_400():
    response = call({"connector_id": "c1"}, required=True)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.data["errors"]


def test_a_failed_request_is_not_stored_so_a_retry_runs_again():
    assert call({"fail": True}, key="k-2").status_code == 409
    assert call({"fail": True}, key="k-2").status_code == 409
    assert len(CountingApi.calls) == 2
    assert IdempotencyRecord.objects.count() == 0


def test_a_repeat_while_the_first_is_still_running_is_409():
    response = call({"nested_same_key": True}, key="k-3")
    assert response.status_code == 201
    assert response.data["nested_status"] == 409
    assert response.data["nested"]["code"] == "idempotency_in_progress"


def test_stored_responses_expire(settings):
    from datetime import timedelta

    from django.utils import timezone

    from evcharge.api.tasks import purge_idempotency_records

    call({"connector_id": "c1"}, key="old")
    call({"connector_id": "c1"}, key="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS, minutes=1)
    )
    assert purge_idempotency_records.apply().get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert call({"connector_id": "c1"}, key="old").status_code == 201
    assert len(CountingApi.calls) == 3


def test_the_purge_runs_hourly_on_beat():
    from evcharge.celery import app

    entry = app.conf.beat_schedule["api-idempotency-purge"]
    assert entry["task"] == "evcharge.api.idempotency_purge" and entry["schedule"] == 3600.0


# --- a worker that dies mid-request: the key is leased, not held for 24 hours ---


def die_then(body, *, key, atomic=False):
    CountingApi.die_next = True
    with pytest.raises(WorkerKilled):
        call(body, key=key, atomic=atomic)
    [record] = IdempotencyRecord.objects.filter(key=key)
    assert record.status_code is None  # left "in progress" by the dead worker
    return record


def age(record, seconds: float) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(locked_at=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.parametrize("atomic", [False, True])
def test_a_retry_after_the_lease_takes_over_a_record_its_dead_worker_left(settings, atomic):
    record = die_then({"connector_id": "c1"}, key="k-dead", atomic=atomic)
    age(record, settings.IDEMPOTENCY_LEASE_SECONDS + 1)
    response = call({"connector_id": "c1"}, key="k-dead", atomic=atomic)
    assert response.status_code == 201
    assert len(CountingApi.calls) == 2  # the dead worker's attempt, then the retry's
    replay = call({"connector_id": "c1"}, key="k-dead", atomic=atomic)
    assert replay.data == response.data and replay["Idempotent-Replayed"] == "true"
    assert len(CountingApi.calls) == 2


def test_a_retry_within_the_lease_is_409_and_does_not_run(settings):
    record = die_then({"connector_id": "c1"}, key="k-young")
    age(record, settings.IDEMPOTENCY_LEASE_SECONDS - 5)
    response = call({"connector_id": "c1"}, key="k-young")
    assert response.status_code == 409 and response.data["code"] == "idempotency_in_progress"
    assert len(CountingApi.calls) == 1


def test_a_taken_over_key_with_another_body_is_still_409_reused(settings):
    record = die_then({"connector_id": "c1"}, key="k-other")
    age(record, settings.IDEMPOTENCY_LEASE_SECONDS + 1)
    response = call({"connector_id": "c2"}, key="k-other")
    assert response.status_code == 409 and response.data["code"] == "idempotency_key_reused"


def test_atomic_work_dies_with_its_worker_and_runs_once_on_the_retry(settings):
    from apps.identity.models import Operator

    record = die_then({"operator": "Crashy"}, key="k-atomic", atomic=True)
    assert not Operator.objects.filter(name__startswith="Crashy").exists()  # rolled back with the request
    age(record, settings.IDEMPOTENCY_LEASE_SECONDS + 1)
    assert call({"operator": "Crashy"}, key="k-atomic", atomic=True).status_code == 201
    assert call({"operator": "Crashy"}, key="k-atomic", atomic=True).status_code == 201
    assert Operator.objects.filter(name__startswith="Crashy").count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("atomic", [False, True])
def test_concurrent_retries_of_a_dead_workers_key_run_it_exactly_once(settings, atomic):
    record = die_then({"connector_id": "c1"}, key="k-race", atomic=atomic)
    age(record, settings.IDEMPOTENCY_LEASE_SECONDS + 1)
    CountingApi.calls = []
    CountingApi.work_seconds = 0.3
    responses = run_concurrently(lambda _: call({"connector_id": "c1"}, key="k-race", atomic=atomic), 8)
    statuses = sorted(r.status_code for r in responses)
    assert len(CountingApi.calls) == 1, statuses
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
    assert len({r.data["id"] for r in responses if r.status_code == 201}) == 1  # the one response, replayed


@pytest.mark.postgres
def test_a_slow_atomic_request_past_its_lease_is_replayed_not_run_twice(settings):
    """The lease ran out while the first request still works: the retry takes the key over only once the
    first has committed (it waits for the record's row lock), then finds the stored response."""
    from apps.identity.models import Operator

    settings.IDEMPOTENCY_LEASE_SECONDS = 0
    CountingApi.work_seconds = 1.0

    def attempt(index):
        time.sleep(0.4 * index)  # the retry arrives while the first still works
        return call({"operator": "Slow"}, key="k-slow", atomic=True)

    first, retry = run_concurrently(attempt, 2)
    assert first.status_code == 201, first.data
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true", retry.data
    assert retry.data == first.data
    assert len(CountingApi.calls) == 1
    assert Operator.objects.filter(name__startswith="Slow").count() == 1
