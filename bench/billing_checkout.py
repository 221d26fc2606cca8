"""Billing: the checkout service (row lock, pending payment, test-gateway charge outside the lock, settlement
with two ledger legs, invoice paid and its version bumped, outbox rows for payment.succeeded.v1 and
invoice.updated.v1) vs a raw baseline doing the payment, ledger and invoice writes in one transaction with
plain SQL (it leaves out the gateway call, the idempotency bookkeeping and the outbox rows), same run; and how
a contended invoice is decided.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evcharge_billing .venv/bin/python bench/billing_checkout.py

Sequential phase: N open invoices (finalized from session.completed.v1 through the real service), paid one
by one through `services.invoice_checkout`, then N more paid by the raw baseline (INSERT payment, INSERT two
ledger legs, UPDATE invoice). The relay is not woken (a worker's job). Rounds alternate; medians printed with
the ratio (service / raw).
Contention phase: T threads check out the same invoice at once with different keys; prints how many
payments were made (must be 1), how many were refused (409) and the wall time.
Options: --invoices N (default 200), --rounds R (default 3), --threads T (default 8).
"""

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("PAYMENT_GATEWAY", "apps.billing.gateways.TestGateway")  # named: no default outside embedded
os.environ.setdefault("LOG_LEVEL", "WARNING")


def setup():
    import django

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://... (row locks and concurrency are what is measured).")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    import evcharge.events.outbox as outbox
    import evcharge.events.relay as relay

    relay.wake_relay_on_commit = lambda **kwargs: None  # the relay is a worker's job, not the request's
    outbox.wake_relay_on_commit = relay.wake_relay_on_commit


def open_invoices(count: int, user_id: uuid.UUID) -> list:
    from apps.billing import services
    from evcharge.contracts.pricing import TariffSnapshot
    from evcharge.contracts.reservations import SessionCompleted

    tariff = TariffSnapshot(
        rate_plan_id=None,
        currency="EUR",
        energy_price_per_kwh=39,
        time_price_per_min=2,
        session_fee=50,
        idle_fee_per_min=10,
        idle_grace_min=10,
    )
    started_at = datetime.now(UTC) - timedelta(hours=2)
    operator_id, station_id = uuid.uuid4(), uuid.uuid4()
    invoices = []
    for i in range(count):
        completed = SessionCompleted(
            session_id=uuid.uuid4(),
            connector_id=uuid.uuid4(),
            station_id=station_id,
            user_id=user_id,
            operator_id=operator_id,
            connector_type="CCS2",
            reservation_id=None,
            meter_start_wh=0,
            meter_stop_wh=10_000 + i,
            energy_wh=10_000 + i,
            started_at=started_at,
            ended_at=started_at + timedelta(minutes=40),
            charging_ended_at=started_at + timedelta(minutes=20),
            tariff=tariff,
        )
        invoices.append(services.invoice_complete_session(completed=completed))
    return invoices


def run_service(invoices, method_id, actor) -> float:
    from apps.billing import services

    started = time.perf_counter()
    for invoice in invoices:
        _, payment = services.invoice_checkout(
            invoice_id=invoice.id, payment_method_id=method_id, promotion_code=None, by=actor
        )
        assert payment.status == "succeeded"
    return time.perf_counter() - started


def run_raw(invoices, method_id, user_id) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    for invoice in invoices:
        payment_id, posting_id = uuid.uuid4(), uuid.uuid4()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM billing_invoice WHERE id = %s FOR UPDATE", [invoice.id])
            cursor.execute(
                "INSERT INTO billing_payment (id, invoice_id, user_id, payment_method_id, status, amount, currency,"
                " discount_amount, promotion_code, gateway, gateway_reference, refund_reference, failure_reason,"
                " checkout_key, created_at, completed_at) VALUES (%s, %s, %s, %s, 'succeeded', %s, 'EUR', 0, '',"
                " 'test', 'raw', '', '', '', now(), now())",
                [payment_id, invoice.id, user_id, method_id, invoice.total_amount],
            )
            for account, amount in (("gateway_cash", invoice.total_amount), ("sales", -invoice.total_amount)):
                cursor.execute(
                    "INSERT INTO billing_ledgerentry (posting_id, invoice_id, payment_id, kind, account, amount,"
                    " currency, description, created_at) VALUES (%s, %s, %s, 'charge', %s, %s, 'EUR', '', now())",
                    [posting_id, invoice.id, payment_id, account, amount],
                )
            cursor.execute(
                "UPDATE billing_invoice SET status = 'paid', paid_at = now(), updated_at = now() WHERE id = %s",
                [invoice.id],
            )
    return time.perf_counter() - started


def contention(threads: int, method_id, actor) -> tuple[int, int, float]:
    from django.db import connections

    from apps.billing import services
    from apps.billing.models import Payment
    from evcharge.errors import Conflict

    [invoice] = open_invoices(1, actor.user_id)
    barrier = threading.Barrier(threads)
    refused = []

    def pay():
        try:
            barrier.wait()
            services.invoice_checkout(invoice_id=invoice.id, payment_method_id=method_id, promotion_code=None, by=actor)
        except Conflict:
            refused.append(1)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=pay) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    return Payment.objects.filter(invoice_id=invoice.id).count(), len(refused), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    setup()

    from apps.billing.models import PaymentMethod
    from evcharge.actor import DRIVER, Actor

    user_id = uuid.uuid4()
    actor = Actor(user_id=user_id, role=DRIVER)
    method = PaymentMethod.objects.create(user_id=user_id, token="tok_visa", brand="visa", last4="4242")

    service_times, raw_times = [], []
    for _ in range(args.rounds):
        service_times.append(run_service(open_invoices(args.invoices, user_id), method.id, actor))
        raw_times.append(run_raw(open_invoices(args.invoices, user_id), method.id, user_id))
    service, raw = statistics.median(service_times), statistics.median(raw_times)
    n = args.invoices
    print(f"checkout, {n} invoices x {args.rounds} rounds (median):")
    print(f"  service  {service:.3f} s  {n / service:8.1f} checkouts/s  {service / n * 1000:.2f} ms each")
    print(f"  raw SQL  {raw:.3f} s  {n / raw:8.1f} payments/s   {raw / n * 1000:.2f} ms each")
    print(f"  ratio service/raw: {service / raw:.2f}")

    payments, refused, elapsed = contention(args.threads, method.id, actor)
    print(f"contention: {args.threads} checkouts of one invoice at once -> {payments} payment, {refused} refused (409)")
    print(f"  all answered in {elapsed * 1000:.1f} ms")
    assert payments == 1 and refused == args.threads - 1


if __name__ == "__main__":
    main()
