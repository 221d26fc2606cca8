from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from apps.identity import selectors, services
from apps.identity.api import serializers as s
from evcharge.api.permissions import IsAdmin, IsAnyUser, IsOperatorOrAdmin, actor
from evcharge.errors import NotFound


class RegisterApi(APIView):
    """Anyone may register; new users are drivers."""

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


class TokenObtainApi(_Anonymous, jwt_views.TokenObtainPairView):
    """Anyone: email + password → access and refresh tokens. Throttled per client address."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


class TokenRefreshApi(_Anonymous, jwt_views.TokenRefreshView):
    """Anyone holding a refresh token: a new access token and a rotated refresh token."""


class TokenVerifyApi(_Anonymous, jwt_views.TokenVerifyView):
    """Anyone: 200 if the token is valid, 401 otherwise."""


class MeApi(APIView):
    """Any signed-in user: who am I."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses=s.UserOut, tags=["identity"])
    def get(self, request):
        user = selectors.user_get(actor(request).user_id)
        if user is None or not user.is_active:
            raise NotFound("This account no longer exists.")
        return Response(s.UserOut(user).data)


class OperatorListCreateApi(generics.ListCreateAPIView):
    """Admins: the charging-network companies."""

    permission_classes = [IsAdmin]
    serializer_class = s.OperatorSerializer

    def get_queryset(self):
        return selectors.operator_list()

    def perform_create(self, serializer):
        serializer.instance = services.operator_create(name=serializer.validated_data["name"])


class UserRoleApi(APIView):
    """Admins: give a user a role (the operator role needs an operator)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=s.RoleIn, responses=s.UserOut, tags=["identity"])
    def put(self, request, user_id):
        data = s.RoleIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_assign_role(user_id=user_id, by=actor(request), **data.validated_data)
        return Response(s.UserOut(user).data)


class ApiKeyListCreateApi(APIView):
    """Operators (their operator's keys) and admins: machine credentials for chargers and integrations."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(responses=s.ApiKeyOut(many=True), tags=["identity"])
    def get(self, request):
        caller = actor(request)
        keys = selectors.api_keys_visible_to(operator_id=caller.operator_id, is_admin=caller.is_admin)
        return Response(s.ApiKeyOut(keys, many=True).data)

    @extend_schema(request=s.ApiKeyIn, responses={201: s.ApiKeyCreatedOut}, tags=["identity"])
    def post(self, request):
        data = s.ApiKeyIn(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw_key = services.api_key_create(by=actor(request), **data.validated_data)
        body = s.ApiKeyOut(key).data | {"key": raw_key}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    """Operators (their own keys) and admins: revoke a key at once."""

    permission_classes = [IsOperatorOrAdmin]

    @extend_schema(responses={204: None}, tags=["identity"])
    def delete(self, request, key_id):
        services.api_key_revoke(key_id=key_id, by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
