from django.contrib import admin
from django.db.models import Count, Q

from apps.pricing.models import (
    KnownConnector,
    KnownStation,
    PricingRule,
    Promotion,
    RatePlan,
    Redemption,
    StationPlanAssignment,
)


class RuleInline(admin.TabularInline):
    model = PricingRule
    extra = 0
    fields = ["station_id", "connector_type", "priority", "valid_from", "valid_to"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(RatePlan)
class RatePlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "operator_id",
        "currency",
        "energy_price_per_kwh",
        "time_price_per_min",
        "session_fee",
        "idle_fee_per_min",
        "idle_grace_min",
        "is_default",
        "updated_at",
    ]
    list_filter = ["currency", "is_default"]
    search_fields = ["name", "=operator_id"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [RuleInline]


@admin.register(PricingRule)
class PricingRuleAdmin(admin.ModelAdmin):
    list_display = ["rate_plan", "operator_id", "station_id", "connector_type", "priority", "valid_from", "valid_to"]
    list_filter = ["connector_type", "rate_plan__currency"]
    search_fields = ["=station_id", "=operator_id", "rate_plan__name"]
    list_select_related = ["rate_plan"]
    readonly_fields = ["id", "operator_id", "created_at", "updated_at"]


class RedemptionInline(admin.TabularInline):
    model = Redemption
    extra = 0
    fields = ["user_id", "reference", "amount", "currency", "discount_amount", "status", "created_at"]
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "operator_id",
        "kind",
        "value",
        "currency",
        "valid_from",
        "valid_to",
        "max_redemptions",
        "redemptions_count",
        "released_count",
        "active",
    ]
    list_filter = ["kind", "active", "currency"]
    search_fields = ["code", "=operator_id"]
    readonly_fields = ["id", "code_key", "redemptions_count", "created_at"]
    inlines = [RedemptionInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(released=Count("redemptions", filter=Q(redemptions__status=Redemption.Status.RELEASED)))
        )

    @admin.display(description="released", ordering="released")
    def released_count(self, promotion: Promotion) -> int:
        return promotion.released


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = [
        "promotion",
        "user_id",
        "reference",
        "amount",
        "discount_amount",
        "currency",
        "status",
        "created_at",
    ]
    list_filter = ["status", "currency", "promotion__code"]
    search_fields = ["reference", "=user_id", "promotion__code"]
    list_select_related = ["promotion"]
    readonly_fields = [
        "id",
        "promotion",
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


class KnownConnectorInline(admin.TabularInline):
    model = KnownConnector
    extra = 0
    fields = ["connector_id", "charger_id", "type", "status", "status_at"]
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(KnownStation)
class KnownStationAdmin(admin.ModelAdmin):
    """Pricing's read model of stations, kept by station.* events: read-only here."""

    list_display = ["name", "station_id", "operator_id", "enabled", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "=station_id", "=operator_id"]
    readonly_fields = ["station_id", "operator_id", "name", "enabled", "version", "updated_at"]
    inlines = [KnownConnectorInline]

    def has_add_permission(self, request):
        return False


@admin.register(StationPlanAssignment)
class StationPlanAssignmentAdmin(admin.ModelAdmin):
    """Rate plans set in stations' settings (station.config.updated.v1): read-only here."""

    list_display = ["station_id", "operator_id", "rate_plan_id", "idle_grace_min", "updated_at"]
    search_fields = ["=station_id", "=operator_id", "=rate_plan_id"]
    readonly_fields = ["station_id", "operator_id", "rate_plan_id", "idle_grace_min", "updated_at"]

    def has_add_permission(self, request):
        return False
