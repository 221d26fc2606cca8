from uuid import UUID

from apps.billing import selectors, services
from apps.billing.models import PaymentMethod
from evcharge.contracts.billing import InvoiceSummary, PaymentHold, SavedCard, SessionReceipt


class BillingFacadeImpl:
    """In-process implementation of evcharge.contracts.billing.BillingFacade."""

    def invoice_for_discount(self, invoice_id: UUID) -> InvoiceSummary:
        return selectors.invoice_summary(invoice_id)

    def hold_authorize(self, *, card_token: str, currency: str, idempotency_key: str) -> PaymentHold:
        hold = services.hold_authorize(card_token=card_token, currency=currency, idempotency_key=idempotency_key)
        return selectors.hold_view(hold)

    def hold_attach(self, *, hold_id: UUID, session_id: UUID, user_id: UUID, promotion_code: str = "") -> None:
        services.hold_attach(hold_id=hold_id, session_id=session_id, user_id=user_id, promotion_code=promotion_code)

    def hold_void(self, *, hold_id: UUID, reason: str) -> None:
        services.hold_void(hold_id=hold_id, reason=reason)

    def session_receipt(self, session_id: UUID) -> SessionReceipt | None:
        return selectors.session_receipt(session_id)

    def saved_card(self, user_id: UUID) -> SavedCard | None:
        method = PaymentMethod.objects.filter(user_id=user_id, deleted_at__isnull=True).order_by("-created_at").first()
        if method is None:
            return None
        return SavedCard(payment_method_id=method.id, token=method.token, label=method.shown_label)
