from uuid import UUID

from apps.identity import selectors, services
from apps.identity.models import Operator
from evcharge.actor import OPERATOR, Actor


class IdentityFacadeImpl:
    def authenticate_api_key(self, raw_key: str) -> Actor | None:
        key = selectors.api_key_find_active(raw_key)
        if key is None or key.operator_id is None:  # a key without an operator (minted before) acts for no one
            return None
        services.api_key_touch(key)
        return Actor(user_id=key.created_by_id, role=OPERATOR, operator_id=key.operator_id, api_key_id=key.id)

    def operator_exists(self, operator_id: UUID) -> bool:
        return Operator.objects.filter(id=operator_id).exists()
