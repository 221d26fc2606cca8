from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.reservations import selectors, services
from apps.reservations.api import serializers as s
from evcharge.api.authentication import JWT_OR_API_KEY
from evcharge.api.idempotency import idempotent
from evcharge.api.pagination import LimitOffsetPagination
from evcharge.api.permissions import IsAnyUser, IsDriver, actor
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

    @extend_schema(request=s.ReservationIn, responses={201: s.ReservationOut}, tags=["reservations"])
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

    @extend_schema(request=None, responses=s.ReservationOut, tags=["reservations"])
    def post(self, request, reservation_id):
        reservation = services.reservation_cancel(reservation_id=reservation_id, by=actor(request))
        return Response(s.ReservationOut(reservation).data)


class SessionListStartApi(_DriversWriteEveryoneReads, APIView):
    """GET: your charging history (operators: their stations'; admins: all).
    POST (drivers): start charging on a connector (by id or QR code); Idempotency-Key honoured."""

    permission_classes = [IsAnyUser]

    @extend_schema(
        operation_id="sessions_list", parameters=LIST_PARAMETERS, responses=s.SessionPageOut, tags=["sessions"]
    )
    def get(self, request):
        filters = s.SessionFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        sessions = selectors.session_list(by=actor(request), **filters.validated_data)
        return _paginated(request, self, sessions, s.SessionOut)

    @extend_schema(
        request=s.SessionStartIn, parameters=[IDEMPOTENCY_KEY], responses={201: s.SessionOut}, tags=["sessions"]
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


class SessionStopApi(APIView):
    """The driver, the station's operator (user or Api-Key), admins: stop charging. A second stop answers 409."""

    permission_classes = [IsAnyUser]
    authentication_classes = JWT_OR_API_KEY

    @extend_schema(request=s.SessionStopIn, responses=s.SessionOut, tags=["sessions"])
    def post(self, request, session_id):
        data = s.SessionStopIn(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_stop(session_id=session_id, by=actor(request), **data.validated_data)
        return Response(s.SessionOut(session).data)
