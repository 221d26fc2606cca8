"""The driver pages' API: the same start, session and receipt the pages show, for apps and tests.

POST /adhoc-sessions: anyone (a guest gives an e-mail address and a card token); a driver signed in with a JWT may
leave the card out to pay with their saved card. GET and POST …/{token}/stop: whoever holds the session's link.
"""

from django.utils import translation
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.driverweb import services
from apps.driverweb.api.client import client_address
from evcharge.actor import DRIVER
from evcharge.api.permissions import optional_actor
from evcharge.errors import NotFound


class PriceComponentOut(serializers.Serializer):
    key = serializers.CharField(help_text="per_kwh | per_minute | session_fee | idle_fee, in the EU rule's order")
    amount = serializers.IntegerField(help_text="Minor units of the currency.")
    unit = serializers.CharField(help_text="kWh | min | session")


class ConnectorOfferOut(serializers.Serializer):
    code = serializers.CharField(source="connector.code")
    connector_id = serializers.UUIDField(source="connector.connector_id")
    station_id = serializers.UUIDField(source="connector.station_id")
    station_name = serializers.CharField(source="connector.station_name")
    station_address = serializers.CharField(source="connector.station_address")
    number = serializers.IntegerField(source="connector.number")
    type = serializers.CharField(source="connector.type")
    max_power_kw = serializers.FloatField(source="connector.max_power_kw")
    status = serializers.CharField(source="connector.status")
    currency = serializers.CharField(source="quote.tariff.currency", allow_null=True, default=None)
    price_components = PriceComponentOut(many=True, source="components")
    idle_grace_min = serializers.IntegerField(source="quote.tariff.idle_grace_min", allow_null=True, default=None)
    example_energy_wh = serializers.SerializerMethodField()
    example_total = serializers.IntegerField(
        source="quote.estimated_total", allow_null=True, default=None, help_text="As GET /pricing/quote computes it."
    )
    can_start = serializers.BooleanField()
    refusal = serializers.CharField(
        help_text="Why no start is offered: busy | out_of_service | charger_offline | no_price; empty when one is."
    )

    def get_example_energy_wh(self, page) -> int:
        return services.EXAMPLE_ENERGY_WH


class StartIn(serializers.Serializer):
    connector_code = serializers.CharField(max_length=32)
    checkout_key = serializers.CharField(
        min_length=8, max_length=200, help_text="A random key per checkout: a second POST with it is the same checkout."
    )
    email = serializers.EmailField(required=False, allow_blank=True, help_text="Where the receipt goes (guests).")
    card_token = serializers.CharField(
        required=False, allow_blank=True, max_length=255, help_text="The payment gateway's card token."
    )
    promotion_code = serializers.CharField(required=False, allow_blank=True, max_length=64)


class CardHoldOut(serializers.Serializer):
    status = serializers.CharField()
    amount = serializers.IntegerField(help_text="Held, minor units.")
    captured_amount = serializers.IntegerField()
    currency = serializers.CharField()
    card_label = serializers.CharField()


class ReceiptLineOut(serializers.Serializer):
    kind = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.CharField()
    unit = serializers.CharField()
    unit_amount = serializers.IntegerField()
    amount = serializers.IntegerField()


class AdhocReceiptOut(serializers.Serializer):
    invoice_id = serializers.UUIDField()
    status = serializers.CharField()
    currency = serializers.CharField()
    lines = ReceiptLineOut(many=True)
    subtotal_amount = serializers.IntegerField()
    discount_amount = serializers.IntegerField()
    total_amount = serializers.IntegerField()
    paid_amount = serializers.IntegerField()
    payment_status = serializers.CharField()
    promotion_code = serializers.CharField()
    hold = CardHoldOut(allow_null=True)


class AdhocSessionOut(serializers.Serializer):
    session_id = serializers.UUIDField(source="session.session_id")
    status = serializers.CharField(source="session.status", help_text="pending | active | completed | cancelled")
    energy_status = serializers.CharField(source="session.energy_status")
    started_at = serializers.DateTimeField(source="session.started_at")
    ended_at = serializers.DateTimeField(source="session.ended_at", allow_null=True)
    energy_wh = serializers.IntegerField(
        source="session.energy_wh", allow_null=True, help_text="So far (the charger's readings); billed once completed."
    )
    cost_so_far = serializers.IntegerField(source="session.cost_so_far", allow_null=True, help_text="Minor units.")
    currency = serializers.CharField(source="session.tariff.currency")
    stop_requested = serializers.BooleanField(source="session.stop_requested")
    cancel_reason = serializers.CharField(source="session.cancel_reason")
    connector_code = serializers.CharField(source="checkout.connector_code")
    receipt = AdhocReceiptOut(allow_null=True, help_text="Once the session's invoice exists.")


class StartOut(serializers.Serializer):
    session_token = serializers.CharField(help_text="The key of the session's page and of the calls below; keep it.")
    session_url = serializers.CharField()
    session = AdhocSessionOut()


def _driver_id(request):
    caller = optional_actor(request)
    return caller.user_id if caller is not None and caller.role == DRIVER else None


class AdhocConnectorApi(APIView):
    """Anyone: what a connector's page (/c/{code}) shows before a start: the connector, its price as the quote
    computes it, the 20 kWh example and whether a start is offered."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        responses={200: ConnectorOfferOut, 404: OpenApiResponse(description="No connector has this code.")},
        tags=["driver web"],
        auth=[],
    )
    def get(self, request, code):
        page = services.connector_page(code)
        if page is None:
            raise NotFound("No connector has this code.", code="connector_unknown")
        return Response(ConnectorOfferOut(page).data)


class AdhocSessionStartApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=StartIn,
        responses={
            201: StartOut,
            404: OpenApiResponse(description="No connector has this code."),
            409: OpenApiResponse(description="The connector is in use, out of service or has no price."),
            422: OpenApiResponse(description="The card was declined (`card_declined`, with the gateway's reason)."),
            429: OpenApiResponse(description="Too many starts or payments from this address or with this card."),
            502: OpenApiResponse(description="The payment gateway failed or did not answer; nothing was held."),
        },
        tags=["driver web"],
    )
    def post(self, request):
        data = StartIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        driver_id = _driver_id(request)
        token, _checkout = services.start(
            services.StartRequest(
                code=values["connector_code"],
                checkout_key=values["checkout_key"],
                client_ip=client_address(request),
                email=values.get("email", ""),
                card_token=values.get("card_token", ""),
                promotion_code=values.get("promotion_code", ""),
                user_id=driver_id,
                language=translation.get_language() or "en",
            )
        )
        page = services.session_page(token)
        body = {
            "session_token": token,
            "session_url": request.build_absolute_uri(f"/s/{token}"),
            "session": AdhocSessionOut(page).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class AdhocSessionApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        responses={200: AdhocSessionOut, 404: OpenApiResponse(description="No session has this link.")},
        tags=["driver web"],
        auth=[],
    )
    def get(self, request, token):
        return Response(AdhocSessionOut(services.session_page(token)).data)


class AdhocSessionStopApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=None,
        responses={
            200: AdhocSessionOut,
            404: OpenApiResponse(description="No session has this link."),
            409: OpenApiResponse(description="The session has already stopped."),
        },
        tags=["driver web"],
        auth=[],
    )
    def post(self, request, token):
        return Response(AdhocSessionOut(services.stop(token)).data)


class AdhocSessionCancelApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=None,
        responses={
            200: AdhocSessionOut,
            404: OpenApiResponse(description="No session has this link."),
            409: OpenApiResponse(description="The charger has already started the session (`session_not_pending`)."),
        },
        tags=["driver web"],
        auth=[],
        description="Withdraws a start the charger has not confirmed yet (`pending`): the session is cancelled and "
        "the amount held on the card released. Again on a cancelled session: the same answer.",
    )
    def post(self, request, token):
        return Response(AdhocSessionOut(services.cancel(token)).data)
