"""The driver's pages (HTML): anyone may open a connector's page and start as a guest; a session's page opens only
with its link's token; /me/sessions and the one-tap start need a signed-in driver (Django's session login).
Every form carries Django's CSRF token."""

import uuid

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.driverweb import services
from apps.driverweb.api.client import client_address
from evcharge.actor import DRIVER
from evcharge.contracts.billing import GatewayUnavailable, PaymentDeclined
from evcharge.errors import DomainError, NotFound


def _driver(request: HttpRequest):
    user = request.user
    return user if user.is_authenticated and getattr(user, "role", None) == DRIVER else None


def _connector_context(request: HttpRequest, page: services.ConnectorPage, **extra) -> dict:
    currency = page.quote.tariff.currency if page.quote else ""
    prices = [
        {"key": c.key, "amount": services.money(c.amount, currency), "zero": c.amount == 0} for c in page.components
    ]
    return {
        "page": page,
        "connector": page.connector,
        "prices": prices,
        "grace_min": page.quote.tariff.idle_grace_min if page.quote else 0,
        "example_total": services.money(page.quote.estimated_total, currency) if page.quote else "",
        "example_kwh": services.EXAMPLE_ENERGY_WH // 1000,
        "driver": _driver(request),
        "checkout_key": uuid.uuid4().hex,
        "test_cards": services.test_card_tokens(),
        **extra,
    }


@require_http_methods(["GET"])
def connector(request: HttpRequest, code: str) -> HttpResponse:
    page = services.connector_page(code)
    if page is None:
        return render(request, "driverweb/not_found.html", {"code": code}, status=404)
    return render(request, "driverweb/connector.html", _connector_context(request, page))


@require_POST
def start(request: HttpRequest, code: str) -> HttpResponse:
    page = services.connector_page(code)
    if page is None:
        return render(request, "driverweb/not_found.html", {"code": code}, status=404)
    driver = _driver(request)
    form = request.POST
    one_tap = driver is not None and form.get("one_tap") == "1"
    email = form.get("email", "").strip()
    if driver is not None and (one_tap or not email):
        email = driver.email
    try:
        token, _checkout = services.start(
            services.StartRequest(
                code=code,
                checkout_key=form.get("checkout_key", ""),
                client_ip=client_address(request),
                email=email,
                card_token="" if one_tap else form.get("card_token", ""),
                promotion_code=form.get("promotion_code", ""),
                user_id=driver.id if driver is not None else None,  # another card still pays the driver's session
                language=translation.get_language() or "en",
            )
        )
    except PaymentDeclined as exc:
        error, status = _("Your card was declined (%(reason)s). Nothing was charged.") % {"reason": exc.reason}, 422
    except GatewayUnavailable:
        error, status = _("The payment service is not answering. Nothing was charged; please try again."), 502
    except services.PromotionCodeRefused as exc:
        reason = PROMOTION_REFUSALS.get(exc.refusal, exc.reason)
        error = _("The promotion code %(code)s cannot be used: %(reason)s Nothing was charged.") % {
            "code": exc.promotion_code,
            "reason": reason,
        }
        status = exc.status
    except DomainError as exc:
        error, status = _error_text(exc), exc.status
    else:
        return redirect("driverweb-session", token=token)
    context = _connector_context(
        request,
        services.connector_page(code) or page,
        error=error,
        email=form.get("email", ""),
        promotion_code=form.get("promotion_code", ""),
    )
    return render(request, "driverweb/connector.html", context, status=status)


PROMOTION_REFUSALS = {  # pricing's reasons, in the reader's language
    "unknown": gettext_lazy("it does not exist."),
    "inactive": gettext_lazy("it is no longer offered."),
    "not_yet_valid": gettext_lazy("it is not valid yet."),
    "expired": gettext_lazy("it has expired."),
    "exhausted": gettext_lazy("it has been fully redeemed."),
    "per_user_limit": gettext_lazy("you have used it as often as it allows."),
    "wrong_station": gettext_lazy("it is not valid at this station."),
    "currency_mismatch": gettext_lazy("it is for another currency."),
    "ambiguous_code": gettext_lazy("it is not valid at this station."),
}


def _error_text(exc: DomainError) -> str:
    texts = {
        "connector_busy": _("This connector is in use; try another one."),
        "connector_out_of_service": _("This connector is out of service."),
        "connector_charger_offline": _("The charger is offline right now; try another connector."),
        "station_disabled": _("This connector is out of service."),
        "connector_no_price": _("This connector has no price right now, so it cannot be started."),
        "driver_busy": _("You already have a session running; stop it first."),
        "charger_offline": _("The charger is offline right now; try another connector."),
        "no_saved_card": _("You have no saved card; pay with a card below."),
        "start_rate_limited": _("Too many attempts from here; please wait a while and try again."),
        "payment_ip_rate_limited": _("Too many attempts from here; please wait a while and try again."),
        "payment_card_rate_limited": _("Too many attempts with this card; please wait a while and try again."),
    }
    if exc.code in texts:
        return texts[exc.code]
    if exc.errors:
        return " ".join(_(message) for messages in exc.errors.values() for message in messages)
    return exc.detail


@require_http_methods(["GET"])
def session(request: HttpRequest, token: str) -> HttpResponse:
    try:
        page = services.session_page(token)
    except NotFound:
        return render(request, "driverweb/not_found.html", {"session_link": True}, status=404)
    return render(request, "driverweb/session.html", _session_context(page, token))


def _session_context(page: services.SessionPage, token: str) -> dict:
    currency = page.session.tariff.currency
    receipt = page.receipt
    return {
        "token": token,
        "checkout": page.checkout,
        "session": page.session,
        "energy_kwh": (page.session.energy_wh or 0) / 1000,
        "cost_so_far": services.money(page.session.cost_so_far, currency),
        "currency": currency,
        "receipt": receipt,
        "receipt_lines": services.receipt_lines(receipt) if receipt else [],
        "receipt_discount": services.money(receipt.discount_amount, receipt.currency) if receipt else "",
        "receipt_total": services.money(receipt.total_amount, receipt.currency) if receipt else "",
        "payment_label": services.payment_label(receipt.payment_status) if receipt else "",
        "cancelled_by_driver": page.session.cancel_reason == services.CANCELLED_BY_DRIVER,
        "receipt_final": bool(receipt and receipt.status in services.FINAL_INVOICE_STATUSES),
        "receipt_settled": services.receipt_settled(receipt),
        "api_url": reverse("driverweb-api-session", kwargs={"token": token}),
    }


@require_POST
def stop(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.stop(token)
    except NotFound:
        return render(request, "driverweb/not_found.html", {"session_link": True}, status=404)
    except DomainError:
        pass  # already stopped: the page shows how it stands
    return redirect("driverweb-session", token=token)


@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.cancel(token)
    except NotFound:
        return render(request, "driverweb/not_found.html", {"session_link": True}, status=404)
    except DomainError:
        pass  # the charger started first: the page shows the session charging, with its stop button
    return redirect("driverweb-session", token=token)


@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("driverweb-history")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("driverweb-history")
    error = ""
    if request.method == "POST":
        try:
            services.rate_limit("login", client_address(request), per_hour=settings.DRIVERWEB_LOGINS_PER_IP_HOUR)
        except services.TooManyRequests:
            error = _("Too many attempts from here; please wait a while and try again.")
            return render(request, "driverweb/login.html", {"next": next_url, "error": error}, status=429)
        user = authenticate(request, username=request.POST.get("email", ""), password=request.POST.get("password", ""))
        if user is not None and getattr(user, "role", None) == DRIVER and not getattr(user, "is_guest", False):
            login(request, user)
            return redirect(next_url)
        error = _("That e-mail address and password do not match a driver's account.")
    status = 401 if error else 200
    return render(request, "driverweb/login.html", {"next": next_url, "error": error}, status=status)


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("driverweb-login")


@require_http_methods(["GET"])
def history(request: HttpRequest) -> HttpResponse:
    driver = _driver(request)
    if driver is None:
        return redirect(f"{reverse('driverweb-login')}?next={reverse('driverweb-history')}")
    rows = [
        {
            "session": live,
            "status_label": services.session_label(live.status),
            "payment_label": services.payment_label(receipt.payment_status) if receipt else "",
            "receipt": receipt,
            "energy_kwh": (live.energy_wh or 0) / 1000,
            "total": services.money(receipt.total_amount, receipt.currency) if receipt else "",
        }
        for live, receipt in services.history(driver.id)
    ]
    return render(request, "driverweb/history.html", {"rows": rows, "driver": driver})
