"""The OpenAPI schema tells the truth: lists are documented as the pages they answer, every operation documents
the problem+json errors it can give, and paging parameters are validated (400 naming the parameter)."""

import pytest
from django.test import override_settings

from tests.helpers import assert_problem

PROBLEM = "application/problem+json"
# The six list routes that were documented as bare arrays while answering {count, next, previous, results}.
DRIFTED_LISTS = [
    ("/api/v1/billing/invoices", "driver"),
    ("/api/v1/billing/payment-methods", "driver"),
    ("/api/v1/pricing/promotions", "operator"),
    ("/api/v1/pricing/rate-plans", "operator"),
    ("/api/v1/pricing/redemptions", "operator"),
    ("/api/v1/pricing/rules", "operator"),
]
PAGED_ROUTES = [
    ("/api/v1/stations", "driver"),  # a GenericAPIView
    ("/api/v1/billing/invoices", "driver"),  # pages by hand
    ("/api/v1/pricing/rate-plans", "operator"),
    ("/api/v1/reservations", "driver"),
    ("/api/v1/notifications", "driver"),
    ("/api/v1/admin/config", "admin"),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


@pytest.fixture
def clients(driver_client, operator_client, admin_client):
    return {"driver": driver_client, "operator": operator_client, "admin": admin_client}


# --- lists are documented as pages ---


@pytest.mark.parametrize(("path", "role"), DRIFTED_LISTS)
def test_drifted_list_is_documented_as_the_page_it_answers(schema, clients, path, role):
    documented = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = _resolve(schema, documented)
    assert page.get("type") == "object", documented
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    assert {"count", "results"} <= set(page["required"])
    names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
    assert {"limit", "offset"} <= names

    answered = clients[role].get(path)
    assert answered.status_code == 200, answered.content
    assert set(answered.json()) == {"count", "next", "previous", "results"}


def test_no_get_route_is_documented_as_a_bare_array(schema):
    arrays = [
        path
        for path, method, operation in _operations(schema)
        if method == "GET"
        and operation["responses"]
        .get("200", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("type")
        == "array"
    ]
    assert not arrays


def test_every_page_documents_the_same_bounded_paging_parameters(schema):
    pages = 0
    for path, method, operation in _operations(schema):
        body = operation["responses"].get("200", {}).get("content", {}).get("application/json")
        if method != "GET" or not body or "count" not in _resolve(schema, body["schema"]).get("properties", {}):
            continue
        pages += 1
        parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, path
        assert parameters["offset"]["schema"]["minimum"] == 0, path
        assert "400" in operation["responses"], path
    assert pages >= 15


# --- errors are documented centrally ---


def test_problem_schema_is_rfc_9457(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert {"code", "errors"} <= set(problem["properties"])


def _documents_problem(operation, status: str) -> bool:
    response = operation["responses"].get(status)
    return bool(response) and response.get("content", {}).get(PROBLEM, {}).get("schema") == {
        "$ref": "#/components/schemas/Problem"
    }


def test_every_operation_documents_the_errors_it_can_give(schema):
    missing = []
    for path, method, operation in _operations(schema):
        expected = set()
        locations = {p["in"] for p in operation.get("parameters", [])}
        if "requestBody" in operation:
            expected |= {"400", "413", "415"}
        if locations & {"query", "header"}:
            expected.add("400")
        if "path" in locations:
            expected.add("404")
        if any(requirement for requirement in operation.get("security", [])):
            expected.add("401")
        expected |= {code for code in operation["responses"] if code[0] == "4"}
        missing += [f"{method} {path} {code}" for code in sorted(expected) if not _documents_problem(operation, code)]
    assert not missing


def test_roles_and_throttles_are_documented(schema):
    assert "403" in schema["paths"]["/api/v1/admin/config"]["get"]["responses"]  # admins only
    assert "403" in schema["paths"]["/api/v1/pricing/rate-plans"]["post"]["responses"]  # operators and admins
    assert "403" not in schema["paths"]["/api/v1/auth/me"]["get"]["responses"]  # any signed-in user
    token = schema["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert _documents_problem({"responses": token}, "429") and "Retry-After" in token["429"]["headers"]
    assert "429" not in schema["paths"]["/api/v1/auth/me"]["get"]["responses"]


def test_explicit_responses_are_kept(schema):
    checkout = schema["paths"]["/api/v1/billing/invoices/{invoice_id}/checkout"]["post"]["responses"]
    assert {"409", "422"} <= set(checkout)
    assert checkout["409"]["description"] != ""
    assert _documents_problem({"responses": checkout}, "409")


# --- paging parameters are validated ---


BAD_PAGING = [
    ("limit", "null"),
    ("limit", "abc"),
    ("limit", "0"),
    ("limit", "-1"),
    ("limit", "1.5"),
    ("limit", "201"),
    ("limit", str(10**30)),
    ("limit", "\uff11\uff10"),  # full-width digits: int() would take them
    ("offset", "-5"),
    ("offset", "null"),
    ("offset", str(10**30)),
]


@pytest.mark.parametrize(("path", "role"), PAGED_ROUTES)
@pytest.mark.parametrize(("name", "value"), BAD_PAGING)
def test_bad_paging_value_answers_400_naming_it(clients, path, role, name, value):
    body = assert_problem(clients[role].get(path, {name: value}), 400, fields=(name,))
    assert list(body["errors"]) == [name]


def test_both_bad_paging_values_are_named_at_once(driver_client):
    body = assert_problem(driver_client.get("/api/v1/billing/invoices?limit=abc&offset=-5"), 400)
    assert set(body["errors"]) == {"limit", "offset"}


def test_a_repeated_paging_parameter_is_refused(driver_client):
    assert_problem(driver_client.get("/api/v1/stations?limit=5&limit=500"), 400, fields=("limit",))


@pytest.mark.parametrize(("path", "role"), PAGED_ROUTES)
def test_good_paging_values_page(clients, path, role):
    for query in ({}, {"limit": "200"}, {"limit": "1", "offset": "0"}, {"offset": "1000000"}, {"limit": ""}):
        response = clients[role].get(path, query)
        assert response.status_code == 200, (query, response.content)
        assert set(response.json()) >= {"count", "next", "previous", "results"}


def test_limit_pages_and_links_the_next_page(operator_client):
    for number in range(3):
        created = operator_client.post(
            "/api/v1/pricing/rate-plans",
            {"name": f"Plan {number}", "currency": "EUR", "energy_price_per_kwh": 30 + number},
            format="json",
        )
        assert created.status_code == 201, created.content
    first = operator_client.get("/api/v1/pricing/rate-plans", {"limit": 2}).json()
    assert (first["count"], len(first["results"])) == (3, 2)
    assert "offset=2" in first["next"] and first["previous"] is None
    last = operator_client.get("/api/v1/pricing/rate-plans", {"limit": 2, "offset": 2}).json()
    assert len(last["results"]) == 1 and last["next"] is None


@override_settings(DEBUG=False)
def test_schema_endpoint_serves_the_documented_errors(anon):
    served = anon.get("/api/schema/?format=json").json()
    assert "Problem" in served["components"]["schemas"]
    assert "401" in served["paths"]["/api/v1/billing/invoices"]["get"]["responses"]
