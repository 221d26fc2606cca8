"""Chargers over OCPP for their operator: the OCPP link, the OCPP password, remote commands.

The operator of the charger's station or an admin; anyone else's charger answers 404, drivers 403."""

from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chargepoints.models import ChargeBox, RemoteCommand
from apps.chargepoints.services import commands, credentials
from evcharge.actor import Actor
from evcharge.api.permissions import IsOperatorOrAdmin, actor
from evcharge.contracts import chargepoints, stations
from evcharge.contracts.chargepoints import COMMAND_ACTIONS, COMMAND_STATUSES
from evcharge.contracts.stations import ChargerView
from evcharge.errors import NotFound

TAGS = ["chargers"]


def _managed_charger(charger_id: UUID, caller: Actor) -> ChargerView:
    charger = stations.facade().charger(charger_id)
    if charger is None or not caller.manages(charger.operator_id):
        raise NotFound("No charger with this id.")
    return charger


class OcppCredentialsIn(serializers.Serializer):
    password = serializers.CharField(
        trim_whitespace=False,
        help_text="16 to 40 printable ASCII characters (the OCPP AuthorizationKey), no spaces. Never shown again.",
    )


class OcppChargerConnectorOut(serializers.Serializer):
    connector_id = serializers.UUIDField()
    number = serializers.IntegerField(help_text="The OCPP connectorId.")
    type = serializers.CharField()
    max_power_kw = serializers.FloatField()
    status = serializers.CharField()


class OcppChargerLinkOut(serializers.Serializer):
    connected = serializers.BooleanField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    vendor = serializers.CharField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    firmware_version = serializers.CharField(allow_null=True)
    protocol = serializers.CharField(allow_null=True, help_text='The WebSocket subprotocol, e.g. "ocpp1.6".')
    password_set = serializers.BooleanField(help_text="An OCPP password is set (it is never shown).")


class OcppChargerOut(serializers.Serializer):
    id = serializers.UUIDField()
    serial = serializers.CharField(help_text="The OCPP charge box id the charger connects as.")
    station_id = serializers.UUIDField()
    max_power_kw = serializers.FloatField()
    connectors = OcppChargerConnectorOut(many=True)
    ocpp = OcppChargerLinkOut()


def _charger_body(charger: ChargerView) -> dict:
    link = chargepoints.facade().links([charger.charger_id]).get(charger.charger_id)
    password_set = ChargeBox.objects.filter(id=charger.charger_id).exclude(password_hash="").exists()
    return {
        "id": charger.charger_id,
        "serial": charger.serial,
        "station_id": charger.station_id,
        "max_power_kw": charger.max_power_kw,
        "connectors": [
            {
                "connector_id": c.connector_id,
                "number": c.number,
                "type": c.type,
                "max_power_kw": c.max_power_kw,
                "status": c.status,
            }
            for c in charger.connectors
        ],
        "ocpp": {
            "connected": bool(link and link.connected),
            "last_seen_at": link.last_seen_at if link else None,
            "vendor": (link.vendor or None) if link else None,
            "model": (link.model or None) if link else None,
            "firmware_version": (link.firmware_version or None) if link else None,
            "protocol": (link.protocol or None) if link else None,
            "password_set": password_set,
        },
    }


class RemoteCommandIn(serializers.Serializer):
    action = serializers.ChoiceField(choices=COMMAND_ACTIONS)
    payload = serializers.JSONField(
        default=dict, help_text='The OCPP 1.6 request of that action, as JSON (camelCase), e.g. {"type": "Soft"}.'
    )


class RemoteCommandOut(serializers.ModelSerializer):
    charger_id = serializers.UUIDField(source="charge_box_id")
    status = serializers.ChoiceField(choices=COMMAND_STATUSES)
    response = serializers.JSONField(allow_null=True, help_text="The charger's answer, its CallError, or why none.")

    class Meta:
        model = RemoteCommand
        fields = [
            "id",
            "charger_id",
            "action",
            "payload",
            "status",
            "response",
            "requested_by",
            "session_id",
            "created_at",
            "sent_at",
            "answered_at",
        ]


class ChargerDetailApi(APIView):
    """The charger as the stations context knows it, and its OCPP link (`connected` false and nulls when it
    never connected)."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(responses=OcppChargerOut, tags=TAGS)
    def get(self, request, charger_id):
        charger = _managed_charger(charger_id, actor(request))
        return Response(OcppChargerOut(_charger_body(charger)).data)


class ChargerCredentialsApi(APIView):
    """Sets or replaces the charger's OCPP password (HTTP Basic at the WebSocket handshake, user = its serial).
    The current connection stays; the next handshake needs the new password."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(request=OcppCredentialsIn, responses={204: OpenApiResponse(description="Set.")}, tags=TAGS)
    def put(self, request, charger_id):
        caller = actor(request)
        _managed_charger(charger_id, caller)
        data = OcppCredentialsIn(data=request.data)
        data.is_valid(raise_exception=True)
        credentials.charge_box_set_password(
            charger_id=charger_id, password=data.validated_data["password"], by=caller.user_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChargerCommandListApi(generics.GenericAPIView):
    """GET: the charger's remote commands, newest first. POST: sends one (202). The answer already says
    `offline` when no gateway holds the charger; otherwise it is `pending` and the command's URL tells the
    outcome (`sent`, then `accepted`, `rejected`, `timeout` or `failed`)."""

    permission_classes = [IsOperatorOrAdmin]
    filter_backends: list = []
    serializer_class = RemoteCommandOut

    @extend_schema(responses=RemoteCommandOut(many=True), tags=TAGS)
    def get(self, request, charger_id):
        _managed_charger(charger_id, actor(request))
        page = self.paginate_queryset(RemoteCommand.objects.filter(charge_box_id=charger_id).order_by("-created_at"))
        return self.get_paginated_response(RemoteCommandOut(page, many=True).data)

    @extend_schema(
        request=RemoteCommandIn,
        responses={202: RemoteCommandOut},
        tags=TAGS,
    )
    def post(self, request, charger_id):
        caller = actor(request)
        _managed_charger(charger_id, caller)
        data = RemoteCommandIn(data=request.data)
        data.is_valid(raise_exception=True)
        command = commands.command_request(
            charger_id=charger_id,
            action=data.validated_data["action"],
            payload=data.validated_data["payload"],
            requested_by=caller.user_id,
        )
        command.refresh_from_db()  # routed after commit: `offline` already when no gateway holds the charger
        return Response(RemoteCommandOut(command).data, status=status.HTTP_202_ACCEPTED)


class ChargerCommandDetailApi(APIView):
    """One remote command of the charger and its outcome."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(responses=RemoteCommandOut, tags=TAGS)
    def get(self, request, charger_id, command_id):
        _managed_charger(charger_id, actor(request))
        command = RemoteCommand.objects.filter(id=command_id, charge_box_id=charger_id).first()
        if command is None:
            raise NotFound("No command with this id on this charger.")
        return Response(RemoteCommandOut(command).data)
