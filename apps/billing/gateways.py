"""The payment gateway port. Checkout talks to a `PaymentGateway`; which one is a setting
(`PAYMENT_GATEWAY`, a dotted path), so a real one (Stripe) plugs in without touching the checkout.

A gateway answers a decline with a result (`declined`); it raises `GatewayError` when it could not
process the call and nothing was captured (a refusal before any money moved). Any other exception, a
`GatewayTimeout` above all, is an unknown outcome: the money may have moved, so the payment stays `pending`
and the reconcile job asks `payment_status` later. Every call carries an idempotency key (the payment's id
for a charge) so a retried call never moves money twice.
"""

import threading
import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

SUCCEEDED, DECLINED, NOT_FOUND, PROCESSING = "succeeded", "declined", "not_found", "processing"


class GatewayError(Exception):
    """The gateway could not process the call; nothing was captured."""


class GatewayTimeout(Exception):
    """No answer in time: the call may or may not have moved money. Never read as a decline."""


class UnknownToken(ValueError):
    """The gateway does not know this payment-method token."""


@dataclass(frozen=True, kw_only=True)
class CardDetails:
    brand: str
    last4: str


@dataclass(frozen=True, kw_only=True)
class GatewayResult:
    status: str  # succeeded | declined; payment_status also: not_found | processing
    reference: str = ""
    failure_reason: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED


class PaymentGateway(Protocol):
    name: str

    def card_details(self, *, token: str) -> CardDetails:
        """Brand and last digits of a tokenised card; raises UnknownToken."""

    def authorize(self, *, token: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        """Places a hold of `amount` on the card without capturing it."""

    def charge(self, *, token: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        """Captures `amount` (minor units) from the card."""

    def refund(self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        """Gives back `amount` of a captured charge."""

    def payment_status(self, *, idempotency_key: str) -> GatewayResult:
        """What became of the charge made with this idempotency key: succeeded (with its reference), declined,
        not_found (the gateway never received it: nothing was captured) or processing (ask again later)."""


@dataclass(frozen=True)
class GatewayCall:
    operation: str
    idempotency_key: str
    amount: int
    currency: str
    result: GatewayResult


class TestGateway:
    """The built-in gateway for development and tests: `tok_visa` succeeds, `tok_declined` is declined,
    `tok_error` raises a gateway error (nothing captured), `tok_timeout` captures and then times out (the
    answer is lost), `tok_timeout_lost` times out before capturing. It remembers its calls (per process) so tests
    can count charges; a call repeated with the same idempotency key answers the first outcome."""

    __test__ = False  # not a pytest test class
    name = "test"
    CARDS = {
        "tok_visa": CardDetails(brand="visa", last4="4242"),
        "tok_declined": CardDetails(brand="visa", last4="0002"),
        "tok_error": CardDetails(brand="visa", last4="0119"),
        "tok_timeout": CardDetails(brand="visa", last4="0408"),
        "tok_timeout_lost": CardDetails(brand="visa", last4="0504"),
    }
    _lock = threading.Lock()
    _calls: dict[str, GatewayCall] = {}

    @classmethod
    def calls(cls, operation: str | None = None) -> list[GatewayCall]:
        with cls._lock:
            return [call for call in cls._calls.values() if operation is None or call.operation == operation]

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls._calls.clear()

    def card_details(self, *, token: str) -> CardDetails:
        try:
            return self.CARDS[token]
        except KeyError:
            raise UnknownToken(f"unknown test token {token!r}; use one of {', '.join(self.CARDS)}") from None

    def _call(self, operation: str, token: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        key = f"{operation}:{idempotency_key}"
        with self._lock:
            if key in self._calls:  # a retried call: the first answer, nothing moves twice
                return self._calls[key].result
            if token == "tok_error":
                raise GatewayError("the test gateway simulated an error (tok_error)")
            if token == "tok_timeout_lost":
                raise GatewayTimeout("the test gateway simulated a timeout before capturing (tok_timeout_lost)")
            if token == "tok_declined":
                result = GatewayResult(status=DECLINED, failure_reason="card_declined")
            elif token in self.CARDS or operation == "refund":
                result = GatewayResult(status=SUCCEEDED, reference=f"test_{operation}_{uuid.uuid4().hex[:16]}")
            else:
                result = GatewayResult(status=DECLINED, failure_reason="unknown_token")
            self._calls[key] = GatewayCall(operation, idempotency_key, amount, currency, result)
            if token == "tok_timeout" and operation != "refund":
                raise GatewayTimeout("the test gateway captured, then simulated a timeout (tok_timeout)")
            return result

    def authorize(self, *, token: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        return self._call("authorize", token, amount, currency, idempotency_key)

    def charge(self, *, token: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        return self._call("charge", token, amount, currency, idempotency_key)

    def refund(self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        return self._call("refund", charge_reference, amount, currency, idempotency_key)

    def payment_status(self, *, idempotency_key: str) -> GatewayResult:
        with self._lock:
            call = self._calls.get(f"charge:{idempotency_key}")
        return call.result if call is not None else GatewayResult(status=NOT_FOUND)


def get_gateway() -> PaymentGateway:
    if not settings.PAYMENT_GATEWAY:
        raise ImproperlyConfigured("PAYMENT_GATEWAY is not set (see the billing.E001 system check).")
    return import_string(settings.PAYMENT_GATEWAY)()
