"""The staff's pages for prices. Plans, rules and promotions are saved through the services, as over the
API (pricing.rule.updated.v1 published, every process's quote cache invalidated); operator staff see and
change only their operator's."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q

from apps.pricing import services
from apps.pricing.models import (
    KnownConnector,
    KnownStation,
    PricingRule,
    Promotion,
    RatePlan,
    Redemption,
    StationPlanAssignment,
)
from evcharge import money
from evcharge.admin_scoping import (
    OperatorScopedAdmin,
    OperatorScopedInlineMixin,
    ServiceSaveMixin,
    admin_actor,
    is_platform_admin,
)

RATE_PLAN_FORM_FIELDS = [name for name in services.RATE_PLAN_FIELDS]
RULE_FORM_FIELDS = ["rate_plan", "station_id", "connector_type", "priority", "valid_from", "valid_to"]
PROMOTION_CREATE_FIELDS = [
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
]
PROMOTION_CHANGE_FIELDS = ["active", "valid_to", "max_redemptions", "max_per_user"]


class CurrencyCheckedForm(forms.ModelForm):
    """The one currency table (evcharge.money), as over the API: ISO 4217 codes in circulation only."""

    def clean_currency(self):
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if currency and not money.is_currency(currency):
            raise forms.ValidationError("Not an ISO 4217 currency in circulation.")
        return currency or None


def _read_only_fields(model, but=()) -> list[str]:
    return [field.name for field in model._meta.fields if field.name not in but]


class _OperatorOnAdd:
    """Admins say which operator a new row is for; operator staff create for their own."""

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is None and not is_platform_admin(request.user):
            fields = [name for name in fields if name != "operator_id"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and "operator_id" not in readonly:
            readonly.append("operator_id")
        return readonly


class RuleInline(OperatorScopedInlineMixin, admin.TabularInline):
    model = PricingRule
    extra = 0
    fields = ["station_id", "connector_type", "priority", "valid_from", "valid_to"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # on the rule's own page, through the service


@admin.register(RatePlan)
class RatePlanAdmin(ServiceSaveMixin, _OperatorOnAdd, OperatorScopedAdmin):
    form = CurrencyCheckedForm
    operator_scope = "operator_id"
    operator_may_change = True
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
    fields = ["id", "operator_id", *RATE_PLAN_FORM_FIELDS, "created_at", "updated_at"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [RuleInline]

    def save_through_service(self, request, form, change):
        data = {name: form.cleaned_data[name] for name in RATE_PLAN_FORM_FIELDS if name in form.cleaned_data}
        if change:
            return services.rate_plan_update(plan_id=form.instance.pk, by=admin_actor(request), **data)
        return services.rate_plan_create(
            by=admin_actor(request), operator_id=form.cleaned_data.get("operator_id"), **data
        )

    def delete_through_service(self, request, obj):
        services.rate_plan_delete(plan_id=obj.pk, by=admin_actor(request))


@admin.register(PricingRule)
class PricingRuleAdmin(ServiceSaveMixin, OperatorScopedAdmin):
    operator_scope = "operator_id"
    operator_may_change = True
    list_display = ["rate_plan", "operator_id", "station_id", "connector_type", "priority", "valid_from", "valid_to"]
    list_filter = ["connector_type", "rate_plan__currency"]
    search_fields = ["=station_id", "=operator_id", "rate_plan__name"]
    list_select_related = ["rate_plan"]
    fields = ["id", "operator_id", *RULE_FORM_FIELDS, "created_at", "updated_at"]
    readonly_fields = ["id", "operator_id", "created_at", "updated_at"]

    def save_through_service(self, request, form, change):
        data = {name: form.cleaned_data[name] for name in RULE_FORM_FIELDS if name in form.cleaned_data}
        plan = data.pop("rate_plan", None)
        if plan is not None:
            data["rate_plan_id"] = plan.pk
        if change:
            return services.rule_update(rule_id=form.instance.pk, by=admin_actor(request), **data)
        return services.rule_create(by=admin_actor(request), **data)

    def delete_through_service(self, request, obj):
        services.rule_delete(rule_id=obj.pk, by=admin_actor(request))


class RedemptionInline(OperatorScopedInlineMixin, admin.TabularInline):
    model = Redemption
    extra = 0
    fields = ["user_id", "reference", "amount", "currency", "discount_amount", "status", "created_at"]
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(Promotion)
class PromotionAdmin(ServiceSaveMixin, _OperatorOnAdd, OperatorScopedAdmin):
    """Created with its rules; afterwards only switched off, moved in its end or limits (as over the API)."""

    form = CurrencyCheckedForm
    operator_scope = "operator_id"
    operator_may_change = True
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
    inlines = [RedemptionInline]

    def get_fields(self, request, obj=None):
        if obj is None:
            fields = ["operator_id", *PROMOTION_CREATE_FIELDS]
            return fields if is_platform_admin(request.user) else fields[1:]
        return ["id", "operator_id", *PROMOTION_CREATE_FIELDS, "active", "redemptions_count", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [name for name in self.get_fields(request, obj) if name not in PROMOTION_CHANGE_FIELDS]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(released=Count("redemptions", filter=Q(redemptions__status=Redemption.Status.RELEASED)))
        )

    @admin.display(description="released", ordering="released")
    def released_count(self, promotion: Promotion) -> int:
        return promotion.released

    def save_through_service(self, request, form, change):
        if change:
            data = {name: form.cleaned_data[name] for name in PROMOTION_CHANGE_FIELDS if name in form.cleaned_data}
            return services.promotion_update(promotion_id=form.instance.pk, by=admin_actor(request), **data)
        data = {name: form.cleaned_data[name] for name in PROMOTION_CREATE_FIELDS if name in form.cleaned_data}
        data["station_ids"] = data.get("station_ids") or []
        return services.promotion_create(
            by=admin_actor(request), operator_id=form.cleaned_data.get("operator_id"), **data
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # switched off (`active`), never deleted: redemptions refer to it


@admin.register(Redemption)
class RedemptionAdmin(OperatorScopedAdmin):
    operator_scope = "promotion__operator_id"
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

    def get_readonly_fields(self, request, obj=None):
        return _read_only_fields(Redemption)

    def has_add_permission(self, request) -> bool:
        return False  # redeemed at checkout only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class KnownConnectorInline(OperatorScopedInlineMixin, admin.TabularInline):
    model = KnownConnector
    extra = 0
    fields = ["connector_id", "charger_id", "type", "status", "status_at"]
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(KnownStation)
class KnownStationAdmin(OperatorScopedAdmin):
    """Pricing's read model of stations, kept by station.* events: read-only here."""

    operator_scope = "operator_id"
    list_display = ["name", "station_id", "operator_id", "enabled", "known", "updated_at"]
    list_filter = ["enabled", "known"]
    search_fields = ["name", "=station_id", "=operator_id"]
    readonly_fields = [
        "station_id",
        "operator_id",
        "name",
        "enabled",
        "known",
        "version",
        "source_version",
        "updated_at",
    ]
    inlines = [KnownConnectorInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StationPlanAssignment)
class StationPlanAssignmentAdmin(OperatorScopedAdmin):
    """Rate plans set in stations' settings (station.config.updated.v1): read-only here."""

    operator_scope = "operator_id"
    list_display = ["station_id", "operator_id", "rate_plan_id", "idle_grace_min", "updated_at"]
    search_fields = ["=station_id", "=operator_id", "=rate_plan_id"]
    readonly_fields = ["station_id", "operator_id", "rate_plan_id", "idle_grace_min", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
