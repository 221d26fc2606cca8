import secrets
from uuid import UUID

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.identity.models import ApiKey, Operator, User
from apps.identity.selectors import hash_api_key
from evcharge.actor import ADMIN, OPERATOR, ROLES, Actor
from evcharge.contracts.identity import UserCreated
from evcharge.errors import InvalidInput, NotAllowed, NotFound
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
