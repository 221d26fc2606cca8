from uuid import UUID

from apps.billing import selectors
from evcharge.contracts.billing import InvoiceSummary


class BillingFacadeImpl:
    """In-process implementation of evcharge.contracts.billing.BillingFacade."""

    def invoice_for_discount(self, invoice_id: UUID) -> InvoiceSummary:
        return selectors.invoice_summary(invoice_id)
