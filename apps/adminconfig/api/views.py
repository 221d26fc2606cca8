import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.adminconfig import schemas, selectors, services
from apps.adminconfig.api import serializers as s
from apps.adminconfig.models import ConfigChange
from evcharge.api.permissions import IsAdmin, IsOperatorOrAdmin, actor
from evcharge.errors import InvalidInput, NotFound

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')

IF_MATCH_PARAM = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='The entry\'s ETag (e.g. "3"): the write is refused with 412 if the entry changed since.',
)


def _expected_version(request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    match = _IF_MATCH.match(header)
    if not match:
        raise InvalidInput('If-Match must be an entry ETag such as "3".', errors={"If-Match": ["Not an ETag."]})
    return int(match.group(1))


def _body(request):
    """The parsed JSON body; a document too deep for the parser to walk is a 400 here whatever parser the
    platform configures (config values are refused past schemas.MAX_VALUE_DEPTH by the service anyway)."""
    try:
        return request.data
    except RecursionError:
        message = f"The JSON body is nested too deeply (values: at most {schemas.MAX_VALUE_DEPTH} levels)."
        raise InvalidInput(message, errors={"body": [message]}) from None


def _with_etag(entry) -> Response:
    response = Response(s.ConfigEntryOut(entry).data)
    response["ETag"] = entry.etag
    return response


class ConfigListApi(ListAPIView):
    """Admins: every config key."""

    permission_classes = [IsAdmin]
    serializer_class = s.ConfigEntryOut

    def get_queryset(self):
        return selectors.config_list()


class ConfigEntryApi(APIView):
    """Admins: read or write one key (creating it). PUT honours If-Match (412 on a stale write)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=s.ConfigEntryOut, tags=["adminconfig"])
    def get(self, request, key):
        entry = selectors.config_get(key)
        if entry is None:
            raise NotFound(f"No config key {key}.")
        return _with_etag(entry)

    @extend_schema(
        request=s.ConfigEntryIn,
        responses={
            200: s.ConfigEntryOut,
            412: OpenApiResponse(description="If-Match names a version the entry is no longer at (`stale_write`)."),
        },
        parameters=[IF_MATCH_PARAM],
        tags=["adminconfig"],
    )
    def put(self, request, key):
        data = s.ConfigEntryIn(data=_body(request))
        data.is_valid(raise_exception=True)
        entry = services.config_set(
            key=key,
            value=data.validated_data["value"],
            description=data.validated_data.get("description"),
            expected_version=_expected_version(request),
            by=actor(request),
            by_email=_caller_email(request),
        )
        return _with_etag(entry)


class ConfigHistoryApi(ListAPIView):
    """Admins: every change of a key, newest first."""

    permission_classes = [IsAdmin]
    serializer_class = s.ConfigChangeOut
    queryset = ConfigChange.objects.none()  # for the schema; get_queryset answers requests

    def get_queryset(self):
        key = self.kwargs["key"]
        if selectors.config_get(key) is None:
            raise NotFound(f"No config key {key}.")
        return selectors.config_history(key)


def _caller_email(request) -> str:
    """The e-mail claim of the caller's access token (tokens issued before it existed have none)."""
    token = request.auth
    return str(token.get("email", "")) if hasattr(token, "get") else ""


class StationSettingsApi(APIView):
    """The station's operator and admins: read or change the station's settings."""

    permission_classes = [IsOperatorOrAdmin]

    def _get(self, request, station_id):
        settings = selectors.station_settings_get(station_id)
        if settings is None or not actor(request).manages(settings.operator_id):
            raise NotFound("No such station.")
        return settings

    @extend_schema(responses=s.StationSettingsOut, tags=["adminconfig"])
    def get(self, request, station_id):
        return Response(s.StationSettingsOut(self._get(request, station_id)).data)

    @extend_schema(request=s.StationSettingsIn, responses=s.StationSettingsOut, tags=["adminconfig"])
    def put(self, request, station_id):
        data = s.StationSettingsIn(data=_body(request))
        data.is_valid(raise_exception=True)
        settings = services.station_settings_update(
            station_id=station_id, by=actor(request), changes=data.validated_data
        )
        return Response(s.StationSettingsOut(settings).data)
