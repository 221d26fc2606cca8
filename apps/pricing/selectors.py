"""Reads: rate-plan resolution, the quote's cached basis, promotion checks (no side effects)."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.pricing import arithmetic
from apps.pricing.models import (
    KnownStation,
    PricingRule,
    Promotion,
    RatePlan,
    ReadModelVersion,
    Redemption,
    StationPlanAssignment,
)
from evcharge import money
from evcharge.actor import Actor
from evcharge.contracts.pricing import NoApplicableTariff, PromotionEvaluation, Quote, TariffSnapshot

UNAVAILABLE_STATUSES = frozenset({"Faulted", "Unavailable"})

# --- what operators and admins see ---


def rate_plans_visible_to(by: Actor) -> QuerySet[RatePlan]:
    plans = RatePlan.objects.all()
    return plans if by.is_admin else plans.filter(operator_id=by.operator_id)


def rules_visible_to(by: Actor) -> QuerySet[PricingRule]:
    rules = PricingRule.objects.select_related("rate_plan")
    return rules if by.is_admin else rules.filter(operator_id=by.operator_id)


def promotions_visible_to(by: Actor) -> QuerySet[Promotion]:
    promotions = Promotion.objects.annotate(
        redemptions_total=Count("redemptions"),
    )
    return promotions if by.is_admin else promotions.filter(operator_id=by.operator_id)


def redemptions_visible_to(by: Actor) -> QuerySet[Redemption]:
    redemptions = Redemption.objects.select_related("promotion")
    if by.is_admin:
        return redemptions
    if by.is_operator:
        return redemptions.filter(promotion__operator_id=by.operator_id)
    return redemptions.filter(user_id=by.user_id)


def known_station(station_id: UUID) -> KnownStation | None:
    return KnownStation.objects.filter(station_id=station_id, known=True).first()


# --- which plan applies ---


@dataclass(frozen=True, kw_only=True)
class Resolution:
    """The plan that applies, why (assignment | rule | default), and until when the answer holds."""

    plan: RatePlan
    source: str
    rule_id: UUID | None
    idle_grace_min: int
    changes_at: datetime | None


def rate_plan_resolve(*, station: KnownStation, connector_type: str, at: datetime) -> Resolution:
    """Precedence, first match wins:
    1. the station's assignment from its settings (station.config.updated.v1, `rate_plan_id`), when the
       plan exists and belongs to the station's operator;
    2. the most specific rule valid at `at`: station+type > station > type > operator-wide; among equally
       specific rules the highest priority, then the newest;
    3. the operator's default plan.
    Raises NoApplicableTariff when none applies. An assignment's `idle_grace_min` overrides the plan's."""
    assignment = StationPlanAssignment.objects.filter(station_id=station.station_id).first()
    idle_grace_override = assignment.idle_grace_min if assignment else None

    rules = list(
        PricingRule.objects.select_related("rate_plan")
        .filter(operator_id=station.operator_id)
        .filter(Q(station_id=station.station_id) | Q(station_id__isnull=True))
        .filter(Q(connector_type=connector_type) | Q(connector_type__isnull=True))
    )
    changes_at = _next_boundary(rules, at)

    def resolved(plan: RatePlan, source: str, rule_id: UUID | None = None) -> Resolution:
        grace = plan.idle_grace_min if idle_grace_override is None else idle_grace_override
        return Resolution(plan=plan, source=source, rule_id=rule_id, idle_grace_min=grace, changes_at=changes_at)

    if assignment and assignment.rate_plan_id:
        plan = RatePlan.objects.filter(id=assignment.rate_plan_id, operator_id=station.operator_id).first()
        if plan is not None:
            return resolved(plan, "assignment")

    valid = [rule for rule in rules if rule.is_valid_at(at)]
    if valid:
        best = max(valid, key=lambda rule: (rule.specificity, rule.priority, rule.created_at, str(rule.id)))
        return resolved(best.rate_plan, "rule", best.id)

    default = RatePlan.objects.filter(operator_id=station.operator_id, is_default=True).first()
    if default is not None:
        return resolved(default, "default")
    raise NoApplicableTariff(
        f"No rate plan applies to {connector_type} at this station: no rule matches and its operator "
        "has no default plan."
    )


def _next_boundary(rules: list[PricingRule], at: datetime) -> datetime | None:
    """The next moment a rule starts or stops being valid (the resolution may change then)."""
    moments = [m for rule in rules for m in (rule.valid_from, rule.valid_to) if m is not None and m > at]
    return min(moments, default=None)


def tariff_of(resolution: Resolution) -> TariffSnapshot:
    plan = resolution.plan
    return TariffSnapshot(
        rate_plan_id=plan.id,
        currency=plan.currency,
        energy_price_per_kwh=plan.energy_price_per_kwh,
        time_price_per_min=plan.time_price_per_min,
        session_fee=plan.session_fee,
        idle_fee_per_min=plan.idle_fee_per_min,
        idle_grace_min=resolution.idle_grace_min,
    )


def tariff_snapshot(*, station_id: UUID, connector_type: str, at: datetime) -> TariffSnapshot:
    station = known_station(station_id)
    if station is None:
        raise NoApplicableTariff("This station is unknown to pricing.")
    return tariff_of(rate_plan_resolve(station=station, connector_type=connector_type, at=at))


# --- the quote: a per-process cache checked with one query ---


class UnknownStation(LookupError):
    pass


class ConnectorTypeAbsent(LookupError):
    pass


@dataclass(frozen=True, kw_only=True)
class QuoteBasis:
    """Everything a quote needs that does not depend on the energy asked about."""

    station_id: UUID
    connector_type: str
    tariff: TariffSnapshot
    statuses: tuple[str, ...]
    station_enabled: bool
    power_kw: float | None
    computed_at: datetime
    expires_at: datetime
    changes_at: datetime | None
    versions: tuple

    @property
    def available(self) -> bool:
        return self.station_enabled and any(s not in UNAVAILABLE_STATUSES for s in self.statuses)

    @property
    def warnings(self) -> tuple[str, ...]:
        warnings = []
        if not self.station_enabled:
            warnings.append("this station is disabled")
        unavailable = sorted(set(self.statuses))
        if self.statuses and all(s in UNAVAILABLE_STATUSES for s in self.statuses):
            if len(unavailable) == 1:
                warnings.append(f"all {self.connector_type} connectors at this station are {unavailable[0]}")
            else:
                warnings.append(
                    f"no {self.connector_type} connector at this station is available ({', '.join(unavailable)})"
                )
        return tuple(warnings)


_quote_bases: dict[tuple[UUID, str], tuple[QuoteBasis, float]] = {}  # key -> (basis, monotonic check time)


def quote_cache_clear() -> None:
    """Forgets every cached quote basis of this process. Run on commit of every change made in this
    process; other processes notice through the version tokens within PRICING_QUOTE_RECHECK_SECONDS."""
    _quote_bases.clear()


_VERSIONS_SQL = (
    "SELECT s.version, (SELECT v.token FROM pricing_readmodelversion v WHERE v.id = 1) "
    "FROM pricing_knownstation s WHERE s.station_id = %s AND s.known"
)
assert ReadModelVersion._meta.db_table == "pricing_readmodelversion"
assert KnownStation._meta.db_table == "pricing_knownstation"


def _versions(station_id: UUID) -> tuple | None:
    """(station version, plans-and-rules token) in one indexed query; None when the station is unknown."""
    with connection.cursor() as cursor:
        cursor.execute(_VERSIONS_SQL, [KnownStation._meta.pk.get_db_prep_value(station_id, connection)])
        row = cursor.fetchone()
    return tuple(row) if row else None


def quote_basis(*, station_id: UUID, connector_type: str, at: datetime) -> QuoteBasis:
    """The cached basis while no rule window opened or closed since and, checked at most every
    PRICING_QUOTE_RECHECK_SECONDS, its station and the plans/rules are unchanged; otherwise resolved
    afresh. Raises UnknownStation, ConnectorTypeAbsent, NoApplicableTariff."""
    key = (station_id, connector_type)
    entry = _quote_bases.get(key)
    versions = None
    if entry is not None:
        cached, checked_at = entry
        if cached.computed_at <= at < cached.expires_at:
            now = time.monotonic()
            if now - checked_at < settings.PRICING_QUOTE_RECHECK_SECONDS:
                return cached
            versions = _versions(station_id)
            if versions == cached.versions:
                _quote_bases[key] = (cached, now)
                return cached
    if versions is None:
        versions = _versions(station_id)
    if versions is None:
        raise UnknownStation(station_id)

    station = known_station(station_id)
    if station is None:
        raise UnknownStation(station_id)
    connectors = list(station.connectors.filter(type=connector_type).values_list("status", "max_power_kw"))
    if not connectors:
        raise ConnectorTypeAbsent(connector_type)
    statuses = tuple(status for status, _ in connectors)
    resolution = rate_plan_resolve(station=station, connector_type=connector_type, at=at)
    expires_at = at + timedelta(seconds=settings.PRICING_QUOTE_CACHE_SECONDS)
    if resolution.changes_at is not None:
        expires_at = min(expires_at, resolution.changes_at)
    basis = QuoteBasis(
        station_id=station_id,
        connector_type=connector_type,
        tariff=tariff_of(resolution),
        statuses=statuses,
        station_enabled=station.enabled,
        power_kw=_power_cap(station_id, max(power for _, power in connectors)),
        computed_at=at,
        expires_at=expires_at,
        changes_at=resolution.changes_at,
        versions=versions,
    )
    if len(_quote_bases) >= settings.PRICING_QUOTE_CACHE_MAX_ENTRIES:
        _quote_bases.clear()
    _quote_bases[key] = (basis, time.monotonic())
    return basis


def _power_cap(station_id: UUID, connector_power_kw: float) -> float | None:
    """The connector's power capped by the station's max_power_kw setting (None when neither is known)."""
    cap = StationPlanAssignment.objects.filter(station_id=station_id).values_list("max_power_kw", flat=True).first()
    known = [power for power in (connector_power_kw, cap) if power]
    return min(known) if known else None


def quote_valid_until(basis: QuoteBasis, at: datetime) -> datetime:
    """A quote holds for PRICING_QUOTE_VALID_SECONDS, or until a rule window changes the plan."""
    valid_until = at + timedelta(seconds=settings.PRICING_QUOTE_VALID_SECONDS)
    return valid_until if basis.changes_at is None else min(valid_until, basis.changes_at)


def quote_for(*, station_id: UUID, connector_type: str, energy_wh: int, at: datetime) -> Quote:
    """Raises UnknownStation, ConnectorTypeAbsent, NoApplicableTariff."""
    basis = quote_basis(station_id=station_id, connector_type=connector_type, at=at)
    tariff = basis.tariff
    return Quote(
        station_id=station_id,
        connector_type=connector_type,
        tariff=tariff,
        estimated_wh=energy_wh,
        estimated_total=arithmetic.estimated_total(
            energy_wh=energy_wh, energy_price_per_kwh=tariff.energy_price_per_kwh, session_fee=tariff.session_fee
        ),
        valid_until=quote_valid_until(basis, at),
        warnings=basis.warnings,
        available=basis.available,
        power_kw=basis.power_kw,
        estimated_duration_s=arithmetic.charging_seconds(energy_wh=energy_wh, power_kw=basis.power_kw),
    )


# --- promotions ---


@dataclass(frozen=True, kw_only=True)
class Refusal:
    code: str
    reason: str


def promotion_candidates(code: str) -> QuerySet[Promotion]:
    return Promotion.objects.filter(code_key=code.strip().upper())


def promotion_find(*, code: str, station_id: UUID | None, operator_id: UUID | None = None) -> Promotion | Refusal:
    """The promotion a code means: codes are unique per operator, so the station's operator decides
    when several operators use the same code. `operator_id` restricts the search (operators' calls)."""
    candidates = promotion_candidates(code)
    if operator_id is not None:
        candidates = candidates.filter(operator_id=operator_id)
    found = list(candidates[:10])
    if len(found) > 1 and station_id is not None:
        station = known_station(station_id)
        if station is not None:
            found = [p for p in found if p.operator_id == station.operator_id]
    if not found:
        return Refusal(code="unknown", reason="This promotion code does not exist.")
    if len(found) > 1:
        return Refusal(code="ambiguous_code", reason="This code needs a station to tell which offer it is.")
    return found[0]


def format_money(amount: int, currency: str) -> str:
    """(2000, "EUR") -> "20.00 EUR"; (500, "JPY") -> "500 JPY": the currency's real minor units."""
    try:
        return f"{money.to_major(amount, currency)} {currency}"
    except ValueError:  # not a currency in circulation (an old row): show minor units
        return f"{amount} {currency}"


def promotion_check(
    promotion: Promotion,
    *,
    amount: int,
    currency: str,
    station_id: UUID | None,
    user_id: UUID | None,
    at: datetime,
    exclude_reference: str | None = None,
    already_counted: bool = False,
) -> tuple[int, Refusal | None]:
    """(discount, None) when the code applies to this amount, else (0, Refusal). No side effects; under
    the promotion's row lock (apply) its counts are exact. `already_counted`: the redemption being re-checked
    is one of the promotion's redemptions in force."""
    if not promotion.active:
        return 0, Refusal(code="inactive", reason="This promotion code is no longer offered.")
    if at < promotion.valid_from:
        return 0, Refusal(
            code="not_yet_valid", reason=f"This code is valid from {promotion.valid_from:%Y-%m-%d %H:%M} UTC."
        )
    if promotion.valid_to is not None and at >= promotion.valid_to:
        return 0, Refusal(code="expired", reason=f"This code expired on {promotion.valid_to:%Y-%m-%d %H:%M} UTC.")
    if promotion.currency and promotion.currency != currency:
        return 0, Refusal(
            code="currency_mismatch",
            reason=f"This code is for amounts in {promotion.currency}; this amount is in {currency}.",
        )
    if station_id is not None:
        if promotion.station_ids and str(station_id) not in {str(s) for s in promotion.station_ids}:
            return 0, Refusal(code="wrong_station", reason="This code is not valid at this station.")
        station = known_station(station_id) if not promotion.station_ids else None
        if station is not None and station.operator_id != promotion.operator_id:
            return 0, Refusal(code="wrong_station", reason="This code is not valid at this station.")
    elif promotion.station_ids:
        return 0, Refusal(code="wrong_station", reason="This code is valid only at certain stations.")
    if amount < promotion.min_amount:
        return 0, Refusal(
            code="below_minimum",
            reason=f"This code needs an amount of at least {format_money(promotion.min_amount, currency)}.",
        )
    in_force = promotion.redemptions_count - (1 if already_counted else 0)
    if promotion.max_redemptions is not None and in_force >= promotion.max_redemptions:
        return 0, Refusal(code="exhausted", reason="This code has been fully redeemed.")
    if promotion.max_per_user is not None and user_id is not None:
        used = promotion.redemptions.filter(user_id=user_id, status=Redemption.Status.ACTIVE)
        if exclude_reference is not None:
            used = used.exclude(reference=exclude_reference)
        if used.count() >= promotion.max_per_user:
            times = "once" if promotion.max_per_user == 1 else f"{promotion.max_per_user} times"
            return 0, Refusal(code="per_user_limit", reason=f"You may use this code only {times}.")
    return promotion_discount(promotion, amount=amount), None


def promotion_discount(promotion: Promotion, *, amount: int) -> int:
    if promotion.kind == Promotion.Kind.PERCENT:
        return arithmetic.percent_discount(amount=amount, percent=promotion.value, max_discount=promotion.max_discount)
    return arithmetic.fixed_discount(amount=amount, value=promotion.value)


def promotion_evaluate(
    *,
    code: str,
    amount: int,
    currency: str,
    station_id: UUID | None,
    user_id: UUID | None,
    operator_id: UUID | None = None,
) -> PromotionEvaluation:
    """What applying the code would give, with no side effect."""
    found = promotion_find(code=code, station_id=station_id, operator_id=operator_id)
    if isinstance(found, Refusal):
        return PromotionEvaluation(valid=False, discount_amount=0, reason=found.reason, refusal_code=found.code)
    discount, refusal = promotion_check(
        found, amount=amount, currency=currency, station_id=station_id, user_id=user_id, at=timezone.now()
    )
    if refusal is not None:
        return PromotionEvaluation(
            valid=False, discount_amount=0, reason=refusal.reason, promotion_id=found.id, refusal_code=refusal.code
        )
    return PromotionEvaluation(valid=True, discount_amount=discount, promotion_id=found.id)


def redemption_counts(promotion_ids: list[UUID]) -> dict[UUID, int]:
    rows = (
        Redemption.objects.filter(promotion_id__in=promotion_ids, status=Redemption.Status.ACTIVE)
        .values("promotion_id")
        .annotate(n=Count("id"))
    )
    return {row["promotion_id"]: row["n"] for row in rows}
