from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from apps.identity.models import ApiKey, Operator, User
from evcharge.actor import ROLES


class TokenObtainSerializer(TokenObtainPairSerializer):
    """Adds the claims every context authorises from: user_id, role, operator_id."""

    @classmethod
    def get_token(cls, user: User):
        token = super().get_token(user)
        token["role"] = user.role
        token["operator_id"] = str(user.operator_id) if user.operator_id else None
        return token

    def validate(self, attrs):
        attrs["email"] = attrs.get("email", "").strip().lower()
        return super().validate(attrs)


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
    role = serializers.ChoiceField(choices=ROLES)
    operator_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class OperatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Operator
        fields = ["id", "name", "created_at"]
        read_only_fields = ["id", "created_at"]


class ApiKeyIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    operator_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Admins only: the operator the key acts for."
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
