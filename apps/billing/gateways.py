"""The payment gateway port. Checkout talks to a `PaymentGateway`; which one is a setting
(`PAYMENT_GATEWAY`, a dotted path), so a real one (Stripe) plugs in without touching the checkout.

A gateway answers a decline with a result (`declined`); it raises `GatewayError` when it could not
answer (network, outage, bad configuration). Every call carries an idempotency key so a retried call
never moves money twice.
"""

import threading
import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

SUCCEEDED, DECLINED = "succeeded", "declined"


class GatewayError(Exception):
    """The gateway could not process the call; nothing was captured."""


class UnknownToken(ValueError):
    """The gateway does not know this payment-method token."""


@dataclass(frozen=True, kw_only=True)
class CardDetails:
    brand: str
    last4: str


@dataclass(frozen=True, kw_only=True)
class GatewayResult:
    status: str  # succeeded | declined
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


@dataclass(frozen=True)
class GatewayCall:
    operation: str
    idempotency_key: str
    amount: int
    currency: str
    result: GatewayResult


class TestGateway:
    """The built-in gateway for development and tests: `tok_visa` succeeds, `tok_declined` is declined,
    `tok_error` raises a gateway error. It remembers its calls (per process) so tests can count charges."""

    __test__ = False  # not a pytest test class
    name = "test"
    CARDS = {
        "tok_visa": CardDetails(brand="visa", last4="4242"),
        "tok_declined": CardDetails(brand="visa", last4="0002"),
        "tok_error": CardDetails(brand="visa", last4="0119"),
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
            if token == "tok_declined":
                result = GatewayResult(status=DECLINED, failure_reason="card_declined")
            elif token in self.CARDS or operation == "refund":
                result = GatewayResult(status=SUCCEEDED, reference=f"test_{operation}_{uuid.uuid4().hex[:16]}")
            else:
                result = GatewayResult(status=DECLINED, failure_reason="unknown_token")
            self._calls[key] = GatewayCall(operation, idempotency_key, amount, currency, result)
            return result

    def authorize(self, *, token: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        return self._call("authorize", token, amount, currency, idempotency_key)

    def charge(self, *, token: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        return self._call("charge", token, amount, currency, idempotency_key)

    def refund(self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        return self._call("refund", charge_reference, amount, currency, idempotency_key)


def get_gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()
