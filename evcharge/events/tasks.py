from celery import shared_task

from evcharge.events.relay import relay_pending
from evcharge.events.retention import purge_handled


@shared_task(name="evcharge.events.relay", ignore_result=True)
def relay_outbox() -> int:
    return relay_pending()


@shared_task(name="evcharge.events.purge", ignore_result=True)
def purge_outbox() -> int:
    """Deletes what the bus handled past its retention: sent outbox rows, inbox rows, dead letters."""
    purged = purge_handled()
    return purged.outbox + purged.inbox + purged.dead_letters
