from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.stations import qr, selectors, services
from apps.stations.api import serializers as s
from evcharge.api.authentication import JWT_OR_API_KEY
from evcharge.api.permissions import IsAnyUser, IsOperatorOrAdmin, actor
from evcharge.errors import InvalidInput, NotFound

SCOPING = (
    "Writes: the station's operator (users of that operator, or its API keys where the route accepts them) "
    "and admins. Another operator's station answers 403 (stations are public to read, so their existence is "
    "no secret); an unknown id answers 404."
)


def _station_or_404(station_id):
    station = selectors.station_get(station_id)
    if station is None:
        raise NotFound("No such station.")
    return station


def _connector_or_404(connector_id):
    connector = selectors.connector_get(connector_id)
    if connector is None:
        raise NotFound("No such connector.")
    return connector


class StationListCreateApi(generics.GenericAPIView):
    """Stations: anyone lists them, without credentials; operators (for their own operator) and admins create."""

    filter_backends: list = []

    def get_permissions(self):
        return [IsOperatorOrAdmin()] if self.request.method == "POST" else [AllowAny()]

    permission_classes = [AllowAny]  # public to read; POST: IsOperatorOrAdmin (get_permissions)

    @extend_schema(
        parameters=[s.StationFilters],
        responses=s.StationOut(many=True),
        tags=["stations"],
        description="Filters: `operator_id`, `status` (derived, see the schema), `connector_type`, "
        "`near=lat,lon` with `radius_km` (default 10; great-circle distance; results nearest first with "
        "`distance_km`).",
    )
    def get(self, request):
        filters = s.StationFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        near = None
        if "near" in data:
            latitude, longitude = data["near"]
            near = selectors.Near(latitude=latitude, longitude=longitude, radius_km=data["radius_km"])
        stations = selectors.station_list(
            operator_id=data.get("operator_id"),
            status=data.get("status"),
            connector_type=data.get("connector_type"),
            near=near,
        )
        page = self.paginate_queryset(stations)
        return self.get_paginated_response(s.StationOut(page, many=True, context={"request": request}).data)

    @extend_schema(
        request=s.StationIn,
        responses={201: s.StationOut, 409: OpenApiResponse(description="A charger serial is registered already.")},
        tags=["stations"],
        description="Creates a station with its chargers and connectors; each connector gets a unique "
        "8-character `code` (its QR code encodes PUBLIC_BASE_URL/c/{code}). Operators create for their own "
        "operator; admins must give `operator_id`.",
    )
    def post(self, request):
        data = s.StationIn(data=request.data)
        data.is_valid(raise_exception=True)
        station = services.station_create(by=actor(request), **data.validated_data)
        body = s.StationOut(selectors.station_get(station.id), context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class StationDetailApi(APIView):
    def get_permissions(self):
        return [IsOperatorOrAdmin()] if self.request.method == "PATCH" else [AllowAny()]

    permission_classes = [AllowAny]  # public to read; PATCH: IsOperatorOrAdmin (get_permissions)

    @extend_schema(responses=s.StationOut, tags=["stations"], description="Anyone, without credentials.")
    def get(self, request, station_id):
        return Response(s.StationOut(_station_or_404(station_id), context={"request": request}).data)

    @extend_schema(request=s.StationPatchIn, responses=s.StationOut, tags=["stations"], description=SCOPING)
    def patch(self, request, station_id):
        data = s.StationPatchIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.station_update(station_id=station_id, by=actor(request), **data.validated_data)
        return Response(s.StationOut(_station_or_404(station_id), context={"request": request}).data)


class ChargerAddApi(APIView):
    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(
        request=s.ChargerIn,
        responses={201: s.ChargerOut, 409: OpenApiResponse(description="The serial is registered already.")},
        tags=["stations"],
        description="Adds a charger with its connectors; publishes station.updated.v1 (changed: chargers). " + SCOPING,
    )
    def post(self, request, station_id):
        data = s.ChargerIn(data=request.data)
        data.is_valid(raise_exception=True)
        charger = services.charger_add(station_id=station_id, by=actor(request), **data.validated_data)
        return Response(s.ChargerOut(selectors.charger_get(charger.id)).data, status=status.HTTP_201_CREATED)


class ConnectorDetailApi(APIView):
    permission_classes = [IsAnyUser]

    @extend_schema(responses=s.ConnectorDetailOut, tags=["stations"], description="Any signed-in user.")
    def get(self, request, connector_id):
        return Response(s.ConnectorDetailOut(_connector_or_404(connector_id)).data)


class ConnectorByCodeApi(APIView):
    """Anyone (no authentication): what the QR landing page shows. Case, spaces and dashes are ignored.
    Throttled per client address (THROTTLE_CONNECTOR_LOOKUP)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "connector_lookup"

    @extend_schema(responses=s.ConnectorByCodeOut, tags=["stations"], auth=[])
    def get(self, request, code):
        connector = selectors.connector_get_by_code(code)
        if connector is None:
            raise NotFound("No connector has this code.")
        return Response(s.ConnectorByCodeOut(connector).data)


class _IgnoreFormatParameter(BaseContentNegotiation):
    """`?format=` picks the image kind here, not a DRF renderer; errors are still problem+json."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ConnectorQrApi(APIView):
    permission_classes = [AllowAny]  # it encodes only the public URL /c/{code}
    content_negotiation_class = _IgnoreFormatParameter
    IMAGE_KINDS = {"png": "image/png", "svg": "image/svg+xml"}

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["png", "svg"], default="png"),
            OpenApiParameter("scale", int, description="Pixels per module, 1 to 40 (default 10)."),
        ],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The QR code"),
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="The QR code"),
        },
        tags=["stations"],
        description="Anyone, without credentials: the connector's QR code, encoding PUBLIC_BASE_URL/c/{code}.",
    )
    def get(self, request, connector_id):
        kind = request.query_params.get("format", "png").lower()
        if kind not in self.IMAGE_KINDS:
            raise InvalidInput("Unknown image format.", errors={"format": ["Choose png or svg."]})
        try:
            scale = int(request.query_params.get("scale", 10))
        except ValueError:
            scale = 0
        if not 1 <= scale <= 40:
            raise InvalidInput("Invalid scale.", errors={"scale": ["An integer from 1 to 40."]})
        connector = _connector_or_404(connector_id)
        render = qr.qr_svg if kind == "svg" else qr.qr_png
        response = HttpResponse(render(connector.code, scale=scale), content_type=self.IMAGE_KINDS[kind])
        response["Content-Disposition"] = f'inline; filename="connector-{connector.code}.{kind}"'
        return response


class ConnectorStatusApi(APIView):
    authentication_classes = JWT_OR_API_KEY
    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(
        request=s.ConnectorStatusIn,
        responses=s.ConnectorDetailOut,
        tags=["stations"],
        description="Sets the connector's OCPP 1.6 status (a charger with its operator's API key, the "
        "operator, an admin). Publishes station.status_changed.v1 only when the status really changes. " + SCOPING,
    )
    def put(self, request, connector_id):
        data = s.ConnectorStatusIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.connector_set_status(
            connector_id=connector_id, status=data.validated_data["status"], by=actor(request)
        )
        return Response(s.ConnectorDetailOut(_connector_or_404(connector_id)).data)
