from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.reservations import selectors
from apps.reservations.models import ChargingSession, Reservation


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


class SessionStartIn(serializers.Serializer):
    connector_id = serializers.UUIDField(required=False)
    code = serializers.CharField(required=False, max_length=32, help_text="The connector's code, from its QR.")
    reservation_id = serializers.UUIDField(required=False, help_text="Your confirmed reservation to fulfil.")
    meter_start_wh = serializers.IntegerField(
        required=False, min_value=0, help_text="Default: the connector's last meter reading, else 0."
    )

    def validate(self, attrs):
        if ("connector_id" in attrs) == ("code" in attrs):
            raise serializers.ValidationError({"connector_id": ["Give either connector_id or code."]})
        return attrs


class SessionStopIn(serializers.Serializer):
    meter_stop_wh = serializers.IntegerField(
        required=False, min_value=0, help_text="Default: the connector's last meter reading."
    )


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
            "live_energy_wh",
            "tariff",
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_live_energy_wh(self, session: ChargingSession) -> int | None:
        return selectors.session_live_energy_wh(session)


class _Page(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class ReservationPageOut(_Page):
    results = ReservationOut(many=True)


class SessionPageOut(_Page):
    results = SessionOut(many=True)
