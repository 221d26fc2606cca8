"""The staff's view of the bus: the outbox by state, the inbox, and dead letters, with replay actions."""

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from evcharge.admin_scoping import OperatorScopedAdmin
from evcharge.events.deadletters import replay_database
from evcharge.events.models import DeadLetter, InboxMessage, OutboxMessage
from evcharge.events.relay import replay_outbox


class ReadOnlyAdmin(OperatorScopedAdmin):
    """The bus carries every context's data: platform admins only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OutboxStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("pending", "pending (never tried)"),
            ("retrying", "retrying (backing off)"),
            ("claimed", "claimed by a relay"),
            ("sent", "sent"),
            ("dead", "dead"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        unsent = Q(sent_at__isnull=True, dead_at__isnull=True)
        not_claimed = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
        filters = {
            "pending": unsent & not_claimed & Q(attempts=0),
            "retrying": unsent & not_claimed & Q(attempts__gt=0),
            "claimed": unsent & Q(locked_until__gt=now),
            "sent": Q(sent_at__isnull=False),
            "dead": Q(dead_at__isnull=False),
        }
        return queryset.filter(filters[self.value()]) if self.value() in filters else queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("type", "id", "state", "attempts", "created_at", "available_at", "sent_at", "short_error")
    list_filter = (OutboxStateFilter, "type")
    search_fields = ("=id", "type", "last_error")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("replay",)

    @admin.display(description="last error")
    def short_error(self, obj):
        return obj.last_error[:120]

    @admin.action(description="Send again (fresh attempts)")
    def replay(self, request, queryset):
        count = replay_outbox(ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} event(s) queued for the relay again.", messages.SUCCESS)


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("consumer", "type", "event_id", "received_at")
    list_filter = ("consumer", "type")
    search_fields = ("=event_id", "type")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)


class ReplayedFilter(admin.SimpleListFilter):
    title = "replayed"
    parameter_name = "replayed"

    def lookups(self, request, model_admin):
        return [("no", "not yet"), ("yes", "replayed")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(replayed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(replayed_at__isnull=False)
        return queryset


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ("consumer", "type", "event_id", "attempts", "created_at", "replayed_at", "short_error")
    list_filter = (ReplayedFilter, "consumer", "type")
    search_fields = ("=event_id", "type", "error")
    date_hierarchy = "created_at"
    actions = ("replay",)

    @admin.display(description="error")
    def short_error(self, obj):
        return obj.error[:120]

    @admin.action(description="Replay to its consumer now")
    def replay(self, request, queryset):
        replayed, failed = replay_database(list(queryset))
        level = messages.WARNING if failed else messages.SUCCESS
        self.message_user(request, f"{replayed} replayed, {failed} failed again (see the error column).", level)
