from uuid import UUID

from django.db.models import QuerySet

from apps.notifications.models import ActiveSession, Notification


def notifications_of_user(*, user_id: UUID, unread: bool | None = None) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(user_id=user_id).order_by("-created_at", "-id")
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    return notifications


def active_session_at(connector_id: UUID) -> ActiveSession | None:
    return ActiveSession.objects.filter(connector_id=connector_id).first()
