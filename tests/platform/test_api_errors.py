"""problem+json for every error under /api/: unknown routes, wrong methods, validation, crashes."""

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from evcharge import urls as project_urls
from evcharge.errors import BusinessRuleViolation, Conflict
from tests.helpers import assert_problem


class CrashingApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):
        raise RuntimeError("boom")

    def post(self, request):
        class Input(serializers.Serializer):
            amount = serializers.IntegerField(min_value=0)
            lines = serializers.ListField(child=serializers.DictField(child=serializers.IntegerField()))

        data = Input(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)

    def put(self, request):
        raise Conflict("Already stopped.", code="already_stopped")

    def patch(self, request):
        raise BusinessRuleViolation("Promotion expired.")


def crashing_django_view(request):
    raise RuntimeError("boom in a plain view")


def plain_django_view(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/v1/test-only/crash", CrashingApi.as_view()),
    path("api/v1/test-only/plain-crash", crashing_django_view),
    path("api/v1/test-only/plain", plain_django_view),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = pytest.mark.urls(__name__)


def test_unknown_route_under_api_is_a_problem(anon):
    body = assert_problem(anon.get("/api/v1/no/such/route"), 404)
    assert "/api/v1/no/such/route" in body["detail"]


def test_unknown_route_under_api_is_a_problem_even_with_debug(anon, settings):
    settings.DEBUG = True
    assert_problem(anon.get("/api/v1/nothing-here"), 404)


def test_unknown_page_outside_api_stays_html(anon):
    response = anon.get("/no-such-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/problem+json")


def test_wrong_method_is_405_problem(anon):
    response = anon.delete("/api/v1/auth/register")
    body = assert_problem(response, 405)
    assert "DELETE" in body["detail"]
    assert "POST" in response["Allow"]


def test_wrong_method_on_a_plain_django_view_is_405_problem(anon, settings):
    from django.views.decorators.http import require_GET

    response = Client().post("/api/v1/test-only/plain")
    assert response.status_code == 200  # the plain view accepts any method; now restrict it
    urlpatterns[2] = path("api/v1/test-only/plain", require_GET(plain_django_view))
    try:
        assert_problem(Client().post("/api/v1/test-only/plain"), 405)
    finally:
        urlpatterns[2] = path("api/v1/test-only/plain", plain_django_view)


def test_validation_errors_name_each_field_with_dotted_paths(anon):
    response = anon.post("/api/v1/test-only/crash", {"amount": -1, "lines": [{"a": 1}, {"b": "x"}]}, format="json")
    body = assert_problem(response, 400, fields=("amount", "lines.1.b"))
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())


def test_domain_errors_map_to_their_status(anon):
    conflict = assert_problem(anon.put("/api/v1/test-only/crash"), 409)
    assert conflict["code"] == "already_stopped"
    assert conflict["detail"] == "Already stopped."
    assert_problem(anon.patch("/api/v1/test-only/crash"), 422)


def test_a_crash_in_an_api_view_is_a_500_problem_without_internals(anon, caplog):
    body = assert_problem(anon.get("/api/v1/test-only/crash"), 500)
    assert "boom" not in body["detail"]
    assert any(record.exc_info for record in caplog.records)


def test_a_crash_in_a_plain_view_under_api_is_a_500_problem():
    response = Client(raise_request_exception=False).get("/api/v1/test-only/plain-crash")
    assert_problem(response, 500)


def test_unsupported_media_type_is_a_problem(anon):
    response = anon.post("/api/v1/auth/register", "email=x", content_type="text/plain")
    assert_problem(response, 415)
