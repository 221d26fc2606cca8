"""Who may call a route. Every view states it with one of these (or AllowAny, said out loud)."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from evcharge.actor import ADMIN, DRIVER, OPERATOR, Actor


def actor(request: Request) -> Actor:
    """The caller of an authenticated request, as services want it."""
    return request.user.actor


def optional_actor(request: Request) -> Actor | None:
    user = getattr(request, "user", None)
    return getattr(user, "actor", None)


class _HasRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role may not call this route."

    def has_permission(self, request, view) -> bool:
        caller = optional_actor(request)
        return caller is not None and caller.role in self.roles


def has_role(*roles: str) -> type[BasePermission]:
    """A permission class admitting only the given roles: `permission_classes = [has_role(ADMIN)]`."""
    return type(f"HasRole_{'_'.join(roles)}", (_HasRole,), {"roles": tuple(roles)})


IsAdmin = has_role(ADMIN)
IsOperatorOrAdmin = has_role(OPERATOR, ADMIN)
IsDriver = has_role(DRIVER)
IsAnyUser = has_role(DRIVER, OPERATOR, ADMIN)


class IsApiKey(BasePermission):
    """Only a machine client authenticated with `Authorization: Api-Key <key>`."""

    message = "This route needs an API key."

    def has_permission(self, request, view) -> bool:
        caller = optional_actor(request)
        return caller is not None and caller.is_api_key
