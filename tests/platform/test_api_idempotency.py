"""The Idempotency-Key helper every context reuses (POST /sessions, checkout, promotions/apply)."""

import uuid

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from evcharge.actor import Actor
from evcharge.api.authentication import Principal
from evcharge.api.idempotency import idempotent
from evcharge.api.models import IdempotencyRecord
from evcharge.api.permissions import IsAnyUser
from evcharge.errors import Conflict

factory = APIRequestFactory()


class CountingApi(APIView):
    permission_classes = [IsAnyUser]
    calls: list = []
    required = False

    def post(self, request):
        def run():
            CountingApi.calls.append(request.data)
            if request.data.get("fail"):
                raise Conflict("refused")
            if request.data.get("nested_same_key"):
                nested = call(request.data, key=request.headers["Idempotency-Key"])
                return Response({"nested_status": nested.status_code, "nested": nested.data}, status=201)
            return Response({"id": str(uuid.uuid4()), "n": len(CountingApi.calls)}, status=201)

        return idempotent(request, scope="test.counting", run=run, required=self.required)


ALICE = Principal(Actor(user_id=uuid.uuid4(), role="driver"))
BOB = Principal(Actor(user_id=uuid.uuid4(), role="driver"))


def call(body, *, key=None, user=ALICE, required=False):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    request = factory.post("/api/v1/test-only/counting", body, format="json", **headers)
    force_authenticate(request, user=user)
    response = CountingApi.as_view(required=required)(request)
    response.render()
    return response


@pytest.fixture(autouse=True)
def _reset_calls():
    CountingApi.calls = []


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
