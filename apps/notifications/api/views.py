from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.notifications import selectors, services
from apps.notifications.api import serializers as s
from evcharge.api.permissions import IsAnyUser, actor


class NotificationListApi(generics.GenericAPIView):
    """Any signed-in user: their own notifications, newest first."""

    permission_classes = [IsAnyUser]
    filter_backends: list = []

    @extend_schema(parameters=[s.NotificationFilters], responses=s.NotificationOut(many=True), tags=["notifications"])
    def get(self, request):
        filters = s.NotificationFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        notifications = selectors.notifications_of_user(
            user_id=actor(request).user_id, unread=filters.validated_data["unread"]
        )
        page = self.paginate_queryset(notifications)
        return self.get_paginated_response(s.NotificationOut(page, many=True).data)


class NotificationReadApi(APIView):
    """The owner marks a notification read (idempotent); someone else's id answers 404."""

    permission_classes = [IsAnyUser]

    @extend_schema(request=None, responses=s.NotificationOut, tags=["notifications"])
    def post(self, request, notification_id):
        notification = services.notification_mark_read(notification_id=notification_id, by=actor(request))
        return Response(s.NotificationOut(notification).data)
