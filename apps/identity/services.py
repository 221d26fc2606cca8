import secrets
import uuid
from uuid import UUID

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.identity.models import ApiKey, IdTag, Operator, User
from apps.identity.selectors import hash_api_key
from evcharge.actor import ADMIN, OPERATOR, ROLES, Actor
from evcharge.contracts.identity import UserCreated
from evcharge.errors import Conflict, InvalidInput, NotAllowed, NotFound
from evcharge.events import publish


@transaction.atomic
def user_register(*, email: str, password: str, name: str = "") -> User:
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise InvalidInput("This email is already registered.", errors={"email": ["This email is already registered."]})
    try:
        validate_password(password, user=User(email=email, name=name))
    except ValidationError as exc:
        raise InvalidInput("The password is too weak.", errors={"password": list(exc.messages)}) from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name)
    except IntegrityError as exc:
        raise InvalidInput(
            "This email is already registered.", errors={"email": ["This email is already registered."]}
        ) from exc
    publish(UserCreated(user_id=user.id, role=user.role))
    return user


@transaction.atomic
def guest_driver_create() -> User:
    """A driver identity for one guest checkout: an address of the reserved .invalid domain, no usable password."""
    user = User.objects.create_user(email=f"guest-{uuid.uuid4().hex}@guest.invalid", password=None, is_guest=True)
    publish(UserCreated(user_id=user.id, role=user.role))
    return user


@transaction.atomic
def guest_driver_retire(*, user_id: UUID) -> int:
    """A guest's checkout ended before its session started: the guest's tags are blocked, so nothing more starts
    with them (a charger that accepted the remote start and sends StartTransaction late is answered Blocked).
    A registered driver's tags are left alone. Returns how many tags were blocked."""
    return (
        IdTag.objects.filter(user_id=user_id, user__is_guest=True)
        .exclude(status=IdTag.Status.BLOCKED)
        .update(status=IdTag.Status.BLOCKED)
    )


@transaction.atomic
def user_assign_role(*, user_id: UUID, role: str, operator_id: UUID | None, by: Actor) -> User:
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}.", errors={"role": [f"Choose one of {', '.join(ROLES)}."]})
    user = User.objects.select_for_update().filter(id=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    operator = None
    if role == OPERATOR:
        if operator_id is None:
            raise InvalidInput(
                "The operator role needs an operator.",
                errors={"operator_id": ["Required for the operator role."]},
            )
        operator = Operator.objects.filter(id=operator_id).first()
        if operator is None:
            raise InvalidInput("No such operator.", errors={"operator_id": ["No such operator."]})
    user.role = role
    user.operator = operator
    # Staff log into the Django admin; an admin there sees everything, as in the API.
    user.is_staff = role in (OPERATOR, ADMIN)
    user.is_superuser = role == ADMIN
    user.save(update_fields=["role", "operator", "is_staff", "is_superuser"])
    return user


@transaction.atomic
def operator_create(*, name: str) -> Operator:
    name = name.strip()
    taken = InvalidInput(
        f"An operator named {name!r} exists already.", errors={"name": ["An operator with this name exists."]}
    )
    if Operator.objects.filter(name__iexact=name).exists():
        raise taken
    try:
        with transaction.atomic():
            return Operator.objects.create(name=name)
    except IntegrityError as exc:
        raise taken from exc


@transaction.atomic
def api_key_create(*, name: str, by: Actor, operator_id: UUID | None = None) -> tuple[ApiKey, str]:
    """Returns the key row and the raw key, which is never stored and cannot be shown again.
    A key always acts for one operator (an admin names it): there is no key with an admin's reach."""
    if not by.is_admin:
        if operator_id is not None and operator_id != by.operator_id:
            raise NotAllowed("Operators create keys for their own operator only.")
        operator_id = by.operator_id
    if operator_id is None:
        raise InvalidInput(
            "An API key acts for one operator: give operator_id.",
            errors={"operator_id": ["Required: the operator the key acts for."]},
        )
    if not Operator.objects.filter(id=operator_id).exists():
        raise InvalidInput("No such operator.", errors={"operator_id": ["No such operator."]})
    prefix = secrets.token_hex(4)
    raw_key = f"evk_{prefix}_{secrets.token_urlsafe(32).replace('_', '-')}"
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        hashed_key=hash_api_key(raw_key),
        operator_id=operator_id,
        created_by_id=by.user_id,
    )
    return key, raw_key


@transaction.atomic
def api_key_revoke(*, key_id: UUID, by: Actor) -> None:
    key = ApiKey.objects.filter(id=key_id).first()
    if key is None or not by.manages(key.operator_id):
        raise NotFound("No such API key.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def api_key_touch(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(id=key.id).update(last_used_at=now)


ID_TAG_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from a card


def _check_id_tag(tag: str) -> str:
    tag = tag.strip()
    if not 1 <= len(tag) <= 20 or not tag.isascii() or not tag.isprintable():
        raise InvalidInput(
            "An RFID tag is 1 to 20 printable ASCII characters (OCPP idTag).",
            errors={"tag": ["1 to 20 printable ASCII characters."]},
        )
    return tag


@transaction.atomic
def id_tag_register(*, tag: str, by: Actor, user_id: UUID | None = None, expires_at=None) -> IdTag:
    """Registers an RFID tag for the caller (an admin may register one for any user). A tag belongs to one user."""
    owner_id = user_id or by.user_id
    if owner_id != by.user_id and not by.is_admin:
        raise NotAllowed("Only an admin registers a tag for someone else.")
    if owner_id is None or not User.objects.filter(id=owner_id).exists():
        raise NotFound("No such user.")
    tag = _check_id_tag(tag)
    if IdTag.objects.filter(tag__iexact=tag).exists():
        raise Conflict("This tag is already registered.", code="id_tag_taken")
    try:
        with transaction.atomic():
            return IdTag.objects.create(user_id=owner_id, tag=tag, expires_at=expires_at)
    except IntegrityError as exc:  # registered by someone else a moment ago
        raise Conflict("This tag is already registered.", code="id_tag_taken") from exc


@transaction.atomic
def id_tag_delete(*, id_tag_id: UUID, by: Actor) -> None:
    tag = IdTag.objects.filter(id=id_tag_id).first()
    if tag is None or not (by.is_admin or tag.user_id == by.user_id):
        raise NotFound("No such tag.")
    tag.delete()


@transaction.atomic
def id_tag_for_user(*, user_id: UUID) -> IdTag:
    """The user's tag for remote starts: their first accepted, unexpired tag, else one the platform issues now."""
    now = timezone.now()
    usable = (
        IdTag.objects.filter(user_id=user_id, status=IdTag.Status.ACCEPTED)
        .exclude(expires_at__lte=now)
        .order_by("-kind", "created_at")  # a card of their own ("rfid") before a platform-issued tag
        .first()
    )
    if usable is not None:
        return usable
    while True:
        tag = "EVC" + "".join(secrets.choice(ID_TAG_ALPHABET) for _ in range(16))
        try:
            with transaction.atomic():
                return IdTag.objects.create(user_id=user_id, tag=tag, kind=IdTag.Kind.PLATFORM)
        except IntegrityError:
            continue  # 32^16 tags: a clash is astronomically rare, but never reuse one
