"""RFID tags: a driver's cards a charger reads (OCPP idTag). The owner or an admin; others' tags answer 404."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.identity import selectors, services
from apps.identity.models import IdTag
from evcharge.api.permissions import IsAnyUser, actor


class IdTagIn(serializers.Serializer):
    tag = serializers.CharField(max_length=20, help_text="As the charger reads it: 1 to 20 printable ASCII characters.")
    user_id = serializers.UUIDField(required=False, help_text="Admins only: register it for this user.")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Empty: never expires.")


class IdTagOut(serializers.ModelSerializer):
    class Meta:
        model = IdTag
        fields = ["id", "tag", "kind", "status", "expires_at", "user_id", "created_at"]


class IdTagListCreateApi(APIView):
    """Any signed-in person: their own tags (admins: `?user_id=` for someone's). A tag belongs to one user;
    registering one someone holds answers 409 `id_tag_taken`. `kind` `platform` is a tag the platform issued for
    remote starts."""

    permission_classes = [IsAnyUser]

    @extend_schema(
        parameters=[OpenApiParameter("user_id", str, description="Admins: whose tags")],
        responses=IdTagOut(many=True),
        tags=["identity"],
    )
    def get(self, request):
        caller = actor(request)
        user_id = request.query_params.get("user_id") if caller.is_admin else None
        tags = selectors.id_tags_of(serializers.UUIDField().to_internal_value(user_id) if user_id else caller.user_id)
        return Response(IdTagOut(tags, many=True).data)

    @extend_schema(request=IdTagIn, responses={201: IdTagOut}, tags=["identity"])
    def post(self, request):
        data = IdTagIn(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.id_tag_register(by=actor(request), **data.validated_data)
        return Response(IdTagOut(tag).data, status=status.HTTP_201_CREATED)


class IdTagDeleteApi(APIView):
    """The tag's owner or an admin: removes the tag at once (a charger then answers Invalid for it)."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses={204: None}, tags=["identity"])
    def delete(self, request, id_tag_id):
        services.id_tag_delete(id_tag_id=id_tag_id, by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
