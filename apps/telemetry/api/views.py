from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.telemetry import selectors, services
from apps.telemetry.api import serializers as s
from apps.telemetry.api.parsers import BodyTooLarge, OrjsonParser, parse_json_bounded
from apps.telemetry.readings import parse_batch
from evcharge.api.authentication import JWT_OR_API_KEY
from evcharge.api.errors import problem_response
from evcharge.api.permissions import IsAnyUser, IsOperatorOrAdmin, actor
from evcharge.errors import NotFound

INGEST_DESCRIPTION = """One event object, or a list of up to 1000. The batch is validated as a whole: if any
item is bad, nothing is stored and the 400 problem+json names every bad field by index
(`{"errors": {"3.kind": [...], "7.ts": [...]}}`; a single object's errors are named by field alone).
Unknown chargers, and connectors not of the given charger, are a 400 naming the indexes. Chargers of another
operator (for an operator's token or API key) are a 403 naming the indexes (a 400 if the batch also has
invalid items). Readings already stored (same charger, connector, ts and kind) are counted as duplicates.
A body over TELEMETRY_MAX_BODY_BYTES (default 2 MiB, room for 1000 readings) answers 413 before it is read
(from Content-Length) or as soon as it passes the limit (a chunked body)."""


def _chunked_body(request):
    """The raw input of a chunked request the server has de-chunked and delimited (wsgi.input_terminated),
    which Django's request, lacking a Content-Length, would not read; None otherwise."""
    environ = getattr(request._request, "environ", {})
    meta = request.META
    if meta.get("CONTENT_LENGTH") or "chunked" not in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    return environ.get("wsgi.input") if environ.get("wsgi.input_terminated") else None


class TelemetryEventsApi(APIView):
    """Chargers (Api-Key) and operators/admins (JWT) post readings."""

    authentication_classes = JWT_OR_API_KEY
    permission_classes = [IsOperatorOrAdmin]
    parser_classes = [OrjsonParser]

    def handle_exception(self, exc):
        if isinstance(exc, BodyTooLarge):
            return problem_response(
                413,
                str(exc.detail),
                title="Payload too large",
                slug="payload-too-large",
                code="payload_too_large",
                max_bytes=settings.TELEMETRY_MAX_BODY_BYTES,
            )
        return super().handle_exception(exc)

    @extend_schema(
        request=s.TelemetryEventIn(many=True),
        responses={
            202: s.IngestOut,
            400: OpenApiResponse(description="Invalid batch; nothing stored."),
            413: OpenApiResponse(description="Body over TELEMETRY_MAX_BODY_BYTES; nothing read beyond the limit."),
        },
        description=INGEST_DESCRIPTION,
        examples=[
            OpenApiExample(
                "A meter reading",
                value={
                    "charger_id": "7d5e0c3c-8a43-4d2e-9d5b-1f0e6d4e2a11",
                    "connector_id": "0a6f6c8e-2b7c-4c39-8a0e-5b9f3d1e4c22",
                    "ts": "2026-11-25T12:00:00Z",
                    "kind": "meter",
                    "energy_wh": 123456,
                    "power_w": 22000,
                },
                request_only=True,
            )
        ],
        tags=["telemetry"],
    )
    def post(self, request):
        chunked = _chunked_body(request)
        if chunked is not None and request.content_type.split(";")[0].strip() != OrjsonParser.media_type:
            raise UnsupportedMediaType(request.content_type)
        payload = request.data if chunked is None else parse_json_bounded(chunked)
        readings = parse_batch(
            payload,
            now=timezone.now(),
            max_items=settings.TELEMETRY_MAX_BATCH,
            retention_days=settings.TELEMETRY_RETENTION_DAYS,
            max_future_seconds=settings.TELEMETRY_MAX_FUTURE_SECONDS,
        )
        result = services.telemetry_ingest(readings=readings, by=actor(request))
        body = {"accepted": result.accepted, "duplicates": result.duplicates}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class StationLatestApi(APIView):
    """Any signed-in user: the latest reading and health of each charger and connector of a station."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses=s.StationLatestOut, tags=["telemetry"])
    def get(self, request, station_id):
        chargers = selectors.station_latest(station_id)
        if chargers is None:
            raise NotFound("Telemetry knows no station with this id.")
        return Response(s.StationLatestOut({"station_id": station_id, "chargers": chargers}).data)
