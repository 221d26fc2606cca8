from django.db import transaction
from rest_framework import exceptions, serializers
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.identity import selectors
from apps.identity.models import ApiKey, Operator, User


class TokenObtainSerializer(TokenObtainPairSerializer):
    """Adds the claims every context authorises from: user_id, role, operator_id."""

    @classmethod
    def get_token(cls, user: User):
        token = super().get_token(user)
        token["role"] = user.role
        token["operator_id"] = str(user.operator_id) if user.operator_id else None
        token["email"] = user.email  # who did it, for the records other contexts keep (e.g. config history)
        return token

    def validate(self, attrs):
        attrs["email"] = attrs.get("email", "").strip().lower()
        return super().validate(attrs)


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """Rotates the refresh token: the old one is blacklisted (a second use answers 401, also when two
    requests race with it) and the new pair carries the user's current role and operator, so a role
    change reaches the next access token."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])  # signature, expiry, blacklist: TokenError -> 401
        jti = refresh[jwt_settings.JTI_CLAIM]
        with transaction.atomic():
            outstanding = OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=jti).first()
            if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
                raise TokenError("Token is blacklisted")
            user = selectors.user_get(refresh.payload.get(jwt_settings.USER_ID_CLAIM))
            if user is None or not user.is_active:
                raise exceptions.AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
            BlacklistedToken.objects.create(token=outstanding)
            rotated = TokenObtainSerializer.get_token(user)
        return {"access": str(rotated.access_token), "refresh": str(rotated)}


class TokenVerifySerializer(jwt_serializers.TokenVerifySerializer):
    """A blacklisted token is as invalid as an expired one: 401, not 400."""

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except serializers.ValidationError as exc:
            raise TokenError("Token is blacklisted") from exc


class TokenPairOut(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RegisterIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class UserOut(serializers.ModelSerializer):
    operator_id = serializers.UUIDField(allow_null=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "operator_id"]


class RegisteredOut(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "role"]


class RoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=User.Role.choices)
    operator_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class OperatorIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class OperatorOut(serializers.ModelSerializer):
    class Meta:
        model = Operator
        fields = ["id", "name", "created_at"]


class ApiKeyIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    operator_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The operator the key acts for: required from admins; an operator's key is its own operator's.",
    )


class ApiKeyOut(serializers.ModelSerializer):
    operator_id = serializers.UUIDField(allow_null=True, read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "operator_id", "created_at", "last_used_at", "revoked_at", "active"]


class ApiKeyCreatedOut(ApiKeyOut):
    key = serializers.CharField(help_text="Shown once; store it now.")

    class Meta(ApiKeyOut.Meta):
        fields = [*ApiKeyOut.Meta.fields, "key"]
