from datetime import date, timedelta

from django.utils import timezone
from rest_framework import serializers

from apps.reporting.rollups import GROUP_BYS
from evcharge.api.fields import CurrencyField

MAX_RANGE_DAYS = 1100
DEFAULT_RANGE_DAYS = 30
# The days a report may ask about: far from the ends of the calendar, so bucket arithmetic never overflows.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)


class ReportDayField(serializers.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"ISO date, {FIRST_DAY} to {LAST_DAY}")
        super().__init__(required=False, input_formats=["iso-8601"], **kwargs)

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value) > 10:
            self.fail("invalid", format="YYYY-MM-DD")
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise serializers.ValidationError(f"Give a day from {FIRST_DAY} to {LAST_DAY}.")
        return day


class ReportQuery(serializers.Serializer):
    """?from&to (ISO dates, inclusive, in each station's time zone; default: the last 30 days)."""

    to = ReportDayField()
    station_id = serializers.UUIDField(required=False)
    operator_id = serializers.UUIDField(required=False, help_text="Admins only: one operator's stations.")
    group_by = serializers.ChoiceField(choices=GROUP_BYS, required=False, default="day")
    currency = CurrencyField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = ReportDayField()
        return fields

    def validate(self, attrs):
        last = attrs.get("to") or min(timezone.now().date(), LAST_DAY)
        first = attrs.get("from") or max(last - timedelta(days=DEFAULT_RANGE_DAYS - 1), FIRST_DAY)
        if first > last:
            raise serializers.ValidationError({"from": ["must not be after `to`"]})
        if (last - first).days >= MAX_RANGE_DAYS:
            raise serializers.ValidationError({"to": [f"a report covers at most {MAX_RANGE_DAYS} days"]})
        attrs["from"], attrs["to"] = first, last
        return attrs


class RevenueOut(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.IntegerField(help_text="Invoiced total, minor units")
    paid_amount = serializers.IntegerField(help_text="Captured payments net of refunds, minor units")


class StationReportOut(serializers.Serializer):
    station_id = serializers.UUIDField()
    name = serializers.CharField()
    operator_id = serializers.UUIDField(allow_null=True)
    timezone = serializers.CharField()
    status = serializers.CharField(help_text="Available, Occupied, Reserved, Faulted, Unavailable, Disabled, Unknown")
    connectors = serializers.IntegerField()
    sessions = serializers.IntegerField()
    energy_wh = serializers.IntegerField()
    revenue = RevenueOut(many=True)
    occupied_seconds = serializers.IntegerField()
    capacity_seconds = serializers.IntegerField()
    utilization = serializers.FloatField(help_text="occupied_seconds / capacity_seconds (0..1)")
    reservations = serializers.IntegerField()
    no_shows = serializers.IntegerField()


class StationsReportOut(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = StationReportOut(many=True)


class RevenueRowOut(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    currency = serializers.CharField()
    sessions = serializers.IntegerField()
    energy_wh = serializers.IntegerField()
    revenue_amount = serializers.IntegerField()
    paid_amount = serializers.IntegerField()


class UtilizationRowOut(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    occupied_seconds = serializers.IntegerField()
    capacity_seconds = serializers.IntegerField()
    utilization = serializers.FloatField()


class _SeriesOut(serializers.Serializer):
    to = serializers.DateField()
    group_by = serializers.CharField()
    station_id = serializers.UUIDField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields


class RevenueReportOut(_SeriesOut):
    currency = serializers.CharField(allow_null=True)
    results = RevenueRowOut(many=True)


class UtilizationReportOut(_SeriesOut):
    results = UtilizationRowOut(many=True)
