from rest_framework import serializers

from apps.adminconfig import schemas
from apps.adminconfig.models import ConfigChange, ConfigEntry, StationSettings


class ConfigEntryOut(serializers.ModelSerializer):
    etag = serializers.CharField(read_only=True)

    class Meta:
        model = ConfigEntry
        fields = ["key", "value", "description", "version", "etag", "updated_at", "updated_by", "updated_by_email"]


class ConfigValueField(serializers.JSONField):
    """Any JSON value nested at most schemas.MAX_VALUE_DEPTH deep, checked before anything walks into it."""

    def to_internal_value(self, data):
        if problem := schemas.shape_problem(data):
            raise serializers.ValidationError(problem)
        return super().to_internal_value(data)


class ConfigEntryIn(serializers.Serializer):
    value = ConfigValueField(
        help_text=f"Any JSON nested at most {schemas.MAX_VALUE_DEPTH} levels deep; known keys (e.g. flags.*: "
        "boolean) are checked against their schema."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def validate(self, attrs):
        if "value" not in self.initial_data:
            raise serializers.ValidationError({"value": ["This field is required."]})
        return attrs


class ConfigChangeOut(serializers.ModelSerializer):
    key = serializers.CharField(source="entry_id")

    class Meta:
        model = ConfigChange
        fields = [
            "key",
            "version",
            "old_value",
            "new_value",
            "old_description",
            "new_description",
            "changed_by",
            "changed_by_email",
            "changed_at",
        ]


class StationSettingsOut(serializers.ModelSerializer):
    class Meta:
        model = StationSettings
        fields = [
            "station_id",
            "operator_id",
            "enabled",
            "reservable",
            "max_power_kw",
            "rate_plan_id",
            "idle_grace_min",
            "version",
            "updated_at",
        ]


class StationSettingsIn(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    reservable = serializers.BooleanField(required=False)
    max_power_kw = serializers.FloatField(required=False, allow_null=True, min_value=0.1, max_value=1000)
    rate_plan_id = serializers.UUIDField(required=False, allow_null=True)
    idle_grace_min = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1440)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown setting."] for name in unknown})
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Give at least one setting to change."]})
        return attrs
