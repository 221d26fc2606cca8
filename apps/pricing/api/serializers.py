from rest_framework import serializers

from apps.pricing.models import PricingRule, Promotion, RatePlan, Redemption
from evcharge.api.fields import AmountField, CurrencyField
from evcharge.contracts.stations import CONNECTOR_TYPES

MAX_PRICE = 1_000_000_000  # minor units per kWh, minute or session; anything larger is a typo, not a tariff
MAX_COUNT = 2**31 - 1  # redemption limits: what their column holds


class UpperCaseChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data):
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


def connector_type_field(**kwargs) -> serializers.Field:
    return UpperCaseChoiceField(choices=CONNECTOR_TYPES, **kwargs)


# --- rate plans ---


class RatePlanIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    currency = CurrencyField()
    energy_price_per_kwh = AmountField(max_value=MAX_PRICE, default=0)
    time_price_per_min = AmountField(max_value=MAX_PRICE, default=0)
    session_fee = AmountField(max_value=MAX_PRICE, default=0)
    idle_fee_per_min = AmountField(max_value=MAX_PRICE, default=0)
    idle_grace_min = serializers.IntegerField(min_value=0, max_value=24 * 60, default=0)
    is_default = serializers.BooleanField(default=False)
    operator_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Admins: the operator the plan is for (required)."
    )


class RatePlanPatch(RatePlanIn):
    operator_id = None


class RatePlanOut(serializers.ModelSerializer):
    class Meta:
        model = RatePlan
        fields = [
            "id",
            "operator_id",
            "name",
            "currency",
            "energy_price_per_kwh",
            "time_price_per_min",
            "session_fee",
            "idle_fee_per_min",
            "idle_grace_min",
            "is_default",
            "created_at",
            "updated_at",
        ]


# --- rules ---


class RuleIn(serializers.Serializer):
    rate_plan_id = serializers.UUIDField()
    station_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    connector_type = connector_type_field(required=False, allow_null=True, default=None)
    priority = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000, default=0)
    valid_from = serializers.DateTimeField(required=False, allow_null=True, default=None)
    valid_to = serializers.DateTimeField(required=False, allow_null=True, default=None)


class RulePatch(serializers.Serializer):
    rate_plan_id = serializers.UUIDField(required=False)
    station_id = serializers.UUIDField(required=False, allow_null=True)
    connector_type = connector_type_field(required=False, allow_null=True)
    priority = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000, required=False)
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_to = serializers.DateTimeField(required=False, allow_null=True)


class RuleOut(serializers.ModelSerializer):
    rate_plan_id = serializers.UUIDField(read_only=True)
    specificity = serializers.IntegerField(
        read_only=True, help_text="3 station+type, 2 station, 1 type, 0 operator-wide: the higher wins."
    )

    class Meta:
        model = PricingRule
        fields = [
            "id",
            "operator_id",
            "rate_plan_id",
            "station_id",
            "connector_type",
            "priority",
            "valid_from",
            "valid_to",
            "specificity",
            "created_at",
            "updated_at",
        ]


# --- the quote (documentation of its query and answer; the view parses the query itself) ---


MINOR_UNITS = "Minor units of `currency` (cents for EUR and USD)"


class QuoteOut(serializers.Serializer):
    station_id = serializers.UUIDField()
    connector_type = serializers.CharField()
    currency = serializers.CharField()
    rate_plan_id = serializers.UUIDField()
    energy_price_per_kwh = serializers.IntegerField(help_text=f"{MINOR_UNITS} per kWh (39 in EUR = €0.39/kWh).")
    time_price_per_min = serializers.IntegerField(help_text=f"{MINOR_UNITS} per minute plugged in.")
    session_fee = serializers.IntegerField(help_text=f"{MINOR_UNITS}, once per session.")
    idle_fee_per_min = serializers.IntegerField(help_text=f"{MINOR_UNITS} per idle minute after the grace.")
    idle_grace_min = serializers.IntegerField()
    estimated_kwh = serializers.FloatField()
    estimated_wh = serializers.IntegerField()
    estimated_energy_amount = serializers.IntegerField(
        help_text="The energy line in minor units of `currency`, rounded half to even."
    )
    estimated_total = serializers.IntegerField(help_text="Session fee plus the energy line (minor units).")
    max_power_kw = serializers.FloatField(
        allow_null=True,
        help_text="The power the estimate assumes: the fastest connector of the type, capped by the station's "
        "max_power_kw setting; null when unknown.",
    )
    estimated_duration_min = serializers.IntegerField(
        allow_null=True, help_text="The shortest charge of estimated_kwh at max_power_kw, in minutes (rounded up)."
    )
    valid_until = serializers.DateTimeField()
    available = serializers.BooleanField(help_text="False when no connector of this type can charge now.")
    warnings = serializers.ListField(child=serializers.CharField())


# --- promotions ---


class PromotionIn(serializers.Serializer):
    code = serializers.RegexField(r"^[A-Za-z0-9_-]{3,40}$", help_text="Letters, digits, - and _; any case.")
    kind = serializers.ChoiceField(choices=Promotion.Kind.choices)
    value = AmountField(min_value=1, help_text="Percent (1-100), or minor units of the currency.")
    currency = CurrencyField(required=False, allow_null=True, default=None)
    min_amount = AmountField(default=0)
    max_discount = AmountField(required=False, allow_null=True)
    valid_from = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: now.")
    valid_to = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: no end.")
    max_redemptions = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, required=False, allow_null=True)
    max_per_user = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, required=False, allow_null=True)
    station_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=1000)
    operator_id = serializers.UUIDField(required=False, allow_null=True, help_text="Admins: required.")


class PromotionPatch(serializers.Serializer):
    active = serializers.BooleanField(required=False)
    valid_to = serializers.DateTimeField(required=False, allow_null=True)
    max_redemptions = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, required=False, allow_null=True)
    max_per_user = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, required=False, allow_null=True)


class PromotionOut(serializers.ModelSerializer):
    redemptions_count = serializers.IntegerField(read_only=True, help_text="Redemptions in force.")
    redemptions_total = serializers.IntegerField(read_only=True, help_text="Including released ones.")

    class Meta:
        model = Promotion
        fields = [
            "id",
            "operator_id",
            "code",
            "kind",
            "value",
            "currency",
            "min_amount",
            "max_discount",
            "valid_from",
            "valid_to",
            "station_ids",
            "max_redemptions",
            "max_per_user",
            "redemptions_count",
            "redemptions_total",
            "active",
            "created_at",
        ]


class EvaluateIn(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    amount = AmountField()
    currency = CurrencyField()
    station_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class EvaluateOut(serializers.Serializer):
    valid = serializers.BooleanField()
    discount_amount = serializers.IntegerField()
    reason = serializers.CharField(required=False, help_text="Why the code does not apply (for the driver).")
    promotion_id = serializers.UUIDField(required=False, allow_null=True)


class ApplyIn(serializers.Serializer):
    """A code and the open invoice it is for. The discount is pricing's, from the invoice's real total and
    currency: a client's figures are refused, not trusted."""

    REFUSED = ("amount", "currency", "user_id", "station_id")

    code = serializers.CharField(max_length=40)
    reference = serializers.UUIDField(help_text="The open invoice the code is for (its id).")

    def validate(self, attrs):
        sent = [name for name in self.REFUSED if name in getattr(self, "initial_data", {})]
        if sent:
            raise serializers.ValidationError(
                {name: ["Not accepted: the discount is computed from the invoice itself."] for name in sent}
            )
        return attrs


class RedemptionOut(serializers.ModelSerializer):
    promotion_id = serializers.UUIDField(read_only=True)
    code = serializers.CharField(source="promotion.code", read_only=True)

    class Meta:
        model = Redemption
        fields = [
            "id",
            "promotion_id",
            "code",
            "user_id",
            "reference",
            "station_id",
            "amount",
            "currency",
            "discount_amount",
            "status",
            "created_at",
            "released_at",
        ]
