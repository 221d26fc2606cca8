import uuid

import pytest

from tests.helpers import assert_problem

OPERATORS = "/api/v1/auth/operators"


def role_url(user) -> str:
    return f"/api/v1/auth/users/{user.id}/role"


def test_admin_makes_a_driver_an_operator(admin_client, driver, operator_org):
    response = admin_client.put(
        role_url(driver), {"role": "operator", "operator_id": str(operator_org.id)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "operator"
    assert response.json()["operator_id"] == str(operator_org.id)
    driver.refresh_from_db()
    assert (driver.role, driver.operator_id, driver.is_staff, driver.is_superuser) == (
        "operator",
        operator_org.id,
        True,
        False,
    )


def test_admin_makes_an_admin_and_back_to_driver(admin_client, operator_user):
    admin_client.put(role_url(operator_user), {"role": "admin"}, format="json")
    operator_user.refresh_from_db()
    assert (operator_user.role, operator_user.operator_id, operator_user.is_superuser) == ("admin", None, True)
    admin_client.put(role_url(operator_user), {"role": "driver"}, format="json")
    operator_user.refresh_from_db()
    assert (operator_user.role, operator_user.is_staff, operator_user.is_superuser) == ("driver", False, False)


def test_the_operator_role_needs_an_existing_operator(admin_client, driver):
    assert_problem(
        admin_client.put(role_url(driver), {"role": "operator"}, format="json"), 400, fields=("operator_id",)
    )
    response = admin_client.put(role_url(driver), {"role": "operator", "operator_id": str(uuid.uuid4())}, format="json")
    assert_problem(response, 400, fields=("operator_id",))
    driver.refresh_from_db()
    assert driver.role == "driver"


def test_unknown_role_and_unknown_user(admin_client, driver):
    assert_problem(admin_client.put(role_url(driver), {"role": "king"}, format="json"), 400, fields=("role",))
    response = admin_client.put(f"/api/v1/auth/users/{uuid.uuid4()}/role", {"role": "driver"}, format="json")
    assert_problem(response, 404)


@pytest.mark.parametrize("caller", ["driver_client", "operator_client"])
def test_only_admins_assign_roles(request, caller, other_driver):
    client = request.getfixturevalue(caller)
    assert_problem(client.put(role_url(other_driver), {"role": "admin"}, format="json"), 403)
    other_driver.refresh_from_db()
    assert other_driver.role == "driver"


def test_anonymous_role_assignment_is_401(anon, driver):
    assert_problem(anon.put(role_url(driver), {"role": "admin"}, format="json"), 401)


def test_admin_lists_and_creates_operators(admin_client, operator_org):
    created = admin_client.post(OPERATORS, {"name": "Kilowatt Co"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "Kilowatt Co"
    listed = admin_client.get(OPERATORS).json()
    assert listed["count"] == 2
    assert {o["name"] for o in listed["results"]} == {"Kilowatt Co", operator_org.name}
    assert set(listed["results"][0]) >= {"id", "name"}


def test_operator_names_are_unique_ignoring_case(admin_client, operator_org):
    response = admin_client.post(OPERATORS, {"name": operator_org.name.upper()}, format="json")
    assert_problem(response, 400, fields=("name",))
    assert_problem(admin_client.post(OPERATORS, {"name": ""}, format="json"), 400, fields=("name",))


@pytest.mark.parametrize("caller", ["driver_client", "operator_client"])
def test_only_admins_see_and_create_operators(request, caller):
    client = request.getfixturevalue(caller)
    assert_problem(client.get(OPERATORS), 403)
    assert_problem(client.post(OPERATORS, {"name": "Sneaky"}, format="json"), 403)
