from apps.driverweb import services
from evcharge.contracts.billing import InvoiceUpdated
from evcharge.events import EventEnvelope, subscriber


@subscriber("invoice.updated.v1", consumer="driverweb")
def on_invoice_updated(event: EventEnvelope[InvoiceUpdated]) -> None:
    if event.data.status in services.FINAL_INVOICE_STATUSES:
        services.receipt_send_once(session_id=event.data.session_id)
