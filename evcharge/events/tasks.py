from celery import shared_task

from evcharge.events.relay import relay_pending


@shared_task(name="evcharge.events.relay", ignore_result=True)
def relay_outbox() -> int:
    return relay_pending()
