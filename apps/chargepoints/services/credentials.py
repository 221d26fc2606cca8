"""A charger's OCPP password (security profile 1: HTTP Basic auth at the WebSocket handshake).

The password is an AuthorizationKey as the OCPP security whitepaper describes it: 16 to 40 printable ASCII
characters, chosen by the operator for one charger. It is a high-entropy key, not a person's password, so a
salted SHA-256 is enough and keeps thousands of reconnecting chargers cheap to check. It is never shown again."""

import hashlib
import hmac
import secrets
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.chargepoints.models import ChargeBox
from evcharge.contracts import stations
from evcharge.errors import InvalidInput, NotFound

PASSWORD_MIN_LENGTH = 16
PASSWORD_MAX_LENGTH = 40
HASH_SCHEME = "sha256"


def _hash(password: str, salt: str) -> str:
    digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
    return f"{HASH_SCHEME}${salt}${digest}"


def password_valid(password: object) -> bool:
    return (
        isinstance(password, str)
        and PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH
        and all(0x21 <= ord(char) <= 0x7E for char in password)
    )


def password_matches(box: ChargeBox, raw: str) -> bool:
    """True when `raw` is the box's password (constant-time comparison)."""
    scheme, _, rest = (box.password_hash or "").partition("$")
    salt, _, _digest = rest.partition("$")
    if scheme != HASH_SCHEME or not salt or not isinstance(raw, str):
        return False
    return hmac.compare_digest(_hash(raw, salt), box.password_hash)


def charge_box_ensure(*, charger_id: UUID) -> ChargeBox:
    """The charger's ChargeBox, created from the stations context when it has none yet (charge box id = the
    charger's serial). NotFound when the stations context knows no such charger."""
    box = ChargeBox.objects.filter(id=charger_id).first()
    if box is not None:
        return box
    charger = stations.facade().charger(charger_id)
    if charger is None:
        raise NotFound("No charger with this id.")
    box, _ = ChargeBox.objects.get_or_create(
        id=charger.charger_id,
        defaults={
            "charge_box_id": charger.serial,
            "station_id": charger.station_id,
            "operator_id": charger.operator_id,
        },
    )
    return box


def charge_box_set_password(*, charger_id: UUID, password: str, by: UUID | None) -> ChargeBox:
    """Sets (or replaces) the charger's OCPP password. The charger's current connection stays; the next
    handshake needs the new password."""
    if not password_valid(password):
        raise InvalidInput(
            f"The OCPP password is {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} printable ASCII characters "
            "(no spaces).",
            errors={"password": ["16 to 40 printable ASCII characters, no spaces."]},
            code="ocpp_password_invalid",
        )
    with transaction.atomic():
        box = charge_box_ensure(charger_id=charger_id)
        box = ChargeBox.objects.select_for_update().get(id=box.id)
        box.password_hash = _hash(password, secrets.token_hex(16))
        box.password_set_at = timezone.now()
        box.password_set_by = by
        box.save(update_fields=["password_hash", "password_set_at", "password_set_by"])
    return box
