"""Identity routes. Each view says who may call it (permission_classes) and how (authentication_classes)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from apps.identity import selectors, services
from apps.identity.api import serializers as s
from apps.identity.api.throttles import LoginAccountThrottle
from evcharge.api.authentication import ApiKeyAuthentication, CredentialsRefused
from evcharge.api.permissions import IsAdmin, IsAnyUser, IsApiKey, IsOperatorOrAdmin, actor
from evcharge.errors import NotFound

UNAUTHENTICATED = OpenApiResponse(description="Missing, invalid or expired credentials (problem+json).")


class RegisterApi(APIView):
    """Anyone may register; new users are drivers. Weak password, bad or taken email: 400."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=s.RegisterIn, responses={201: s.RegisteredOut}, tags=["identity"])
    def post(self, request):
        data = s.RegisterIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(s.RegisteredOut(user).data, status=status.HTTP_201_CREATED)


class _Anonymous:
    permission_classes = [AllowAny]
    authentication_classes: list = []


THROTTLED = OpenApiResponse(description="Too many attempts (problem+json; the Retry-After header says when to retry).")


@extend_schema_view(
    post=extend_schema(tags=["identity"], responses={200: s.TokenPairOut, 401: UNAUTHENTICATED, 429: THROTTLED})
)
class TokenObtainApi(_Anonymous, jwt_views.TokenObtainPairView):
    """Anyone: email + password → access and refresh tokens; bad credentials 401. Throttled per client
    address (THROTTLE_LOGIN; the address is the socket's unless NUM_PROXIES trusted proxies set
    X-Forwarded-For) and, for failed attempts, per account (THROTTLE_LOGIN_ACCOUNT): 429 with Retry-After."""

    throttle_classes = [ScopedRateThrottle, LoginAccountThrottle]
    throttle_scope = "login"

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed as exc:
            LoginAccountThrottle().record_failure(request)
            raise CredentialsRefused(
                "The e-mail or password is wrong, or the account is inactive.", "credentials_invalid"
            ) from exc


@extend_schema_view(post=extend_schema(tags=["identity"], responses={200: s.TokenPairOut, 401: UNAUTHENTICATED}))
class TokenRefreshApi(_Anonymous, jwt_views.TokenRefreshView):
    """Anyone holding a refresh token: a new access token and a rotated refresh token (the old one is
    blacklisted: using it again answers 401 `token_invalid`; an expired one 401 `token_expired`)."""

    token_kind = "refresh"


@extend_schema_view(post=extend_schema(tags=["identity"], responses={200: None, 401: UNAUTHENTICATED}))
class TokenVerifyApi(_Anonymous, jwt_views.TokenVerifyView):
    """Anyone: 200 if the token is valid, 401 (`token_invalid` or `token_expired`) otherwise."""

    token_kind = "given"


class MeApi(APIView):
    """Any signed-in user (Bearer token): who am I."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses={200: s.UserOut, 401: UNAUTHENTICATED}, tags=["identity"])
    def get(self, request):
        user = selectors.user_get(actor(request).user_id)
        if user is None or not user.is_active:
            raise NotFound("This account no longer exists.")
        return Response(s.UserOut(user).data)


class OperatorListCreateApi(generics.ListAPIView):
    """Admins only: the charging-network companies."""

    permission_classes = [IsAdmin]
    serializer_class = s.OperatorOut

    def get_queryset(self):
        return selectors.operator_list()

    @extend_schema(tags=["identity"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=s.OperatorIn, responses={201: s.OperatorOut}, tags=["identity"])
    def post(self, request):
        data = s.OperatorIn(data=request.data)
        data.is_valid(raise_exception=True)
        operator = services.operator_create(**data.validated_data)
        return Response(s.OperatorOut(operator).data, status=status.HTTP_201_CREATED)


class UserRoleApi(APIView):
    """Admins only: give a user a role (the operator role needs an operator_id)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=s.RoleIn, responses=s.UserOut, tags=["identity"])
    def put(self, request, user_id):
        data = s.RoleIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_assign_role(user_id=user_id, by=actor(request), **data.validated_data)
        return Response(s.UserOut(user).data)


class ApiKeyListCreateApi(generics.ListAPIView):
    """Operators (their operator's keys) and admins: machine credentials for chargers and integrations.
    The raw key is in the creation response only; the server keeps a hash."""

    permission_classes = [IsOperatorOrAdmin]
    serializer_class = s.ApiKeyOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return selectors.api_keys_visible_to(operator_id=None, is_admin=False)
        caller = actor(self.request)
        return selectors.api_keys_visible_to(operator_id=caller.operator_id, is_admin=caller.is_admin)

    @extend_schema(tags=["identity"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=s.ApiKeyIn, responses={201: s.ApiKeyCreatedOut}, tags=["identity"])
    def post(self, request):
        data = s.ApiKeyIn(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw_key = services.api_key_create(by=actor(request), **data.validated_data)
        body = s.ApiKeyOut(key).data | {"key": raw_key}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    """Operators (their own operator's keys) and admins: revoke a key at once (204); others' keys: 404."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(responses={204: None}, tags=["identity"])
    def delete(self, request, key_id):
        services.api_key_revoke(key_id=key_id, by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeyCurrentApi(APIView):
    """Machine clients only (`Authorization: Api-Key <key>`): the key the request was made with,
    to check that a key works; a revoked or unknown key answers 401."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsApiKey]

    @extend_schema(responses={200: s.ApiKeyOut, 401: UNAUTHENTICATED}, tags=["identity"])
    def get(self, request):
        key = selectors.api_key_get(actor(request).api_key_id)
        if key is None:
            raise NotFound("No such API key.")
        return Response(s.ApiKeyOut(key).data)
