from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.reservations import selectors
from apps.reservations.models import ChargingSession, Reservation
from evcharge.contracts.telemetry import MAX_METER_WH

METER_FIELDS = ("meter_start_wh", "meter_stop_wh")


class ReservationIn(serializers.Serializer):
    connector_id = serializers.UUIDField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class ReservationOut(serializers.ModelSerializer):
    class Meta:
        model = Reservation
        fields = [
            "id",
            "status",
            "connector_id",
            "station_id",
            "operator_id",
            "user_id",
            "starts_at",
            "ends_at",
            "created_at",
            "cancelled_at",
            "cancelled_by",
            "expired_at",
            "fulfilled_at",
            "session_id",
        ]


class ReservationFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Reservation.Status.values, required=False)
    # "from"/"to" are Python keywords: declared below under their wire names.
    station_id = serializers.UUIDField(required=False)
    connector_id = serializers.UUIDField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(required=False, help_text="Starts at or after (inclusive).")
        fields["to"] = serializers.DateTimeField(required=False, help_text="Starts before (exclusive).")
        return fields

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        values["starts_from"] = values.pop("from", None)
        values["starts_to"] = values.pop("to", None)
        if values["starts_from"] and values["starts_to"] and values["starts_to"] <= values["starts_from"]:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        return values


class SessionFilter(ReservationFilter):
    status = serializers.ChoiceField(choices=ChargingSession.Status.values, required=False)
    energy_status = serializers.ChoiceField(choices=ChargingSession.EnergyStatus.values, required=False)
    awaiting_meter = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only completed sessions awaiting the charger's reading; false: the others.",
    )


def refuse_meter_fields(data, *, allowed: tuple[str, ...] = ()) -> None:
    """Energy is the charger's: a meter value in a person's request is a 400 naming the field."""
    if not isinstance(data, dict):
        return
    sent = [name for name in METER_FIELDS if name in data and name not in allowed]
    if sent:
        raise serializers.ValidationError(
            {name: ["Not accepted: the meter reading comes from the charger, never from a request."] for name in sent}
        )


class SessionStartIn(serializers.Serializer):
    connector_id = serializers.UUIDField(required=False)
    code = serializers.CharField(required=False, max_length=32, help_text="The connector's code, from its QR.")
    reservation_id = serializers.UUIDField(required=False, help_text="Your confirmed reservation to fulfil.")

    def to_internal_value(self, data):
        refuse_meter_fields(data)
        return super().to_internal_value(data)

    def validate(self, attrs):
        if ("connector_id" in attrs) == ("code" in attrs):
            raise serializers.ValidationError({"connector_id": ["Give either connector_id or code."]})
        return attrs


class SessionStopIn(serializers.Serializer):
    meter_stop_wh = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_METER_WH,
        help_text="Only the station's charger (its operator's Api-Key) may send its stop meter (cumulative Wh); "
        "from people it is a 400. Default: the charger's reading from telemetry.",
    )

    def to_internal_value(self, data):
        refuse_meter_fields(data, allowed=("meter_stop_wh",))
        return super().to_internal_value(data)


class SessionSettleIn(serializers.Serializer):
    energy_wh = serializers.IntegerField(
        min_value=0,
        max_value=MAX_METER_WH,
        help_text="The energy to bill, in Wh (at most what the connector can deliver).",
    )
    reason = serializers.CharField(max_length=500, help_text="Why it is settled by hand; kept with the session.")


class TariffOut(serializers.Serializer):
    rate_plan_id = serializers.UUIDField(allow_null=True)
    currency = serializers.CharField()
    energy_price_per_kwh = serializers.IntegerField(help_text="Minor units per kWh.")
    time_price_per_min = serializers.IntegerField()
    session_fee = serializers.IntegerField()
    idle_fee_per_min = serializers.IntegerField()
    idle_grace_min = serializers.IntegerField()


class SessionOut(serializers.ModelSerializer):
    tariff = TariffOut(read_only=True)
    cost_so_far = serializers.SerializerMethodField(
        help_text="Minor units of the tariff's currency: energy, time and session fee so far at the session's tariff "
        "(an estimate while it runs; the invoice is what is billed, idle fees included)."
    )
    live_energy_wh = serializers.SerializerMethodField(
        help_text="While active: energy so far from the latest meter reading, if one is known."
    )

    class Meta:
        model = ChargingSession
        fields = [
            "id",
            "status",
            "connector_id",
            "station_id",
            "operator_id",
            "user_id",
            "connector_type",
            "reservation_id",
            "started_at",
            "ended_at",
            "charging_ended_at",
            "meter_start_wh",
            "meter_stop_wh",
            "energy_wh",
            "energy_status",
            "meter_pending",
            "live_energy_wh",
            "cost_so_far",
            "settled_by",
            "settled_at",
            "settlement_reason",
            "stop_requested_at",
            "cancel_reason",
            "tariff",
        ]

    meter_pending = serializers.SerializerMethodField(
        help_text="True while a completed session waits for the charger's reading (its invoice waits too)."
    )

    def get_meter_pending(self, session: ChargingSession) -> bool:
        return session.energy_status == ChargingSession.EnergyStatus.AWAITING_METER

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_live_energy_wh(self, session: ChargingSession) -> int | None:
        return selectors.session_live_energy_wh(session)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_cost_so_far(self, session: ChargingSession) -> int | None:
        return selectors.session_cost_so_far(session, now=timezone.now())


class _Page(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class ReservationPageOut(_Page):
    results = ReservationOut(many=True)


class SessionPageOut(_Page):
    results = SessionOut(many=True)
