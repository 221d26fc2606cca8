"""The Django admin as an operator's staff sees it: only their operator's rows, in every admin; another
operator's objects answer 404 (or 403 where operators have no business at all); drivers' payment methods
and the bus are for platform admins; a card's gateway token never appears on any page."""

import re
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.test import Client

from evcharge.actor import Actor

TOKEN = "tok_visa"
CHANGE_LINK = re.compile(r'href="(/admin/[a-z_]+/[a-z_]+/[^/"?#]+/change/)')


def browser_for(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _station(client, marker: str) -> dict:
    response = client.post(
        "/api/v1/stations",
        {
            "name": f"{marker} Hub",
            "address": f"{marker} Street 1",
            "latitude": 52.5,
            "longitude": 13.4,
            "timezone": "Europe/Berlin",
            "chargers": [
                {"serial": f"{marker}-DC-1", "max_power_kw": 150, "connectors": [{"number": 1, "type": "CCS2"}]}
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def seed(*, org, staff, driver, client, api_key_for, marker: str) -> dict:
    """One operator's world: a station (and every context's read model of it), a rate plan and a rule,
    a promotion and its redemption, an invoice with a line, a payment with the driver's card, a telemetry
    reading, station settings, a reporting fact, a notification and an API key."""
    from apps.billing.models import Invoice, InvoiceLine, Payment, PaymentMethod
    from apps.notifications.models import Notification
    from apps.pricing import services as pricing
    from apps.pricing.models import Redemption
    from apps.reporting.models import SessionFact
    from apps.telemetry.models import LatestState

    station = _station(client, marker)
    station_id = uuid.UUID(station["id"])
    charger = station["chargers"][0]
    connector_id = uuid.UUID(charger["connectors"][0]["id"])
    by = Actor(user_id=staff.id, role="operator", operator_id=org.id)
    plan = pricing.rate_plan_create(by=by, name=f"{marker} Plan", currency="EUR", energy_price_per_kwh=30)
    rule = pricing.rule_create(by=by, rate_plan_id=plan.id, station_id=station_id, priority=7)
    promotion = pricing.promotion_create(by=by, code=f"{marker}CODE", kind="percent", value=10, currency="EUR")
    redemption = Redemption.objects.create(
        promotion=promotion,
        user_id=driver.id,
        reference=f"{marker}-ref",
        amount=1000,
        currency="EUR",
        discount_amount=100,
    )
    now = datetime.now(UTC)
    invoice = Invoice.objects.create(
        session_id=uuid.uuid4(),
        user_id=driver.id,
        operator_id=org.id,
        station_id=station_id,
        connector_id=connector_id,
        currency="EUR",
        tariff={},
        started_at=now,
        status="paid",
        subtotal_amount=628,
        total_amount=628,
        status_reason=f"{marker} invoice",
    )
    line = InvoiceLine.objects.create(
        invoice=invoice, kind="energy", description=f"{marker} energy", quantity=12.5, unit_amount=50, amount=628
    )
    card = PaymentMethod.objects.create(user_id=driver.id, token=TOKEN, brand="visa", last4="4242")
    payment = Payment.objects.create(
        invoice=invoice,
        user_id=driver.id,
        payment_method=card,
        status="succeeded",
        amount=628,
        currency="EUR",
        gateway="test",
        gateway_reference=f"{marker}-charge",
    )
    reading = LatestState.objects.create(
        charger_id=uuid.UUID(charger["id"]),
        connector_id=connector_id,
        station_id=station_id,
        last_ts=now,
        energy_wh=123_456,
        status=f"{marker}St"[:20],
    )
    fact = SessionFact.objects.create(
        session_id=uuid.uuid4(),
        station_id=station_id,
        operator_id=org.id,
        user_id=driver.id,
        invoice_id=invoice.id,
        started_at=now,
    )
    notification = Notification.objects.create(
        user_id=driver.id,
        kind="payment.succeeded",
        title=f"{marker} paid",
        body=f"{marker} body",
        event_id=uuid.uuid4(),
        event_type="payment.succeeded.v1",
    )
    api_key_for(org)
    return {
        "marker": marker,
        "org": org,
        "staff": staff,
        "station_id": station_id,
        "plan": plan,
        "rule": rule,
        "promotion": promotion,
        "redemption": redemption,
        "invoice": invoice,
        "line": line,
        "card": card,
        "payment": payment,
        "reading": reading,
        "fact": fact,
        "notification": notification,
        # What identifies this operator's data on a page.
        "secrets": [marker, org.name, str(org.id), str(station_id), str(plan.id), str(invoice.id), str(payment.id)],
    }


@pytest.fixture
def world(
    operator_org,
    other_operator_org,
    operator_user,
    make_user,
    driver,
    other_driver,
    operator_client,
    client_for,
    api_key_for,
):
    other_staff = make_user("operator", operator=other_operator_org, email="zeta-staff@ampere.test")
    mine = seed(
        org=operator_org,
        staff=operator_user,
        driver=driver,
        client=operator_client,
        api_key_for=api_key_for,
        marker="Alpha",
    )
    theirs = seed(
        org=other_operator_org,
        staff=other_staff,
        driver=other_driver,
        client=client_for(other_staff),
        api_key_for=api_key_for,
        marker="Zeta",
    )
    theirs["secrets"] += ["zeta-staff@ampere.test", other_driver.email, str(other_driver.id)]
    return mine, theirs


def changelist_urls() -> list[str]:
    return [f"/admin/{model._meta.app_label}/{model._meta.model_name}/" for model in admin.site._registry]


def crawl(browser) -> dict[str, tuple[int, str]]:
    """Every changelist and every change page linked from one: url -> (status, body)."""
    pages: dict[str, tuple[int, str]] = {}
    for url in ["/admin/", *changelist_urls()]:
        response = browser.get(url)
        pages[url] = (response.status_code, response.content.decode())
    for body in [body for status, body in list(pages.values()) if status == 200]:
        for link in set(CHANGE_LINK.findall(body)):
            if link not in pages:
                response = browser.get(link)
                pages[link] = (response.status_code, response.content.decode())
    return pages


def test_operator_staff_see_only_their_operators_rows_in_every_admin(world, operator_user, driver):
    mine, theirs = world
    pages = crawl(browser_for(operator_user))

    assert all(status < 500 for status, _ in pages.values()), {u: s for u, (s, _) in pages.items() if s >= 500}
    leaks = {url: [s for s in theirs["secrets"] if s in body] for url, (status, body) in pages.items()}
    assert not {url: found for url, found in leaks.items() if found}
    assert not [url for url, (_, body) in pages.items() if TOKEN in body]
    assert not [url for url, (_, body) in pages.items() if driver.email in body or "md5$" in body]

    # ... and they do see their own, with their change pages.
    shown = {url for url, (status, body) in pages.items() if status == 200 and "Alpha" in body}
    for page in (
        "/admin/stations/station/",
        "/admin/stations/charger/",
        "/admin/stations/connector/",
        "/admin/pricing/rateplan/",
        "/admin/pricing/pricingrule/",
        "/admin/pricing/promotion/",
        "/admin/pricing/redemption/",
        "/admin/pricing/knownstation/",
        "/admin/telemetry/charger/",
        "/admin/adminconfig/stationsettings/",
        "/admin/reporting/stationdim/",
        "/admin/reservations/connector/",
    ):
        assert page in shown, page
    assert mine["org"].name in pages["/admin/identity/operator/"][1]
    for page in (
        f"/admin/billing/invoice/{mine['invoice'].id}/change/",
        f"/admin/billing/payment/{mine['payment'].id}/change/",
        f"/admin/telemetry/lateststate/{mine['reading'].id}/change/",
        f"/admin/reporting/sessionfact/{mine['fact'].pk}/change/",
        f"/admin/pricing/redemption/{mine['redemption'].id}/change/",
    ):
        assert pages[page][0] == 200, page
    # Their staff only: never a driver, never another operator's staff.
    users = pages["/admin/identity/user/"][1]
    assert operator_user.email in users and mine["staff"].email in users


def test_another_operators_objects_answer_404_and_admin_only_pages_403(world, operator_user):
    mine, theirs = world
    browser = browser_for(operator_user)
    for url in (
        f"/admin/stations/station/{theirs['station_id']}/change/",
        f"/admin/pricing/rateplan/{theirs['plan'].id}/change/",
        f"/admin/pricing/rateplan/{theirs['plan'].id}/delete/",
        f"/admin/pricing/rateplan/{theirs['plan'].id}/history/",
        f"/admin/pricing/pricingrule/{theirs['rule'].id}/change/",
        f"/admin/pricing/promotion/{theirs['promotion'].id}/change/",
        f"/admin/pricing/redemption/{theirs['redemption'].id}/change/",
        f"/admin/billing/invoice/{theirs['invoice'].id}/change/",
        f"/admin/billing/payment/{theirs['payment'].id}/change/",
        f"/admin/telemetry/lateststate/{theirs['reading'].id}/change/",
        f"/admin/telemetry/charger/{theirs['reading'].charger_id}/change/",
        f"/admin/adminconfig/stationsettings/{theirs['station_id']}/change/",
        f"/admin/reporting/sessionfact/{theirs['fact'].pk}/change/",
        f"/admin/reporting/dashboard/{theirs['station_id']}/change/",
        f"/admin/identity/operator/{theirs['org'].id}/change/",
        f"/admin/identity/user/{theirs['staff'].id}/change/",
        f"/admin/identity/user/{theirs['staff'].id}/password/",
    ):
        response = browser.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert "Zeta" not in response.content.decode(), url

    for url in (  # drivers' cards and messages, the bus and the platform's configuration: admins only
        "/admin/billing/paymentmethod/",
        f"/admin/billing/paymentmethod/{theirs['card'].id}/change/",
        f"/admin/billing/paymentmethod/{mine['card'].id}/change/",
        "/admin/notifications/notification/",
        f"/admin/notifications/notification/{mine['notification'].id}/change/",
        "/admin/events/outboxmessage/",
        "/admin/events/deadletter/",
        "/admin/adminconfig/configentry/",
    ):
        response = browser.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert TOKEN not in response.content.decode(), url


def test_operator_staff_cannot_change_another_operators_rate_plan(world, operator_user, outbox):
    from apps.pricing.models import RatePlan

    _, theirs = world
    plan = theirs["plan"]
    before = len(outbox("pricing.rule.updated.v1"))
    response = browser_for(operator_user).post(
        f"/admin/pricing/rateplan/{plan.id}/change/",
        {"name": "Hijacked", "currency": "EUR", "energy_price_per_kwh": "0", "time_price_per_min": "0",
         "session_fee": "0", "idle_fee_per_min": "0", "idle_grace_min": "0"},
    )  # fmt: skip
    assert response.status_code == 404
    assert RatePlan.objects.get(id=plan.id).name == "Zeta Plan"
    assert len(outbox("pricing.rule.updated.v1")) == before


def test_admins_see_everything_and_never_a_token(world, admin_user):
    mine, theirs = world
    pages = crawl(browser_for(admin_user))
    assert all(status < 500 for status, _ in pages.values()), {u: s for u, (s, _) in pages.items() if s >= 500}
    assert not [url for url, (_, body) in pages.items() if TOKEN in body]
    for world_of in (mine, theirs):
        status, body = pages[f"/admin/billing/paymentmethod/{world_of['card'].id}/change/"]
        assert status == 200 and "4242" in body
        assert world_of["marker"] in pages["/admin/stations/station/"][1]
        assert pages[f"/admin/billing/invoice/{world_of['invoice'].id}/change/"][0] == 200
    listing = pages["/admin/billing/paymentmethod/"][1]
    assert "4242" in listing and TOKEN not in listing
    searched = browser_for(admin_user).get("/admin/billing/paymentmethod/", {"q": TOKEN})
    assert searched.status_code == 200 and str(mine["card"].id) not in searched.content.decode()
    for url in changelist_urls():
        add = browser_for(admin_user).get(f"{url}add/")
        assert add.status_code < 500, url


def test_drivers_on_the_staff_see_nothing(world, make_user):
    stray = make_user("driver")
    stray.is_staff = True
    stray.save()
    pages = crawl(browser_for(stray))
    assert {url: status for url, (status, _) in pages.items() if status not in (200, 403)} == {}
    assert not [url for url, (status, body) in pages.items() if status == 200 and "Alpha" in body]
