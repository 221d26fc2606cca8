"""Authentication for every context: JWT from the token's claims alone, or an API key."""

import time
from uuid import UUID

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from evcharge.actor import Actor
from evcharge.contracts import identity as identity_contract

TOKEN_ROUTE = "/api/v1/auth/token"
REFRESH_ROUTE = "/api/v1/auth/token/refresh"


class CredentialsRefused(exceptions.AuthenticationFailed):
    """A 401 whose `detail` is a sentence a person can act on and whose `code` a program can branch on."""

    def __init__(self, detail: str, code: str):
        super().__init__(detail, code)
        self.problem_code = code


def token_expired(kind: str) -> CredentialsRefused:
    remedy = (
        f"get a new one with your refresh token (POST {REFRESH_ROUTE}) or log in again (POST {TOKEN_ROUTE})"
        if kind == "access"
        else f"log in again (POST {TOKEN_ROUTE})"
    )
    return CredentialsRefused(f"The {kind} token has expired; {remedy}.", "token_expired")


def token_invalid(kind: str, reason: str = "") -> CredentialsRefused:
    reason = reason or "it is malformed, was altered, or was signed by another server"
    return CredentialsRefused(
        f"The {kind} token is not valid ({reason}); log in again (POST {TOKEN_ROUTE}).", "token_invalid"
    )


def refused_token(error: TokenError, kind: str) -> CredentialsRefused:
    """simplejwt's TokenError as a sentence; its messages are fixed strings, matched untranslated."""
    message = str(error.args[0]) if error.args else ""
    if isinstance(error, ExpiredTokenError) or "expired" in message:
        return token_expired(kind)
    if "blacklisted" in message:
        return token_invalid(kind, "it was used or revoked already: each refresh token works once")
    if "wrong type" in message or "no type" in message:
        other = "refresh" if kind == "access" else "access"
        return token_invalid(kind, f"this looks like a {other} token, not an {kind} token")
    return token_invalid(kind)


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

    def get_validated_token(self, raw_token):
        error: TokenError | None = None
        for token_class in jwt_settings.AUTH_TOKEN_CLASSES:
            try:
                return token_class(raw_token)
            except TokenError as exc:
                error = exc
        raise refused_token(error or TokenError("Token is invalid"), "access")

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
            raise token_invalid("access", "it lacks the user_id and role claims") from exc
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
            raise CredentialsRefused("The Authorization header says Api-Key but carries no key.", "api_key_invalid")
        actor = identity_contract.facade().authenticate_api_key(raw_key)
        if actor is None:
            raise CredentialsRefused(
                "This API key is unknown or was revoked; ask the operator for a new one (POST /api/v1/auth/api-keys).",
                "api_key_invalid",
            )
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
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": f"`Authorization: Bearer <access token>`; the token comes from POST {TOKEN_ROUTE}.",
        }


JWT_OR_API_KEY = [JWTClaimsAuthentication, ApiKeyAuthentication]

_CREDENTIAL_NAMES = {
    JWTClaimsAuthentication: f"a bearer access token (`Authorization: Bearer <token>`, from POST {TOKEN_ROUTE})",
    ApiKeyAuthentication: "an API key (`Authorization: Api-Key <key>`)",
}
_SCHEMES = {"bearer": JWTClaimsAuthentication, "api-key": ApiKeyAuthentication}


def accepted_credentials(authenticators) -> str:
    """What a route takes, in words: "a bearer access token (...) or an API key (...)"."""
    names = [_CREDENTIAL_NAMES.get(type(a), type(a).__name__) for a in authenticators]
    return " or ".join(names) if names else "no credentials"


def missing_credentials(request, authenticators) -> CredentialsRefused:
    """The 401 of a route that needs credentials the request did not bring, saying which ones it takes."""
    accepted = accepted_credentials(authenticators)
    header = authentication.get_authorization_header(request).decode("latin-1").strip()
    scheme = header.split(" ", 1)[0].lower() if header else ""
    sent = _SCHEMES.get(scheme)
    if sent is ApiKeyAuthentication:
        return CredentialsRefused(
            f"This route does not take API keys; it takes {accepted}.", "api_key_not_accepted_here"
        )
    if sent is JWTClaimsAuthentication:
        return CredentialsRefused(
            f"This route does not take bearer tokens; it takes {accepted}.", "token_not_accepted_here"
        )
    if header:
        return CredentialsRefused(
            f"The Authorization header's scheme is not one this route takes; it takes {accepted}.",
            "credentials_not_accepted_here",
        )
    return CredentialsRefused(f"This route needs {accepted}; the request sent none.", "not_authenticated")
