"""Writes: rate plans, rules, the station read model, promotions and their redemptions."""

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from apps.pricing import selectors
from apps.pricing.models import (
    KnownConnector,
    KnownStation,
    PricingRule,
    Promotion,
    RatePlan,
    ReadModelVersion,
    Redemption,
    StationPlanAssignment,
)
from evcharge.actor import Actor
from evcharge.contracts import billing as billing_contract
from evcharge.contracts import identity as identity_contract
from evcharge.contracts.billing import InvoiceSummary, UnknownInvoice
from evcharge.contracts.pricing import PricingRuleUpdated, PromotionRefused
from evcharge.contracts.stations import ChargerInfo
from evcharge.errors import Conflict, InvalidInput, NotAllowed, NotFound
from evcharge.events import publish

RATE_PLAN_PRICE_FIELDS = (
    "energy_price_per_kwh",
    "time_price_per_min",
    "session_fee",
    "idle_fee_per_min",
    "idle_grace_min",
)
RATE_PLAN_FIELDS = ("name", "currency", *RATE_PLAN_PRICE_FIELDS, "is_default")
OPEN = "open"  # an invoice's status when it can take a code
RULE_FIELDS = ("rate_plan_id", "station_id", "connector_type", "priority", "valid_from", "valid_to")


def _rules_changed() -> None:
    """Tells every process's quote cache that plans, rules or assignments changed (same transaction)."""
    if not ReadModelVersion.objects.filter(id=1).update(token=uuid.uuid4()):
        ReadModelVersion.objects.update_or_create(id=1, defaults={"token": uuid.uuid4()})
    transaction.on_commit(selectors.quote_cache_clear)


def _station_changed(station: KnownStation) -> None:
    station.version = uuid.uuid4()
    station.save(update_fields=["version"])
    transaction.on_commit(selectors.quote_cache_clear)


def _operator_for_create(*, by: Actor, operator_id: UUID | None) -> UUID:
    """Operators create for their own operator; admins must say which one."""
    if not by.is_admin:
        if operator_id is not None and operator_id != by.operator_id:
            raise NotAllowed("Operators manage their own operator's prices only.")
        return by.operator_id
    if operator_id is None:
        raise InvalidInput("Admins must say which operator.", errors={"operator_id": ["This field is required."]})
    try:
        exists = identity_contract.facade().operator_exists(operator_id)
    except LookupError:  # identity not installed: nothing to check against
        exists = True
    if not exists:
        raise InvalidInput("No such operator.", errors={"operator_id": ["No such operator."]})
    return operator_id


# --- rate plans ---


def _rate_plan_for_change(*, plan_id: UUID, by: Actor) -> RatePlan:
    plan = RatePlan.objects.select_for_update().filter(id=plan_id).first()
    if plan is None or not by.manages(plan.operator_id):
        raise NotFound("No such rate plan.")
    return plan


def _make_sole_default(plan: RatePlan) -> None:
    RatePlan.objects.filter(operator_id=plan.operator_id, is_default=True).exclude(id=plan.id).update(is_default=False)


@transaction.atomic
def rate_plan_create(
    *,
    by: Actor,
    name: str,
    currency: str,
    energy_price_per_kwh: int = 0,
    time_price_per_min: int = 0,
    session_fee: int = 0,
    idle_fee_per_min: int = 0,
    idle_grace_min: int = 0,
    is_default: bool = False,
    operator_id: UUID | None = None,
) -> RatePlan:
    operator_id = _operator_for_create(by=by, operator_id=operator_id)
    if is_default:
        RatePlan.objects.select_for_update().filter(operator_id=operator_id, is_default=True).update(is_default=False)
    try:
        with transaction.atomic():
            plan = RatePlan.objects.create(
                operator_id=operator_id,
                name=name,
                currency=currency.upper(),
                energy_price_per_kwh=energy_price_per_kwh,
                time_price_per_min=time_price_per_min,
                session_fee=session_fee,
                idle_fee_per_min=idle_fee_per_min,
                idle_grace_min=idle_grace_min,
                is_default=is_default,
            )
    except IntegrityError as exc:  # another default plan was set at the same moment
        raise Conflict("Another default plan was set meanwhile; try again.", code="default_plan_race") from exc
    _rules_changed()
    publish(
        PricingRuleUpdated(
            operator_id=operator_id, rate_plan_id=plan.id, change="created", fields=list(RATE_PLAN_FIELDS)
        )
    )
    return plan


@transaction.atomic
def rate_plan_update(*, plan_id: UUID, by: Actor, **changes: Any) -> RatePlan:
    unknown = set(changes) - set(RATE_PLAN_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields.", errors={name: ["Unknown field."] for name in sorted(unknown)})
    plan = _rate_plan_for_change(plan_id=plan_id, by=by)
    if "currency" in changes:
        changes["currency"] = changes["currency"].upper()
    changed = [name for name, value in changes.items() if getattr(plan, name) != value]
    for name in changed:
        setattr(plan, name, changes[name])
    if not changed:
        return plan
    if plan.is_default:
        _make_sole_default(plan)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:
        raise Conflict("Another default plan was set meanwhile; try again.", code="default_plan_race") from exc
    _rules_changed()
    publish(PricingRuleUpdated(operator_id=plan.operator_id, rate_plan_id=plan.id, change="updated", fields=changed))
    return plan


@transaction.atomic
def rate_plan_delete(*, plan_id: UUID, by: Actor) -> None:
    plan = _rate_plan_for_change(plan_id=plan_id, by=by)
    if plan.rules.exists():
        raise Conflict("Rules still use this rate plan; delete or move them first.", code="plan_in_use")
    operator_id = plan.operator_id
    try:
        plan.delete()
    except ProtectedError as exc:
        raise Conflict("Rules still use this rate plan.", code="plan_in_use") from exc
    _rules_changed()
    publish(PricingRuleUpdated(operator_id=operator_id, rate_plan_id=plan_id, change="deleted", fields=[]))


# --- rules ---


def _check_window(valid_from: datetime | None, valid_to: datetime | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise InvalidInput("valid_to must be after valid_from.", errors={"valid_to": ["Must be after valid_from."]})


def _plan_for_rule(*, rate_plan_id: UUID, by: Actor) -> RatePlan:
    plan = RatePlan.objects.filter(id=rate_plan_id).first()
    if plan is None or not by.manages(plan.operator_id):
        raise InvalidInput("No such rate plan.", errors={"rate_plan_id": ["No such rate plan."]})
    return plan


def _check_station_operator(*, station_id: UUID | None, operator_id: UUID) -> None:
    if station_id is None:
        return
    station = selectors.known_station(station_id)
    if station is not None and station.operator_id != operator_id:
        raise InvalidInput(
            "This station belongs to another operator.",
            errors={"station_id": ["This station belongs to another operator."]},
        )


@transaction.atomic
def rule_create(
    *,
    by: Actor,
    rate_plan_id: UUID,
    station_id: UUID | None = None,
    connector_type: str | None = None,
    priority: int = 0,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
) -> PricingRule:
    plan = _plan_for_rule(rate_plan_id=rate_plan_id, by=by)
    _check_window(valid_from, valid_to)
    _check_station_operator(station_id=station_id, operator_id=plan.operator_id)
    rule = PricingRule.objects.create(
        operator_id=plan.operator_id,
        rate_plan=plan,
        station_id=station_id,
        connector_type=connector_type or None,
        priority=priority,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    _rules_changed()
    publish(
        PricingRuleUpdated(
            operator_id=plan.operator_id,
            rate_plan_id=plan.id,
            rule_id=rule.id,
            change="created",
            fields=list(RULE_FIELDS),
        )
    )
    return rule


def _rule_for_change(*, rule_id: UUID, by: Actor) -> PricingRule:
    rule = PricingRule.objects.select_for_update().filter(id=rule_id).first()
    if rule is None or not by.manages(rule.operator_id):
        raise NotFound("No such rule.")
    return rule


@transaction.atomic
def rule_update(*, rule_id: UUID, by: Actor, **changes: Any) -> PricingRule:
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields.", errors={name: ["Unknown field."] for name in sorted(unknown)})
    rule = _rule_for_change(rule_id=rule_id, by=by)
    if "rate_plan_id" in changes:
        plan = _plan_for_rule(rate_plan_id=changes["rate_plan_id"], by=by)
        if plan.operator_id != rule.operator_id:
            raise InvalidInput("No such rate plan.", errors={"rate_plan_id": ["No such rate plan."]})
    if "connector_type" in changes:
        changes["connector_type"] = changes["connector_type"] or None
    changed = [name for name, value in changes.items() if getattr(rule, name) != value]
    if not changed:
        return rule
    for name in changed:
        setattr(rule, name, changes[name])
    _check_window(rule.valid_from, rule.valid_to)
    _check_station_operator(station_id=rule.station_id, operator_id=rule.operator_id)
    rule.save()
    _rules_changed()
    publish(
        PricingRuleUpdated(
            operator_id=rule.operator_id,
            rate_plan_id=rule.rate_plan_id,
            rule_id=rule.id,
            change="updated",
            fields=changed,
        )
    )
    return rule


@transaction.atomic
def rule_delete(*, rule_id: UUID, by: Actor) -> None:
    rule = _rule_for_change(rule_id=rule_id, by=by)
    operator_id, rate_plan_id = rule.operator_id, rule.rate_plan_id
    rule.delete()
    _rules_changed()
    publish(
        PricingRuleUpdated(
            operator_id=operator_id, rate_plan_id=rate_plan_id, rule_id=rule_id, change="deleted", fields=[]
        )
    )


# --- the station read model (from station.* and station.config.updated.v1 events) ---


@transaction.atomic
def known_station_upsert(
    *,
    station_id: UUID,
    operator_id: UUID,
    name: str,
    enabled: bool,
    chargers: list[ChargerInfo],
    as_of: datetime,
    version: int = 0,
) -> KnownStation:
    """Station data and its connectors as the event states them; nothing when a newer version of the station is
    held already (an event without a version: a connector's status is kept when a newer change is known)."""
    station, _ = KnownStation.objects.select_for_update().get_or_create(
        station_id=station_id, defaults={"operator_id": operator_id, "name": name, "updated_at": as_of}
    )
    if version and station.source_version >= version:
        return station
    station.operator_id, station.name, station.enabled, station.updated_at = operator_id, name, enabled, as_of
    station.known = True
    station.source_version = max(station.source_version, version)
    station.save()
    _station_changed(station)
    known = {c.connector_id: c for c in station.connectors.all()}
    incoming = set()
    for charger in chargers:
        for info in charger.connectors:
            incoming.add(info.connector_id)
            connector = known.get(info.connector_id)
            if connector is None:
                KnownConnector.objects.create(
                    connector_id=info.connector_id,
                    station=station,
                    charger_id=charger.charger_id,
                    type=info.type,
                    max_power_kw=info.max_power_kw,
                    status=info.status,
                    status_at=as_of,
                    source_version=version,
                )
                continue
            connector.charger_id, connector.type = charger.charger_id, info.type
            connector.max_power_kw = info.max_power_kw
            newer = version > connector.source_version if version else as_of >= connector.status_at
            if newer:
                connector.status, connector.status_at = info.status, as_of
                connector.source_version = max(connector.source_version, version)
            connector.save()
    station.connectors.exclude(connector_id__in=incoming).delete()
    return station


@transaction.atomic
def known_connector_status_record(
    *,
    station_id: UUID,
    charger_id: UUID,
    connector_id: UUID,
    connector_type: str,
    new_status: str,
    changed_at: datetime,
    version: int = 0,
) -> None:
    """A connector's new status; ignored when older than the one known (by the station's version, or by time for
    an event without one). One that arrives before the station's own event is kept on a placeholder station (not
    `known`), so that older event, arriving later, brings the station but not its older status (an event without a
    version, for a station not yet known, is ignored as before)."""
    station = KnownStation.objects.select_for_update().filter(station_id=station_id).first()
    if station is None:
        if not version:
            return
        station, _ = KnownStation.objects.select_for_update().get_or_create(
            station_id=station_id, defaults={"known": False, "updated_at": changed_at}
        )
    connector = KnownConnector.objects.filter(connector_id=connector_id).first()
    if connector is None:
        KnownConnector.objects.create(
            connector_id=connector_id,
            station=station,
            charger_id=charger_id,
            type=connector_type,
            status=new_status,
            status_at=changed_at,
            source_version=version,
        )
    elif version > connector.source_version if version else changed_at >= connector.status_at:
        connector.status, connector.status_at = new_status, changed_at
        connector.source_version = max(connector.source_version, version)
        connector.save(update_fields=["status", "status_at", "source_version"])
    else:
        return
    _station_changed(station)


@transaction.atomic
def station_assignment_record(
    *,
    station_id: UUID,
    operator_id: UUID,
    rate_plan_id: UUID | None,
    idle_grace_min: int | None,
    max_power_kw: float | None = None,
    as_of: datetime,
    version: int = 0,
) -> StationPlanAssignment:
    """The station's settings as station.config.updated.v1 states them; an older version than the one held
    changes nothing (the station stays on the newest rate plan)."""
    held = StationPlanAssignment.objects.select_for_update().filter(station_id=station_id).first()
    if held is not None and version and held.config_version >= version:
        return held
    assignment, _ = StationPlanAssignment.objects.update_or_create(
        station_id=station_id,
        defaults={
            "operator_id": operator_id,
            "rate_plan_id": rate_plan_id,
            "idle_grace_min": idle_grace_min,
            "max_power_kw": max_power_kw,
            "updated_at": as_of,
            "config_version": max(version, held.config_version if held else 0),
        },
    )
    _rules_changed()
    return assignment


# --- promotions ---


@transaction.atomic
def promotion_create(
    *,
    by: Actor,
    code: str,
    kind: str,
    value: int,
    currency: str | None = None,
    min_amount: int = 0,
    max_discount: int | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    station_ids: list[UUID] | None = None,
    max_redemptions: int | None = None,
    max_per_user: int | None = None,
    operator_id: UUID | None = None,
) -> Promotion:
    operator_id = _operator_for_create(by=by, operator_id=operator_id)
    code = code.strip()
    errors: dict[str, list[str]] = {}
    if kind == Promotion.Kind.PERCENT and not 1 <= value <= 100:
        errors["value"] = ["A percent must be between 1 and 100."]
    if kind == Promotion.Kind.FIXED and not currency:
        errors["currency"] = ["Required for a fixed amount."]
    if kind == Promotion.Kind.PERCENT and not currency and (max_discount is not None or min_amount):
        errors["currency"] = ["Required with max_discount or min_amount."]
    valid_from = valid_from or timezone.now()
    if valid_to is not None and valid_to <= valid_from:
        errors["valid_to"] = ["Must be after valid_from."]
    if Promotion.objects.filter(operator_id=operator_id, code_key=code.upper()).exists():
        errors["code"] = ["Your operator already has a promotion with this code."]
    if errors:
        raise InvalidInput("The promotion is not valid.", errors=errors)
    try:
        with transaction.atomic():
            return Promotion.objects.create(
                operator_id=operator_id,
                code=code,
                kind=kind,
                value=value,
                currency=currency.upper() if currency else None,
                min_amount=min_amount,
                max_discount=max_discount,
                valid_from=valid_from,
                valid_to=valid_to,
                station_ids=[str(s) for s in station_ids or []],
                max_redemptions=max_redemptions,
                max_per_user=max_per_user,
            )
    except IntegrityError as exc:
        raise InvalidInput(
            "Your operator already has a promotion with this code.",
            errors={"code": ["Your operator already has a promotion with this code."]},
        ) from exc


@transaction.atomic
def promotion_update(*, promotion_id: UUID, by: Actor, **changes: Any) -> Promotion:
    """Operators may switch a promotion off (`active`), move its end, or change its limits."""
    promotion = Promotion.objects.select_for_update().filter(id=promotion_id).first()
    if promotion is None or not by.manages(promotion.operator_id):
        raise NotFound("No such promotion.")
    allowed = {"active", "valid_to", "max_redemptions", "max_per_user"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput("Unknown fields.", errors={name: ["Cannot be changed."] for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(promotion, name, value)
    if promotion.valid_to is not None and promotion.valid_to <= promotion.valid_from:
        raise InvalidInput("valid_to must be after valid_from.", errors={"valid_to": ["Must be after valid_from."]})
    promotion.save()
    return promotion


def _invoice_for_discount(*, invoice_id: UUID, by: Actor | None) -> InvoiceSummary:
    """The invoice as billing knows it (owner, status, currency, real total); callers see only their own."""
    if not billing_contract.registered():
        raise Conflict("Promotions cannot be applied right now.", code="billing_unavailable")
    invoice = billing_contract.facade().invoice_for_discount(invoice_id)
    if by is not None and not (by.manages(invoice.operator_id) or (by.is_driver and by.user_id == invoice.user_id)):
        raise UnknownInvoice()
    if invoice.status != OPEN:
        raise Conflict(
            f"This invoice is {invoice.status}: a code applies to an open invoice only.", code="invoice_not_open"
        )
    if invoice.payment_in_progress:
        raise Conflict("A payment of this invoice is in progress.", code="payment_in_progress")
    return invoice


def promotion_apply(*, code: str, invoice_id: UUID, by: Actor | None = None) -> tuple[Redemption, bool]:
    """Redeems a code for an open invoice; (redemption, created). The discount is computed from the code's rules
    and the invoice's real total and currency (asked of billing), for the invoice's owner: nothing the caller
    says about money is used. The same code for the same invoice again re-checks and recomputes the redemption
    in force; another code's redemption for the invoice is released (one promotion per invoice). Both limits
    hold under concurrency: every apply takes the promotion's row lock, so counts and the per-user check are
    exact. `by` (API callers): drivers apply to their own invoices, operators to their stations'; others'
    invoices are unknown (UnknownInvoice). Raises PromotionRefused(reason, code), Conflict (invoice not open)."""
    invoice = _invoice_for_discount(invoice_id=invoice_id, by=by)
    found = selectors.promotion_find(code=code, station_id=invoice.station_id, operator_id=invoice.operator_id)
    if isinstance(found, selectors.Refusal):
        raise PromotionRefused(found.reason, found.code)
    return _redeem(promotion_id=found.id, invoice=invoice)


def redemption_for_invoice(*, invoice_id: UUID) -> Redemption | None:
    """The redemption in force for the invoice, re-checked and recomputed against its current total (checkout).
    Raises PromotionRefused when it no longer applies; it stays in force until released."""
    reference = str(invoice_id)
    promotion_id = (
        Redemption.objects.filter(reference=reference, status=Redemption.Status.ACTIVE)
        .order_by("-created_at")
        .values_list("promotion_id", flat=True)
        .first()
    )
    if promotion_id is None:
        return None
    redemption, _ = _redeem(promotion_id=promotion_id, invoice=_invoice_for_discount(invoice_id=invoice_id, by=None))
    return redemption


def _redeem(*, promotion_id: UUID, invoice: InvoiceSummary) -> tuple[Redemption, bool]:
    reference = str(invoice.invoice_id)
    with transaction.atomic():
        promotion = Promotion.objects.select_for_update().get(id=promotion_id)
        existing = promotion.redemptions.filter(reference=reference).first()
        in_force = existing is not None and existing.status == Redemption.Status.ACTIVE
        if in_force and existing.user_id != invoice.user_id:
            raise PromotionRefused("This code was already used for this payment.", "reference_taken")
        discount, refusal = selectors.promotion_check(
            promotion,
            amount=invoice.total_amount,
            currency=invoice.currency,
            station_id=invoice.station_id,
            user_id=invoice.user_id,
            at=timezone.now(),
            exclude_reference=reference,
            already_counted=in_force,
        )
        if refusal is not None:
            raise PromotionRefused(refusal.reason, refusal.code)
        redemption = existing if existing is not None else Redemption(promotion=promotion, reference=reference)
        redemption.user_id, redemption.station_id = invoice.user_id, invoice.station_id
        redemption.amount, redemption.currency, redemption.discount_amount = (
            invoice.total_amount,
            invoice.currency,
            discount,
        )
        redemption.status, redemption.released_at = Redemption.Status.ACTIVE, None
        redemption.save()
        if not in_force:
            promotion.redemptions_count += 1
            promotion.save(update_fields=["redemptions_count"])
        others = Redemption.objects.filter(reference=reference, status=Redemption.Status.ACTIVE).exclude(
            id=redemption.id
        )
        for other_id in others.values_list("id", flat=True):
            redemption_release(redemption_id=other_id)
        return redemption, not in_force


def redemptions_release_for_invoice(*, invoice_id: UUID) -> int:
    """Gives back the uses of every redemption in force for the invoice (it was voided)."""
    released = 0
    with transaction.atomic():
        ids = Redemption.objects.filter(reference=str(invoice_id), status=Redemption.Status.ACTIVE)
        for redemption_id in ids.values_list("id", flat=True):
            redemption_release(redemption_id=redemption_id)
            released += 1
    return released


@transaction.atomic
def redemption_release(*, redemption_id: UUID, by: Actor | None = None) -> Redemption:
    """Gives the use back (the payment failed). Releasing twice changes nothing."""
    promotion_id = Redemption.objects.filter(id=redemption_id).values_list("promotion_id", flat=True).first()
    if promotion_id is None:
        raise NotFound("No such redemption.")
    promotion = Promotion.objects.select_for_update().get(id=promotion_id)
    redemption = Redemption.objects.select_for_update().get(id=redemption_id)
    if by is not None and not by.manages(promotion.operator_id):
        raise NotFound("No such redemption.")
    if redemption.status == Redemption.Status.RELEASED:
        return redemption
    redemption.status, redemption.released_at = Redemption.Status.RELEASED, timezone.now()
    redemption.save(update_fields=["status", "released_at"])
    promotion.redemptions_count = max(0, promotion.redemptions_count - 1)
    promotion.save(update_fields=["redemptions_count"])
    return redemption
