"""Demo payment methods: the demo driver can check out at once. Idempotent."""

from apps.billing.models import Invoice, InvoiceStatus, PaymentMethod

DEMO_CARDS = [("tok_visa", "visa", "4242"), ("tok_declined", "visa", "0002")]


def seed(context: dict) -> None:
    driver_id = context.get("users", {}).get("driver@evcharge.test")
    if driver_id is None:
        return
    for token, brand, last4 in DEMO_CARDS:
        PaymentMethod.objects.get_or_create(
            user_id=driver_id,
            token=token,
            deleted_at=None,
            defaults={"kind": "card", "brand": brand, "last4": last4},
        )
    open_invoice = Invoice.objects.filter(user_id=driver_id, status=InvoiceStatus.OPEN).first()
    to_pay = f"invoice {open_invoice.id} is open" if open_invoice else "open invoices: GET /api/v1/billing/invoices"
    context.setdefault("summary", []).append(
        "Billing: driver@evcharge.test has cards tok_visa (pays) and tok_declined (is declined); "
        f"{to_pay}; pay with POST /api/v1/billing/invoices/{{id}}/checkout, an Idempotency-Key and "
        '{"payment_method_id": ..., "promotion_code": optional, a code of the station operator}'
    )
