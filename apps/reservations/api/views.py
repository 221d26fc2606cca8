from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.reservations import selectors, services
from apps.reservations.api import serializers as s
from apps.reservations.models import ChargingSession
from evcharge.api.authentication import JWT_OR_API_KEY
from evcharge.api.idempotency import idempotent
from evcharge.api.pagination import LimitOffsetPagination
from evcharge.api.permissions import IsAnyUser, IsDriver, IsOperatorOrAdmin, actor
from evcharge.errors import NotFound

LIST_PARAMETERS = [
    OpenApiParameter("from", str, description="RFC 3339; inclusive lower bound of the start time"),
    OpenApiParameter("to", str, description="RFC 3339; exclusive upper bound of the start time"),
    OpenApiParameter("status", str),
    OpenApiParameter("station_id", str),
    OpenApiParameter("connector_id", str),
]
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, description="A repeat with the same key and body replays."
)


def _paginated(request, view, queryset, serializer_class) -> Response:
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class _DriversWriteEveryoneReads:
    def get_permissions(self):
        return [IsDriver()] if self.request.method == "POST" else [IsAnyUser()]


class ReservationListCreateApi(_DriversWriteEveryoneReads, APIView):
    """GET: your reservations (operators: their stations'; admins: all). POST (drivers): reserve a connector."""

    permission_classes = [IsAnyUser]

    @extend_schema(
        operation_id="reservations_list",
        parameters=LIST_PARAMETERS,
        responses=s.ReservationPageOut,
        tags=["reservations"],
    )
    def get(self, request):
        filters = s.ReservationFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        reservations = selectors.reservation_list(by=actor(request), **filters.validated_data)
        return _paginated(request, self, reservations, s.ReservationOut)

    @extend_schema(
        request=s.ReservationIn,
        responses={
            201: s.ReservationOut,
            404: OpenApiResponse(description="No such connector."),
            409: OpenApiResponse(
                description="Overlaps another reservation, the connector or station takes none now, or you hold "
                "RESERVATIONS_MAX_OPEN_PER_DRIVER open ones already."
            ),
        },
        tags=["reservations"],
    )
    def post(self, request):
        data = s.ReservationIn(data=request.data)
        data.is_valid(raise_exception=True)
        reservation = services.reservation_create(by=actor(request), **data.validated_data)
        return Response(s.ReservationOut(reservation).data, status=status.HTTP_201_CREATED)


class ReservationDetailApi(APIView):
    """The reservation's owner, the station's operator, admins."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses=s.ReservationOut, tags=["reservations"])
    def get(self, request, reservation_id):
        reservation = selectors.reservation_get_visible(reservation_id=reservation_id, by=actor(request))
        if reservation is None:
            raise NotFound("No such reservation.")
        return Response(s.ReservationOut(reservation).data)


class ReservationCancelApi(APIView):
    """The owner, the station's operator, admins: cancel a confirmed reservation (409 otherwise)."""

    permission_classes = [IsAnyUser]

    @extend_schema(
        request=None,
        responses={200: s.ReservationOut, 409: OpenApiResponse(description="The reservation is not confirmed.")},
        tags=["reservations"],
    )
    def post(self, request, reservation_id):
        reservation = services.reservation_cancel(reservation_id=reservation_id, by=actor(request))
        return Response(s.ReservationOut(reservation).data)


SESSION_LIST_PARAMETERS = [
    *LIST_PARAMETERS,
    OpenApiParameter("energy_status", str, enum=ChargingSession.EnergyStatus.values),
    OpenApiParameter(
        "awaiting_meter", bool, description="true: sessions whose invoice waits for the charger's reading"
    ),
]


class SessionListStartApi(_DriversWriteEveryoneReads, APIView):
    """GET: your charging history (operators: their stations'; admins: all).
    POST (drivers): start charging on a connector (by id or QR code); Idempotency-Key honoured."""

    permission_classes = [IsAnyUser]

    @extend_schema(
        operation_id="sessions_list",
        parameters=SESSION_LIST_PARAMETERS,
        responses=s.SessionPageOut,
        tags=["sessions"],
    )
    def get(self, request):
        filters = s.SessionFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        sessions = selectors.session_list(by=actor(request), **filters.validated_data)
        return _paginated(request, self, sessions, s.SessionOut)

    @extend_schema(
        request=s.SessionStartIn,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OpenApiResponse(
                s.SessionOut,
                description="`active`; on a charger online over OCPP `pending` until the charger starts (a "
                "RemoteStartTransaction was sent), then `active`, or `cancelled` with a `cancel_reason`.",
            ),
            404: OpenApiResponse(description="No such connector (id or code), or no such reservation of yours."),
            409: OpenApiResponse(
                description="The connector is busy, out of service or reserved by someone else, its charger is "
                "offline or faulted (`charger_offline`), you already charge, or the station has no tariff "
                "(`no_tariff`)."
            ),
        },
        tags=["sessions"],
    )
    def post(self, request):
        def start() -> Response:
            data = s.SessionStartIn(data=request.data)
            data.is_valid(raise_exception=True)
            session = services.session_start(by=actor(request), **data.validated_data)
            return Response(s.SessionOut(session).data, status=status.HTTP_201_CREATED)

        return idempotent(request, scope="sessions.start", run=start, atomic=True)


class SessionDetailApi(APIView):
    """The session's driver, the station's operator, admins. While active, `live_energy_wh` shows progress."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses=s.SessionOut, tags=["sessions"])
    def get(self, request, session_id):
        session = selectors.session_get_visible(session_id=session_id, by=actor(request))
        if session is None:
            raise NotFound("No such session.")
        return Response(s.SessionOut(session).data)


STOP_DESCRIPTION = """The driver, the station's operator (user or Api-Key), admins: stop charging. People send `{}`:
a meter field from them is a 400 naming it. Only the station's charger (its operator's Api-Key) may send
`meter_stop_wh`; a value below the start meter (422 `meter_below_start`) or beyond what the connector can deliver
in the session's time (422 `meter_beyond_capacity`) is refused. Without it the stop meter is the charger's latest
telemetry reading taken during the session; when none is known the session completes with `energy_status:
awaiting_meter` (`meter_pending: true`) and its invoice waits until the charger's next reading arrives, or staff
settle it. A second stop answers 409. On a charger online over OCPP the stop is a RemoteStopTransaction: 202, and the
session completes with the charger's own stop meter; a `pending` session (the charger has not started yet) is
cancelled at once (200, `status: cancelled`)."""


class SessionStopApi(APIView):
    permission_classes = [IsAnyUser]
    authentication_classes = JWT_OR_API_KEY

    @extend_schema(
        request=s.SessionStopIn,
        responses={
            200: s.SessionOut,
            202: OpenApiResponse(
                s.SessionOut,
                description="The charger is online over OCPP: RemoteStopTransaction was sent; the session (still "
                "`active`, `stop_requested_at` set) completes when the charger's StopTransaction arrives.",
            ),
            409: OpenApiResponse(description="Already stopped."),
            422: OpenApiResponse(description="The charger's `meter_stop_wh` is below the start or beyond capacity."),
        },
        tags=["sessions"],
        description=STOP_DESCRIPTION,
    )
    def post(self, request, session_id):
        data = s.SessionStopIn(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_stop(session_id=session_id, by=actor(request), **data.validated_data)
        sent_to_charger = session.status == ChargingSession.Status.ACTIVE and session.stop_requested_at is not None
        return Response(s.SessionOut(session).data, status=202 if sent_to_charger else 200)


class SessionSettleApi(APIView):
    """The station's operator staff and admins: set the energy of a completed session whose charger never
    reported a usable reading (`energy_status: awaiting_meter`), with the reason (kept with the session). The
    session becomes `settled` and its invoice is finalized. Any other session answers 409
    `session_not_awaiting_meter`; more energy than the connector can deliver in the session's time, 422."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(
        request=s.SessionSettleIn,
        responses={
            200: s.SessionOut,
            409: OpenApiResponse(description="The session is not awaiting the charger's reading."),
            422: OpenApiResponse(description="More energy than the connector can deliver in the session's time."),
        },
        tags=["sessions"],
    )
    def post(self, request, session_id):
        data = s.SessionSettleIn(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_settle(session_id=session_id, by=actor(request), **data.validated_data)
        return Response(s.SessionOut(session).data)
