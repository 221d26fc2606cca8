"""A faster JWT check for the hot, read-only quote route.

The same JWTClaimsAuthentication every route uses, with this process remembering tokens it has already
verified (keyed by the exact token string, trusted only until the token's own `exp`), so a client
polling quotes pays the signature check once per token instead of once per request.
"""

import time

from evcharge.api.authentication import JWTClaimsAuthentication

MAX_REMEMBERED_TOKENS = 10_000
_verified: dict[bytes, tuple[float, object, object]] = {}  # raw token -> (exp, user, validated token)


class RememberingJWTAuthentication(JWTClaimsAuthentication):
    def authenticate(self, request):
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        remembered = _verified.get(raw_token)
        if remembered is not None and time.time() < remembered[0]:
            return remembered[1], remembered[2]
        user, validated_token = super().authenticate(request)
        if len(_verified) >= MAX_REMEMBERED_TOKENS:
            _verified.clear()
        _verified[raw_token] = (float(validated_token["exp"]), user, validated_token)
        return user, validated_token
