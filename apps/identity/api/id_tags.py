"""RFID tags: a driver's cards a charger reads (OCPP idTag). The owner or an admin; others' tags answer 404."""

import uuid

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.identity import selectors, services
from apps.identity.models import IdTag
from evcharge.api.permissions import IsAnyUser, actor
from evcharge.errors import InvalidInput


class IdTagIn(serializers.Serializer):
    tag = serializers.CharField(max_length=20, help_text="As the charger reads it: 1 to 20 printable ASCII characters.")
    user_id = serializers.UUIDField(required=False, help_text="Admins only: register it for this user.")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Empty: never expires.")


class IdTagOut(serializers.ModelSerializer):
    class Meta:
        model = IdTag
        fields = ["id", "tag", "kind", "status", "expires_at", "user_id", "created_at"]


class IdTagListCreateApi(generics.ListAPIView):
    """Any signed-in person: their own tags (admins: `?user_id=` for someone's). A tag belongs to one user;
    registering one someone holds answers 409 `id_tag_taken`. `kind` `platform` is a tag the platform issued for
    remote starts."""

    permission_classes = [IsAnyUser]
    serializer_class = IdTagOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return IdTag.objects.none()
        caller = actor(self.request)
        user_id = self.request.query_params.get("user_id") if caller.is_admin else None
        if user_id:
            try:
                return selectors.id_tags_of(uuid.UUID(user_id))
            except ValueError as exc:
                raise InvalidInput("user_id must be a UUID.", errors={"user_id": ["Must be a UUID."]}) from exc
        return selectors.id_tags_of(caller.user_id)

    @extend_schema(
        parameters=[OpenApiParameter("user_id", str, description="Admins: whose tags")],
        tags=["identity"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=IdTagIn,
        responses={
            201: IdTagOut,
            403: OpenApiResponse(description="Only an admin registers a tag for someone else."),
            404: OpenApiResponse(description="No such user."),
            409: OpenApiResponse(description="The tag is already registered (`id_tag_taken`)."),
        },
        tags=["identity"],
    )
    def post(self, request):
        data = IdTagIn(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.id_tag_register(by=actor(request), **data.validated_data)
        return Response(IdTagOut(tag).data, status=status.HTTP_201_CREATED)


class IdTagDeleteApi(APIView):
    """The tag's owner or an admin: removes the tag at once (a charger then answers Invalid for it)."""

    permission_classes = [IsAnyUser]

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="No such tag of yours.")}, tags=["identity"])
    def delete(self, request, id_tag_id):
        services.id_tag_delete(id_tag_id=id_tag_id, by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
