import hashlib
import hmac
from uuid import UUID

from apps.identity.models import ApiKey, IdTag, Operator, User


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_find_active(raw_key: str) -> ApiKey | None:
    parts = raw_key.split("_")
    if len(parts) != 3 or parts[0] != "evk":
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.hashed_key, hash_api_key(raw_key)):
        return None
    return key


def api_keys_visible_to(*, operator_id: UUID | None, is_admin: bool):
    keys = ApiKey.objects.order_by("-created_at", "id")
    if is_admin:
        return keys
    return keys.filter(operator_id=operator_id) if operator_id else keys.none()


def operator_list():
    return Operator.objects.all()


def user_get(user_id: UUID) -> User | None:
    return User.objects.filter(id=user_id).first()


def api_key_get(key_id: UUID) -> ApiKey | None:
    return ApiKey.objects.filter(id=key_id).first()


def id_tag_find(tag: str) -> IdTag | None:
    return IdTag.objects.select_related("user").filter(tag__iexact=tag).first()


def id_tags_of(user_id: UUID):
    return IdTag.objects.filter(user_id=user_id).order_by("created_at")
