"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis), as each role.

For every operation, schemathesis generates requests that the schema says are valid and sends them to the live
app (in-process WSGI against PostgreSQL) with a real JWT; each answer must be no 5xx, a documented status code,
a documented content type and a body matching the documented schema. Path ids come, most of the time, from data
seeded through the API (a station, connectors, a rate plan, a rule, a promotion, invoices, a payment, ...), so
the fuzz reaches real objects, not only 404s. Deterministic (derandomized, no example database) and bounded
(FUZZ_MAX_EXAMPLES per operation and role; FUZZ_RANDOM=1 explores other examples).
"""

import json
import logging
import os
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import checks as sc

from tests.conftest import access_token_for

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "") == ""  # FUZZ_RANDOM=1: explore beyond the fixed examples
CHECKS = [
    sc.not_a_server_error,
    sc.status_code_conformance,
    sc.content_type_conformance,
    sc.response_schema_conformance,
]
# Operations that must answer 2xx at least once per role (about 2/3 of what they do today).
MIN_OPERATIONS_ANSWERED = {"driver": 15, "operator": 35, "admin": 40}
# Operations left out of the fuzz, each with the finding that keeps it out (empty: every operation is fuzzed).
EXCLUDED: dict[str, str] = {}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Seeder:
    """Creates data through the public API; a step the API refuses leaves its id out (the fuzz still runs)."""

    def __init__(self):
        self.ids: dict[str, str] = {}
        self.refused: list[str] = []

    def call(self, client, method: str, path: str, body=None, **headers):
        response = getattr(client, method)(path, body, format="json", **headers)
        if response.status_code >= 300:
            self.refused.append(f"{method.upper()} {path} -> {response.status_code} {response.content[:300]!r}")
            return None
        return response.json() if response.content else {}


def seed(clients: dict, users: dict) -> Seeder:
    seeder = Seeder()
    ids = seeder.ids
    operator, driver, admin = clients["operator"], clients["driver"], clients["admin"]
    now = datetime.now(UTC)

    station = seeder.call(
        operator,
        "post",
        "/api/v1/stations",
        {
            "name": "Fuzz Hub",
            "address": "Teststraße 1, Berlin",
            "latitude": 52.52,
            "longitude": 13.405,
            "timezone": "Europe/Berlin",
            "chargers": [
                {
                    "serial": "FZ-DC-01",
                    "max_power_kw": 150,
                    "connectors": [{"number": 1, "type": "CCS2"}, {"number": 2, "type": "TYPE2"}],
                }
            ],
        },
    )
    assert station, seeder.refused
    connectors = station["chargers"][0]["connectors"]
    ids.update(station_id=station["id"], connector_id=connectors[0]["id"], code=connectors[0]["code"])

    plan = seeder.call(
        operator,
        "post",
        "/api/v1/pricing/rate-plans",
        {"name": "Fuzz plan", "currency": "EUR", "energy_price_per_kwh": 39, "session_fee": 50, "is_default": True},
    )
    if plan:
        ids["plan_id"] = plan["id"]
        rule = seeder.call(
            operator, "post", "/api/v1/pricing/rules", {"rate_plan_id": plan["id"], "station_id": station["id"]}
        )
        if rule:
            ids["rule_id"] = rule["id"]
    promotion = seeder.call(
        operator,
        "post",
        "/api/v1/pricing/promotions",
        {"code": "FUZZ10", "kind": "percent", "value": 10, "valid_from": iso(now - timedelta(days=1))},
    )
    if promotion:
        ids["promotion_id"] = promotion["id"]

    card = seeder.call(driver, "post", "/api/v1/billing/payment-methods", {"kind": "card", "token": "tok_visa"})
    if card:
        ids["payment_method_id"] = card["id"]

    charger_id = station["chargers"][0]["id"]

    def meter(energy_wh: int, at: datetime) -> None:
        reading = {"charger_id": charger_id, "connector_id": connectors[0]["id"], "ts": iso(at), "kind": "meter"}
        seeder.call(operator, "post", "/api/v1/telemetry/events", [{**reading, "energy_wh": energy_wh}])

    # Two charging sessions: the first is paid (a payment), the second stays an open invoice to play with.
    for round_ in range(2):
        if round_ == 0:
            meter(100_000, now - timedelta(minutes=1))
        session = seeder.call(
            driver,
            "post",
            "/api/v1/sessions",
            {"connector_id": connectors[0]["id"]},
            HTTP_IDEMPOTENCY_KEY=f"fuzz-seed-{round_}",
        )
        if not session:
            continue
        ids["session_id"] = session["id"]
        # The charger's reading a little later: 2 kWh a session is what its 150 kW can deliver in that time.
        meter(100_000 + 2_000 * (round_ + 1), now + timedelta(minutes=1 + 2 * round_))
        seeder.call(driver, "post", f"/api/v1/sessions/{session['id']}/stop", {})
        invoices = seeder.call(driver, "get", "/api/v1/billing/invoices")
        mine = [i for i in (invoices or {}).get("results", []) if i.get("session_id") == session["id"]]
        if not mine:
            continue
        ids["invoice_id"] = mine[0]["id"]
        if round_ == 0 and card:
            paid = seeder.call(
                driver,
                "post",
                f"/api/v1/billing/invoices/{mine[0]['id']}/checkout",
                {"payment_method_id": card["id"]},
                HTTP_IDEMPOTENCY_KEY="fuzz-seed-checkout",
            )
            if paid and paid.get("payment"):
                ids["payment_id"] = paid["payment"]["id"]
    if "invoice_id" in ids:
        line = seeder.call(
            operator,
            "post",
            f"/api/v1/billing/invoices/{ids['invoice_id']}/lines",
            {"kind": "adjustment", "description": "Fuzz item", "quantity": 1, "unit_amount": 100},
        )
        if line:
            lines = line.get("lines") or [line]
            ids["line_id"] = lines[-1]["id"]
        redemption = seeder.call(
            driver,
            "post",
            "/api/v1/pricing/promotions/apply",
            {"code": "FUZZ10", "reference": ids["invoice_id"]},
            HTTP_IDEMPOTENCY_KEY="fuzz-seed-apply",
        )
        if redemption:
            ids["redemption_id"] = redemption["id"]

    starts_at = now + timedelta(hours=2)
    reservation = seeder.call(
        driver,
        "post",
        "/api/v1/reservations",
        {
            "connector_id": connectors[1]["id"],
            "starts_at": iso(starts_at),
            "ends_at": iso(starts_at + timedelta(hours=1)),
        },
    )
    if reservation:
        ids["reservation_id"] = reservation["id"]

    if seeder.call(admin, "put", "/api/v1/admin/config/flags.fuzz", {"value": True}) is not None:
        ids["key"] = "flags.fuzz"
    api_key = seeder.call(operator, "post", "/api/v1/auth/api-keys", {"name": "fuzz charger"})
    if api_key:
        ids["key_id"] = api_key["id"]
    notifications = seeder.call(driver, "get", "/api/v1/notifications")
    if notifications and notifications.get("results"):
        ids["notification_id"] = notifications["results"][0]["id"]
    ids["user_id"] = str(users["driver"].id)
    return seeder


def _describe(case, response, error: BaseException) -> str:
    request = f"{case.method} {case.formatted_path}"
    if case.query:
        request += f" query={case.query}"
    if case.body is not None and not isinstance(case.body, bytes):
        request += f" body={json.dumps(case.body, default=str)[:300]}"
    answer = ""
    if response is not None:
        answer = f" -> {response.status_code} {response.headers.get('content-type')} {response.text[:300]}"
    failures = getattr(error, "exceptions", [error])
    reasons = [f"{getattr(f, 'title', type(f).__name__)}: {str(getattr(f, 'message', f))[:400]}" for f in failures]
    return f"{request}{answer}\n      " + "\n      ".join(reasons)


def fuzz_operation(operation, headers: dict, seeded: dict, statuses: Counter) -> list[str]:
    path_names = [p.name for p in operation.path_parameters]
    known = {name: seeded[name] for name in path_names if name in seeded}
    strategy = operation.as_strategy()
    if known:
        strategy = st.one_of(operation.as_strategy(path_parameters=known), strategy)
    found: dict[str, str] = {}

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=DERANDOMIZE,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def run(case):
        response = None
        try:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            if response.status_code < 300:
                statuses[operation.label] += 1
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as error:
            titles = sorted(getattr(f, "title", type(f).__name__) for f in getattr(error, "exceptions", [error]))
            key = f"{response.status_code if response is not None else ''} {titles}"
            found.setdefault(key, _describe(case, response, error))

    run()
    return list(found.values())


@pytest.fixture
def quiet_logs():
    logging.disable(logging.INFO)  # thousands of request lines otherwise
    yield
    logging.disable(logging.NOTSET)


@pytest.fixture
def role_clients(client_for, driver, operator_user, admin_user):
    users = {"driver": driver, "operator": operator_user, "admin": admin_user}
    return users, {role: client_for(user) for role, user in users.items()}


@pytest.mark.postgres
@pytest.mark.parametrize("role", ["driver", "operator", "admin"])
def test_every_operation_answers_as_documented(role, role_clients, quiet_logs):
    users, clients = role_clients
    seeder = seed(clients, users)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    headers = {"Authorization": f"Bearer {access_token_for(users[role])}"}

    findings: list[str] = []
    statuses: Counter = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        if operation.label in EXCLUDED:
            continue
        found = fuzz_operation(operation, headers, seeder.ids, statuses)
        findings += [f"{operation.label}: {finding}" for finding in found]
    answered = sorted(label for label in statuses if isinstance(label, str))
    # The seeded data lets the fuzz reach real objects: a role that answers 2xx on few operations fuzzes nothing.
    assert len(answered) >= MIN_OPERATIONS_ANSWERED[role], (answered, seeder.refused)

    assert not findings, f"{len(findings)} findings as {role} (seed refused: {seeder.refused}):\n" + "\n".join(findings)
