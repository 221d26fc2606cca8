"""The payment gateway port. Checkout talks to a `PaymentGateway`; which one is a setting
(`PAYMENT_GATEWAY`, a dotted path), so a real one (Stripe) plugs in without touching the checkout.

A gateway answers a decline with a result (`declined`); it raises `GatewayError` when it could not
process the call and nothing was captured (a refusal before any money moved). Any other exception, a
`GatewayTimeout` above all, is an unknown outcome: the money may have moved, so the payment stays `pending`
and the reconcile job asks `payment_status` later. Every call carries an idempotency key (the payment's id
for a charge) so a retried call never moves money twice.

A pre-authorisation (`authorize`) holds an amount on the card; `capture` takes at most that amount (a partial
capture releases the rest) and `void` releases it all. Both are keyed too, and refused (a `declined` result
with the reason) when the authorisation cannot give it: unknown, already captured or voided, or less than asked.
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

    def capture(
        self, *, authorization_reference: str, amount: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        """Captures `amount` (at most the authorised amount) of an authorisation and releases the rest."""

    def void(self, *, authorization_reference: str, idempotency_key: str) -> GatewayResult:
        """Releases an authorisation in full. Voiding a voided authorisation succeeds."""


@dataclass(frozen=True)
class GatewayCall:
    operation: str
    idempotency_key: str
    amount: int
    currency: str
    result: GatewayResult
    released: int = 0  # capture and void: how much of the authorisation went back to the card


@dataclass
class _Authorization:
    amount: int
    currency: str
    state: str = "authorized"  # authorized | captured | voided


class TestGateway:
    """The built-in gateway for development and tests: `tok_visa` succeeds, `tok_declined` is declined,
    `tok_error` raises a gateway error (nothing captured), `tok_timeout` captures and then times out (the
    answer is lost), `tok_timeout_lost` times out before capturing. It remembers its calls (per process) so tests
    can count charges; a call repeated with the same idempotency key answers the first outcome (`calls()`: one per
    key; `received()`: every call that reached it, repeats included). Authorisations are kept with their state:
    a capture of more than the authorised amount, or of a captured or voided one, is declined with its reason.
    `fail_next(operation, error)` makes the next call of that operation raise `error` (tests of timeouts)."""

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
    _received: list[tuple[str, str]] = []
    _authorizations: dict[str, _Authorization] = {}
    _faults: dict[str, list[Exception]] = {}

    @classmethod
    def calls(cls, operation: str | None = None) -> list[GatewayCall]:
        with cls._lock:
            return [call for call in cls._calls.values() if operation is None or call.operation == operation]

    @classmethod
    def received(cls, operation: str | None = None) -> list[str]:
        """The idempotency keys of every call received, in order, repeated calls included."""
        with cls._lock:
            return [key for op, key in cls._received if operation is None or op == operation]

    @classmethod
    def fail_next(cls, operation: str, error: Exception) -> None:
        with cls._lock:
            cls._faults.setdefault(operation, []).append(error)

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls._calls.clear()
            cls._received.clear()
            cls._authorizations.clear()
            cls._faults.clear()

    def _receive(self, operation: str, idempotency_key: str) -> None:
        """Called with the lock held: logs the call and raises a fault a test asked for."""
        self._received.append((operation, idempotency_key))
        if self._faults.get(operation):
            raise self._faults[operation].pop(0)

    def card_details(self, *, token: str) -> CardDetails:
        try:
            return self.CARDS[token]
        except KeyError:
            raise UnknownToken(f"unknown test token {token!r}; use one of {', '.join(self.CARDS)}") from None

    def _call(self, operation: str, token: str, amount: int, currency: str, idempotency_key: str) -> GatewayResult:
        key = f"{operation}:{idempotency_key}"
        with self._lock:
            self._receive(operation, idempotency_key)
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
            if operation == "authorize" and result.succeeded:
                self._authorizations[result.reference] = _Authorization(amount=amount, currency=currency)
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

    def capture(
        self, *, authorization_reference: str, amount: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        key = f"capture:{idempotency_key}"
        with self._lock:
            self._receive("capture", idempotency_key)
            if key in self._calls:
                return self._calls[key].result
            authorization = self._authorizations.get(authorization_reference)
            released = 0
            if authorization is None:
                result = GatewayResult(status=DECLINED, failure_reason="unknown_authorization")
            elif authorization.state != "authorized":
                result = GatewayResult(status=DECLINED, failure_reason=f"authorization_{authorization.state}")
            elif currency != authorization.currency:
                result = GatewayResult(status=DECLINED, failure_reason="currency_mismatch")
            elif not 0 < amount <= authorization.amount:
                result = GatewayResult(status=DECLINED, failure_reason="amount_exceeds_authorization")
            else:
                authorization.state = "captured"
                released = authorization.amount - amount
                result = GatewayResult(status=SUCCEEDED, reference=f"test_capture_{uuid.uuid4().hex[:16]}")
            self._calls[key] = GatewayCall("capture", idempotency_key, amount, currency, result, released)
            return result

    def void(self, *, authorization_reference: str, idempotency_key: str) -> GatewayResult:
        key = f"void:{idempotency_key}"
        with self._lock:
            self._receive("void", idempotency_key)
            if key in self._calls:
                return self._calls[key].result
            authorization = self._authorizations.get(authorization_reference)
            released, amount, currency = 0, 0, ""
            if authorization is None:
                result = GatewayResult(status=DECLINED, failure_reason="unknown_authorization")
            elif authorization.state == "captured":
                result = GatewayResult(status=DECLINED, failure_reason="authorization_captured")
            else:
                amount, currency = authorization.amount, authorization.currency
                released = amount if authorization.state == "authorized" else 0
                authorization.state = "voided"
                result = GatewayResult(status=SUCCEEDED, reference=authorization_reference)
            self._calls[key] = GatewayCall("void", idempotency_key, amount, currency, result, released)
            return result


def get_gateway() -> PaymentGateway:
    if not settings.PAYMENT_GATEWAY:
        raise ImproperlyConfigured("PAYMENT_GATEWAY is not set (see the billing.E001 system check).")
    return import_string(settings.PAYMENT_GATEWAY)()
