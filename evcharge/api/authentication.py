"""Authentication for every context: JWT from the token's claims alone, or an API key."""

import time
from uuid import UUID

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

from evcharge.actor import Actor
from evcharge.contracts import identity as identity_contract


class Principal:
    """What `request.user` is in the API: the caller as the token or key describes them."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, actor: Actor):
        self.actor = actor
        self.pk = self.id = actor.user_id

    def __str__(self) -> str:
        return f"{self.actor.role}:{self.actor.user_id or self.actor.api_key_id}"


MAX_REMEMBERED_TOKENS = 10_000
_verified_tokens: dict[bytes, tuple[float, "Principal", object]] = {}  # raw token -> (exp, principal, token)


class JWTClaimsAuthentication(JWTStatelessUserAuthentication):
    """Bearer access token; the user comes from its claims, with no database hit.

    Access tokens are stateless (never blacklisted), so a process remembers the tokens it has verified,
    keyed by the exact token string and trusted only until the token's own `exp`: a client making many
    calls pays the signature check once per token instead of once per request.
    """

    def authenticate(self, request):
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        remembered = _verified_tokens.get(raw_token)
        if remembered is not None and time.time() < remembered[0]:
            return remembered[1], remembered[2]
        user, validated_token = super().authenticate(request)
        if len(_verified_tokens) >= MAX_REMEMBERED_TOKENS:
            _verified_tokens.clear()
        _verified_tokens[raw_token] = (float(validated_token["exp"]), user, validated_token)
        return user, validated_token

    def get_user(self, validated_token):
        try:
            user_id = UUID(str(validated_token["user_id"]))
            operator_id = validated_token.get("operator_id")
            actor = Actor(
                user_id=user_id,
                role=str(validated_token["role"]),
                operator_id=UUID(operator_id) if operator_id else None,
            )
        except (KeyError, ValueError) as exc:
            raise exceptions.AuthenticationFailed("The token lacks the user_id/role claims.") from exc
        return Principal(actor)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>` for chargers and machine clients, on the routes that accept it."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(f"{self.keyword} "):
            return None
        raw_key = header[len(self.keyword) + 1 :].strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed("Empty API key.")
        actor = identity_contract.facade().authenticate_api_key(raw_key)
        if actor is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return Principal(actor), None

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`Api-Key <key>`"}


class JWTClaimsScheme(OpenApiAuthenticationExtension):
    target_class = JWTClaimsAuthentication
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


JWT_OR_API_KEY = [JWTClaimsAuthentication, ApiKeyAuthentication]
