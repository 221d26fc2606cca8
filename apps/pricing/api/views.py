import math
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.pricing import arithmetic, selectors, services
from apps.pricing.api import serializers as s
from evcharge.api.idempotency import idempotent
from evcharge.api.pagination import LimitOffsetPagination
from evcharge.api.permissions import IsAnyUser, IsOperatorOrAdmin, actor
from evcharge.contracts.pricing import PromotionRefused
from evcharge.contracts.stations import CONNECTOR_TYPES
from evcharge.errors import BusinessRuleViolation, InvalidInput, NotFound

TAGS = ["pricing"]


def _page(request, view, queryset, serializer_class) -> Response:
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- the quote ---

QUOTE_PARAMETERS = [
    OpenApiParameter("stationId", OpenApiTypes.UUID, description="Also accepted as station_id.", required=True),
    OpenApiParameter(
        "connectorType", OpenApiTypes.STR, enum=CONNECTOR_TYPES, description="Also connector_type.", required=True
    ),
    OpenApiParameter(
        "kWh",
        OpenApiTypes.NUMBER,
        description="Energy to estimate for, 0 to PRICING_QUOTE_MAX_KWH (default 0). Also kwh or k_wh.",
    ),
]


def _query_param(params, *names: str) -> tuple[str, str | None]:
    """(the spelling the client used, its value); the first spelling when absent."""
    for name in names:
        if name in params:
            return name, params[name]
    return names[0], None


def _parse_quote_query(params) -> tuple[UUID, str, int, dict[str, str]]:
    """Validates the quote's query; raises InvalidInput naming every bad parameter as the client spelled it."""
    errors: dict[str, list[str]] = {}
    station_name, raw_station = _query_param(params, "stationId", "station_id")
    type_name, raw_type = _query_param(params, "connectorType", "connector_type")
    kwh_name, raw_kwh = _query_param(params, "kWh", "kwh", "k_wh")
    station_id = connector_type = None
    energy_wh = 0
    if not raw_station:
        errors[station_name] = ["This parameter is required."]
    else:
        try:
            station_id = UUID(raw_station)
        except ValueError:
            errors[station_name] = ["Must be a station id (a UUID)."]
    if not raw_type:
        errors[type_name] = ["This parameter is required."]
    elif raw_type.upper() not in CONNECTOR_TYPES:
        errors[type_name] = [f"Unknown connector type; choose one of {', '.join(CONNECTOR_TYPES)}."]
    else:
        connector_type = raw_type.upper()
    if raw_kwh is not None:
        max_kwh = settings.PRICING_QUOTE_MAX_KWH
        try:
            energy_wh = arithmetic.kwh_to_wh(raw_kwh)
        except ValueError:
            errors[kwh_name] = ["Must be a number of kWh, such as 12.5."]
        else:
            if energy_wh < 0:
                errors[kwh_name] = ["Must not be negative."]
            elif energy_wh > max_kwh * 1000:
                errors[kwh_name] = [f"Must be at most {max_kwh} kWh."]
    if errors:
        raise InvalidInput("The quote's parameters are invalid.", errors=errors)
    return station_id, connector_type, energy_wh, {"station": station_name, "type": type_name}


class JSONOnly(BaseContentNegotiation):
    """The quote answers JSON whatever the Accept header says (no negotiation on the hot path)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class QuoteApi(APIView):
    """Anyone, without credentials: the price at a station for a connector type, and an estimate for some kWh.
    Answers from pricing's own read model of stations; a faulted connector type is quoted with a warning."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnly

    @extend_schema(parameters=QUOTE_PARAMETERS, responses=s.QuoteOut, tags=TAGS, auth=[{"jwtAuth": []}, {}])
    def get(self, request):
        station_id, connector_type, energy_wh, names = _parse_quote_query(request.query_params)
        try:
            quote = selectors.quote_for(
                station_id=station_id, connector_type=connector_type, energy_wh=energy_wh, at=timezone.now()
            )
        except selectors.UnknownStation:
            raise InvalidInput(
                "There is no station with this id.", errors={names["station"]: ["No station with this id."]}
            ) from None
        except selectors.ConnectorTypeAbsent:
            raise InvalidInput(
                f"This station has no {connector_type} connector.",
                errors={names["type"]: [f"This station has no {connector_type} connector."]},
            ) from None
        tariff = quote.tariff
        return Response(
            {
                "station_id": quote.station_id,
                "connector_type": quote.connector_type,
                "currency": tariff.currency,
                "rate_plan_id": tariff.rate_plan_id,
                "energy_price_per_kwh": tariff.energy_price_per_kwh,
                "time_price_per_min": tariff.time_price_per_min,
                "session_fee": tariff.session_fee,
                "idle_fee_per_min": tariff.idle_fee_per_min,
                "idle_grace_min": tariff.idle_grace_min,
                "estimated_kwh": Decimal(energy_wh) / 1000,
                "estimated_wh": energy_wh,
                "estimated_energy_amount": quote.estimated_total - tariff.session_fee,
                "estimated_total": quote.estimated_total,
                "max_power_kw": quote.power_kw,
                "estimated_duration_min": None
                if quote.estimated_duration_s is None
                else math.ceil(quote.estimated_duration_s / 60),
                "valid_until": quote.valid_until,
                "available": quote.available,
                "warnings": list(quote.warnings),
            }
        )


# --- rate plans ---


DEFAULT_PLAN_RACE = OpenApiResponse(description="Another default plan was set meanwhile (`default_plan_race`).")


class RatePlanListCreateApi(APIView):
    """Operators (their operator's plans) and admins (all; say operator_id on create)."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(responses=s.RatePlanOut(many=True), tags=TAGS)
    def get(self, request):
        return _page(request, self, selectors.rate_plans_visible_to(actor(request)), s.RatePlanOut)

    @extend_schema(request=s.RatePlanIn, responses={201: s.RatePlanOut, 409: DEFAULT_PLAN_RACE}, tags=TAGS)
    def post(self, request):
        plan = services.rate_plan_create(by=actor(request), **_validated(s.RatePlanIn, request.data))
        return Response(s.RatePlanOut(plan).data, status=status.HTTP_201_CREATED)


class RatePlanDetailApi(APIView):
    permission_classes = [IsOperatorOrAdmin]

    def _get(self, request, plan_id):
        plan = selectors.rate_plans_visible_to(actor(request)).filter(id=plan_id).first()
        if plan is None:
            raise NotFound("No such rate plan.")
        return plan

    @extend_schema(responses=s.RatePlanOut, tags=TAGS)
    def get(self, request, plan_id):
        return Response(s.RatePlanOut(self._get(request, plan_id)).data)

    @extend_schema(request=s.RatePlanPatch, responses={200: s.RatePlanOut, 409: DEFAULT_PLAN_RACE}, tags=TAGS)
    def patch(self, request, plan_id):
        changes = _validated(s.RatePlanPatch, request.data, partial=True)
        plan = services.rate_plan_update(plan_id=plan_id, by=actor(request), **changes)
        return Response(s.RatePlanOut(plan).data)

    @extend_schema(
        responses={204: None, 409: OpenApiResponse(description="Rules still use this plan (`plan_in_use`).")},
        tags=TAGS,
    )
    def delete(self, request, plan_id):
        services.rate_plan_delete(plan_id=plan_id, by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- rules ---


class RuleListCreateApi(APIView):
    """Operators and admins. The most specific valid rule wins (station+type > station > type >
    operator-wide), then the highest priority; a station's settings assignment wins over every rule;
    the operator's default plan applies when nothing else does."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(
        parameters=[
            OpenApiParameter("station_id", OpenApiTypes.UUID),
            OpenApiParameter("rate_plan_id", OpenApiTypes.UUID),
        ],
        responses=s.RuleOut(many=True),
        tags=TAGS,
    )
    def get(self, request):
        rules = selectors.rules_visible_to(actor(request))
        for name in ("station_id", "rate_plan_id"):
            value = request.query_params.get(name)
            if value:
                try:
                    rules = rules.filter(**{name: UUID(value)})
                except ValueError:
                    raise InvalidInput("Not a UUID.", errors={name: ["Must be a UUID."]}) from None
        return _page(request, self, rules, s.RuleOut)

    @extend_schema(request=s.RuleIn, responses={201: s.RuleOut}, tags=TAGS)
    def post(self, request):
        rule = services.rule_create(by=actor(request), **_validated(s.RuleIn, request.data))
        return Response(s.RuleOut(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(APIView):
    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(responses=s.RuleOut, tags=TAGS)
    def get(self, request, rule_id):
        rule = selectors.rules_visible_to(actor(request)).filter(id=rule_id).first()
        if rule is None:
            raise NotFound("No such rule.")
        return Response(s.RuleOut(rule).data)

    @extend_schema(request=s.RulePatch, responses=s.RuleOut, tags=TAGS)
    def patch(self, request, rule_id):
        changes = _validated(s.RulePatch, request.data, partial=True)
        rule = services.rule_update(rule_id=rule_id, by=actor(request), **changes)
        return Response(s.RuleOut(rule).data)

    @extend_schema(responses={204: None}, tags=TAGS)
    def delete(self, request, rule_id):
        services.rule_delete(rule_id=rule_id, by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- promotions ---


class PromotionListCreateApi(APIView):
    """Operators (their operator's promotions) and admins (all; say operator_id on create)."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(responses=s.PromotionOut(many=True), tags=TAGS)
    def get(self, request):
        return _page(request, self, selectors.promotions_visible_to(actor(request)), s.PromotionOut)

    @extend_schema(request=s.PromotionIn, responses={201: s.PromotionOut}, tags=TAGS)
    def post(self, request):
        promotion = services.promotion_create(by=actor(request), **_validated(s.PromotionIn, request.data))
        promotion = selectors.promotions_visible_to(actor(request)).get(id=promotion.id)
        return Response(s.PromotionOut(promotion).data, status=status.HTTP_201_CREATED)


class PromotionDetailApi(APIView):
    permission_classes = [IsOperatorOrAdmin]

    def _get(self, request, promotion_id):
        promotion = selectors.promotions_visible_to(actor(request)).filter(id=promotion_id).first()
        if promotion is None:
            raise NotFound("No such promotion.")
        return promotion

    @extend_schema(responses=s.PromotionOut, tags=TAGS)
    def get(self, request, promotion_id):
        return Response(s.PromotionOut(self._get(request, promotion_id)).data)

    @extend_schema(request=s.PromotionPatch, responses=s.PromotionOut, tags=TAGS)
    def patch(self, request, promotion_id):
        changes = _validated(s.PromotionPatch, request.data, partial=True)
        services.promotion_update(promotion_id=promotion_id, by=actor(request), **changes)
        return Response(s.PromotionOut(self._get(request, promotion_id)).data)


def _operator_scope(request) -> UUID | None:
    """Operators only ever evaluate and apply their own operator's codes."""
    caller = actor(request)
    return caller.operator_id if caller.is_operator else None


class PromotionEvaluateApi(APIView):
    """Any signed-in user: would this code give a discount on this amount? No side effect."""

    permission_classes = [IsAnyUser]

    @extend_schema(request=s.EvaluateIn, responses=s.EvaluateOut, tags=TAGS)
    def post(self, request):
        data = _validated(s.EvaluateIn, request.data)
        caller = actor(request)
        evaluation = selectors.promotion_evaluate(
            code=data["code"],
            amount=data["amount"],
            currency=data["currency"],
            station_id=data["station_id"],
            user_id=caller.user_id if caller.is_driver else None,
            operator_id=_operator_scope(request),
        )
        body = {
            "valid": evaluation.valid,
            "discount_amount": evaluation.discount_amount,
            "promotion_id": evaluation.promotion_id,
        }
        if evaluation.reason:
            body["reason"] = evaluation.reason
        return Response(body)


class PromotionApplyApi(APIView):
    """Redeem a code for an open invoice (`reference`: the invoice id): a driver for their own invoices, an
    operator for their stations' invoices, an admin for any; other invoices are not found (404). The discount is
    computed by pricing from the code's rules and the invoice's real total and currency (asked of billing); a
    client's `amount`, `currency` or `user_id` is refused (400). The redemption is bound to the invoice: checkout
    uses it (re-checked), and it is released if the invoice is not paid. The same code for the same invoice again
    re-checks and recomputes it (200). Refusals of the code are 422 with a reason for the driver; an invoice that
    is not open, or has a payment in flight, is 409. Idempotency-Key is honoured."""

    permission_classes = [IsAnyUser]

    @extend_schema(
        request=s.ApplyIn,
        responses={
            201: s.RedemptionOut,
            200: s.RedemptionOut,
            400: OpenApiResponse(description="invalid body, or figures sent that pricing computes itself"),
            404: OpenApiResponse(description="no such invoice of yours (code unknown_invoice)"),
            409: OpenApiResponse(description="the invoice is not open, or a payment of it is in progress"),
            422: OpenApiResponse(description="the code was refused (code: unknown, expired, exhausted, ...)"),
        },
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        tags=TAGS,
    )
    def post(self, request):
        return idempotent(request, scope="pricing.promotions.apply", run=lambda: self._apply(request), atomic=True)

    def _apply(self, request) -> Response:
        data = _validated(s.ApplyIn, request.data)
        try:
            redemption, created = services.promotion_apply(
                code=data["code"], invoice_id=data["reference"], by=actor(request)
            )
        except PromotionRefused as refused:
            raise BusinessRuleViolation(refused.reason, code=refused.code) from None
        return Response(
            s.RedemptionOut(redemption).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class RedemptionListApi(APIView):
    """Drivers: their own redemptions; operators: those of their promotions; admins: all."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses=s.RedemptionOut(many=True), tags=TAGS)
    def get(self, request):
        return _page(request, self, selectors.redemptions_visible_to(actor(request)), s.RedemptionOut)


class RedemptionReleaseApi(APIView):
    """The promotion's operator and admins: give the use back (the payment failed). Billing does the
    same through the facade."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(request=None, responses=s.RedemptionOut, tags=TAGS)
    def post(self, request, redemption_id):
        redemption = services.redemption_release(redemption_id=redemption_id, by=actor(request))
        return Response(s.RedemptionOut(redemption).data)
