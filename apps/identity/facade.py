from uuid import UUID

from django.utils import timezone

from apps.identity import selectors, services
from apps.identity.models import IdTag, Operator
from evcharge.actor import OPERATOR, Actor
from evcharge.contracts.identity import IdTagInfo


class IdentityFacadeImpl:
    def authenticate_api_key(self, raw_key: str) -> Actor | None:
        key = selectors.api_key_find_active(raw_key)
        if key is None or key.operator_id is None:  # a key without an operator (minted before) acts for no one
            return None
        services.api_key_touch(key)
        return Actor(user_id=key.created_by_id, role=OPERATOR, operator_id=key.operator_id, api_key_id=key.id)

    def operator_exists(self, operator_id: UUID) -> bool:
        return Operator.objects.filter(id=operator_id).exists()

    def authorize_id_tag(self, id_tag: str) -> IdTagInfo:
        tag = selectors.id_tag_find(id_tag)
        if tag is None or not tag.user.is_active:
            return IdTagInfo(status="Invalid")
        if tag.status == IdTag.Status.BLOCKED:
            return IdTagInfo(status="Blocked", user_id=tag.user_id, expires_at=tag.expires_at)
        if tag.expires_at is not None and tag.expires_at <= timezone.now():
            return IdTagInfo(status="Expired", user_id=tag.user_id, expires_at=tag.expires_at)
        return IdTagInfo(status="Accepted", user_id=tag.user_id, expires_at=tag.expires_at)

    def guest_driver_create(self) -> UUID:
        return services.guest_driver_create().id

    def id_tag_for_user(self, user_id: UUID) -> str:
        return services.id_tag_for_user(user_id=user_id).tag

    def guest_driver_retire(self, user_id: UUID) -> None:
        services.guest_driver_retire(user_id=user_id)
