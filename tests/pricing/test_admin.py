"""The staff's pages for plans, rules, promotions (with redemption counts) and redemptions render."""

import uuid

import pytest
from django.test import Client

from evcharge.contracts import pricing
from tests.pricing.conftest import create_invoice


@pytest.fixture
def staff_browser(admin_user):
    admin_user.is_superuser = True
    admin_user.save()
    browser = Client()
    browser.force_login(admin_user)
    return browser


def test_admin_pages(staff_browser, operator_org, announce_station, make_plan, make_rule, make_promotion):
    station = announce_station(operator_org.id)
    plan = make_plan(operator_org.id, is_default=True, name="Everyday")
    rule = make_rule(plan, connector_type="CCS2", priority=3)
    promotion = make_promotion(operator_org.id, code="ADMINPAGE")
    invoice = create_invoice(user_id=uuid.uuid4(), operator_id=operator_org.id, total=1000)
    redemption = pricing.facade().apply_promotion(code="ADMINPAGE", invoice_id=invoice.id)
    reference = str(invoice.id)
    pages = {
        "/admin/pricing/rateplan/": "Everyday",
        f"/admin/pricing/rateplan/{plan.id}/change/": "Everyday",
        "/admin/pricing/pricingrule/": "Everyday",
        f"/admin/pricing/pricingrule/{rule.id}/change/": "CCS2",
        "/admin/pricing/promotion/": "ADMINPAGE",
        f"/admin/pricing/promotion/{promotion.id}/change/": reference,
        "/admin/pricing/redemption/": reference,
        f"/admin/pricing/redemption/{redemption.redemption_id}/change/": reference,
        "/admin/pricing/knownstation/": station.id.hex[:6],
        "/admin/pricing/stationplanassignment/": "",
    }
    for url, text in pages.items():
        response = staff_browser.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
