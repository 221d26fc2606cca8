"""Demo payment methods: the demo driver can check out at once. Idempotent, also after the driver added or
removed cards through the API: a demo card is created only when no live card has its token and label."""

from apps.billing.models import Invoice, InvoiceStatus, PaymentMethod

# (test token of apps.billing.gateways.TestGateway, label the API shows, brand, last4)
DEMO_CARDS = [
    ("tok_visa", "Demo card that pays", "visa", "4242"),
    ("tok_declined", "Demo card that is declined", "visa", "0002"),
]


def seed(context: dict) -> None:
    driver_id = context.get("users", {}).get("driver@evcharge.test")
    if driver_id is None:
        return
    for token, label, brand, last4 in DEMO_CARDS:
        if not PaymentMethod.objects.filter(user_id=driver_id, token=token, label=label, deleted_at=None).exists():
            PaymentMethod.objects.create(
                user_id=driver_id, token=token, kind="card", brand=brand, last4=last4, label=label
            )
    open_invoice = Invoice.objects.filter(user_id=driver_id, status=InvoiceStatus.OPEN).first()
    to_pay = f"invoice {open_invoice.id} is open" if open_invoice else "open invoices: GET /api/v1/billing/invoices"
    cards = ", ".join(f'"{label}" (visa …{last4}, test token {token})' for token, label, _, last4 in DEMO_CARDS)
    context.setdefault("summary", []).append(
        f"Billing: driver@evcharge.test has the cards {cards} (GET /api/v1/billing/payment-methods shows the labels); "
        f"{to_pay}; pay with POST /api/v1/billing/invoices/{{id}}/checkout, an Idempotency-Key and "
        '{"payment_method_id": ..., "promotion_code": "WELCOME10"}'
    )
