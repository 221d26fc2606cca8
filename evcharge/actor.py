"""Who is calling: built from the JWT claims (or the API key), passed to services as `by`."""

from dataclasses import dataclass
from uuid import UUID

DRIVER, OPERATOR, ADMIN = "driver", "operator", "admin"
ROLES = (DRIVER, OPERATOR, ADMIN)


@dataclass(frozen=True, kw_only=True)
class Actor:
    user_id: UUID | None
    role: str
    operator_id: UUID | None = None
    api_key_id: UUID | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR

    @property
    def is_driver(self) -> bool:
        return self.role == DRIVER

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None

    def manages(self, operator_id: UUID | None) -> bool:
        """True for an admin, or for an operator (user or API key) of that operator."""
        return self.is_admin or (self.is_operator and self.operator_id is not None and self.operator_id == operator_id)

    @classmethod
    def system(cls) -> "Actor":
        return cls(user_id=None, role=ADMIN)
