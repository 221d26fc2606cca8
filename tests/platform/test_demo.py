"""`manage.py demo` tells the truth and keeps working: prices as money, cards the API names the same way,
the reservation by its own id, no seeded flag that nothing reads, and a second run after API use."""

import io
import re
from pathlib import Path

from django.core.management import call_command

from apps.adminconfig.models import ConfigEntry
from apps.identity.models import User

ROOT = Path(__file__).resolve().parents[2]


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return out.getvalue()


def demo_driver(client_for):
    return client_for(User.objects.get(email="driver@evcharge.test"))


def test_prices_are_printed_as_money():
    summary = run_demo()
    assert "Voltway Standard (€0.39/kWh, default)" in summary
    assert "Voltway DC Fast for CCS2 (€0.59/kWh)" in summary
    assert "Ampere Standard ($0.35/kWh, default)" in summary
    assert "EUR 39/kWh" not in summary and "at most €5.00" in summary


def test_the_cards_are_named_as_the_api_names_them(client_for):
    summary = run_demo()
    cards = demo_driver(client_for).get("/api/v1/billing/payment-methods").json()["results"]
    shown = {card["label"]: (card["brand"], card["last4"]) for card in cards}
    assert shown == {"Demo card that pays": ("visa", "4242"), "Demo card that is declined": ("visa", "0002")}
    for label, (_, last4) in shown.items():
        assert f'"{label}" (visa …{last4}, test token tok_' in summary


def test_a_card_added_without_a_label_is_named_by_brand_and_last_digits(driver_client):
    added = driver_client.post("/api/v1/billing/payment-methods", {"token": "tok_visa"}, format="json")
    assert added.status_code == 201 and added.json()["label"] == "Visa ending 4242"
    named = driver_client.post(
        "/api/v1/billing/payment-methods", {"token": "tok_declined", "label": "Work card"}, format="json"
    )
    assert named.json()["label"] == "Work card"


def test_the_reservation_hint_names_a_reservation_the_driver_can_fetch(client_for):
    summary = run_demo()
    line = next(line for line in summary.splitlines() if line.startswith("Reservations:"))
    reservation_id = re.search(r"reservation ([0-9a-f-]{36})", line).group(1)
    response = demo_driver(client_for).get(f"/api/v1/reservations/{reservation_id}")
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    connector_code = re.search(r"connector code (\w+)", line).group(1)
    by_code = demo_driver(client_for).get(f"/api/v1/connectors/by-code/{connector_code}").json()
    assert by_code["connector_id"] == response.json()["connector_id"]  # the code is the connector's, said so


def test_the_demo_runs_again_after_the_driver_used_the_api(client_for):
    run_demo()
    driver = demo_driver(client_for)
    assert driver.post("/api/v1/billing/payment-methods", {"token": "tok_visa"}, format="json").status_code == 201
    removed = driver.get("/api/v1/billing/payment-methods").json()["results"][-1]
    assert driver.delete(f"/api/v1/billing/payment-methods/{removed['id']}").status_code == 204

    summary = run_demo()  # used to crash with MultipleObjectsReturned
    assert "Demo data ready." in summary
    labels = sorted(card["label"] for card in driver.get("/api/v1/billing/payment-methods").json()["results"])
    assert labels == ["Demo card that is declined", "Demo card that pays", "Visa ending 4242"]


def test_every_feature_flag_the_demo_seeds_is_read_by_the_code():
    run_demo()
    sources = "\n".join(path.read_text() for path in (ROOT / "apps").rglob("*.py") if "demo" not in path.name)
    for key in ConfigEntry.objects.filter(key__startswith="flags.").values_list("key", flat=True):
        name = key.removeprefix("flags.")
        assert f'is_enabled("{name}"' in sources, f"the demo seeds {key}, which nothing reads"
    for key in ConfigEntry.objects.exclude(key__startswith="flags.").values_list("key", flat=True):
        assert key.startswith("stations.defaults."), f"the demo seeds {key}; say what reads it"


def test_demo_addrport_is_documented():
    readme = (ROOT / "README.md").read_text()
    assert "`manage.py demo [addrport]`" in readme and "manage.py demo 8080" in readme
    out = io.StringIO()
    from evcharge.platform.management.commands.demo import Command, local_url

    Command().create_parser("manage.py", "demo").print_help(out)
    assert "addrport" in out.getvalue() and "--charger-interval" in out.getvalue()
    assert local_url("8080") == "http://127.0.0.1:8080" and local_url("0.0.0.0:9000") == "http://127.0.0.1:9000"
