import io
import re
import uuid

import pytest
import zxingcpp
from django.core.management import CommandError, call_command
from django.test import Client
from PIL import Image

from apps.stations.models import Connector, Station


def test_qr_sheets_command_writes_png_pages_and_a_pdf(berlin, operator_org, tmp_path):
    out = io.StringIO()
    call_command("qr_sheets", "--operator", str(operator_org.id), "--format", "png", "--out", str(tmp_path), stdout=out)
    (png,) = sorted(tmp_path.glob("*.png"))
    assert Image.open(png).size == (1240, 1754)
    decoded = sorted(barcode.text for barcode in zxingcpp.read_barcodes(Image.open(png)))
    assert decoded == sorted(f"http://localhost:8000/c/{c.code}" for c in Connector.objects.all())
    assert "3 QR codes on 1 page(s)" in out.getvalue()

    call_command("qr_sheets", "--operator", str(operator_org.id), "--format", "pdf", "--out", str(tmp_path / "pdf"))
    (pdf,) = (tmp_path / "pdf").glob("*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_qr_sheets_spans_pages(operator_client, operator_org, tmp_path):
    connectors = [{"number": n, "type": "TYPE2"} for n in range(1, 8)]
    for index in range(2):  # 14 connectors: two pages of 12
        body = {
            "name": f"Depot {index}",
            "latitude": 50,
            "longitude": 8,
            "timezone": "Europe/Berlin",
            "chargers": [{"serial": f"DEPOT-{index}", "max_power_kw": 22, "connectors": connectors}],
        }
        assert operator_client.post("/api/v1/stations", body, format="json").status_code == 201
    call_command("qr_sheets", "--operator", str(operator_org.id), "--format", "pdf", "--out", str(tmp_path))
    (pdf,) = tmp_path.glob("*.pdf")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf.read_bytes())) == 2  # 14 codes, 12 a page


def test_qr_sheets_refuses_an_operator_without_connectors(tmp_path):
    with pytest.raises(CommandError):
        call_command("qr_sheets", "--operator", str(uuid.uuid4()), "--out", str(tmp_path))
    with pytest.raises(CommandError):
        call_command("qr_sheets", "--operator", "voltway", "--out", str(tmp_path))


def test_demo_seed_is_idempotent_and_hands_over_codes():
    from apps.identity import demo as identity_demo
    from apps.stations import demo

    context: dict = {}
    identity_demo.seed(context)
    demo.seed(context)
    first = dict(context["stations"])
    demo.seed(context)

    assert Station.objects.count() == 4
    assert {s.timezone for s in Station.objects.all()} == {"Europe/Berlin", "America/New_York"}
    assert Connector.objects.filter(status="Faulted").count() == 1
    assert len({c.type for c in Connector.objects.all()}) >= 5
    assert context["stations"]["connector_codes"] == first["connector_codes"]
    available = context["stations"]["available_connector"]
    assert Connector.objects.get(code=available["code"]).status == "Available"
    assert any(available["code"] in line for line in context["summary"])


def test_admin_pages(make_user, berlin):
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    browser = Client()
    browser.force_login(admin)
    station = Station.objects.get()
    connector = Connector.objects.first()
    for url in [
        "/admin/stations/station/",
        f"/admin/stations/station/?operator_id={station.operator_id}&status=available",
        f"/admin/stations/station/?q={connector.code}",
        f"/admin/stations/station/{station.id}/change/",
        "/admin/stations/charger/",
        f"/admin/stations/charger/{connector.charger_id}/change/",
        "/admin/stations/connector/?status=Available",
        f"/admin/stations/connector/{connector.id}/change/",
    ]:
        assert browser.get(url).status_code == 200, url
    assert station.name in browser.get(f"/admin/stations/station/?q={connector.code}").content.decode()


def test_admin_action_sets_status_through_the_service(make_user, berlin, outbox):
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    browser = Client()
    browser.force_login(admin)
    connector = Connector.objects.first()
    response = browser.post(
        "/admin/stations/connector/", {"action": "set_faulted", "_selected_action": [str(connector.id)]}
    )
    assert response.status_code == 302
    assert Connector.objects.get(id=connector.id).status == "Faulted"
    assert [e.data.reason for e in outbox("station.status_changed.v1")] == ["admin"]


def test_admin_edit_announces_the_change(make_user, berlin, outbox):
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    browser = Client()
    browser.force_login(admin)
    station = Station.objects.get()
    form = {
        "name": "Renamed in admin",
        "address": station.address,
        "latitude": station.latitude,
        "longitude": station.longitude,
        "timezone": "Mars/Olympus",
        "chargers-TOTAL_FORMS": "0",
        "chargers-INITIAL_FORMS": "0",
    }
    url = f"/admin/stations/station/{station.id}/change/"
    assert browser.post(url, form).status_code == 200  # form error: unknown time zone
    assert browser.post(url, {**form, "timezone": "Europe/Berlin"}).status_code == 302
    (updated,) = outbox("station.updated.v1")
    assert updated.data.changed == ["name"] and updated.data.name == "Renamed in admin"
