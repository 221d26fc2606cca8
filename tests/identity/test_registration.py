import pytest

from tests.helpers import assert_problem

REGISTER = "/api/v1/auth/register"


def test_register_creates_a_driver_and_announces_it(anon, outbox):
    response = anon.post(
        REGISTER, {"email": " Nina@Example.test ", "password": "a-long-secret-42", "name": "Nina"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "email", "role"}
    assert body["email"] == "nina@example.test"
    assert body["role"] == "driver"
    [event] = outbox("user.created.v1")
    assert str(event.data.user_id) == body["id"]
    assert event.data.role == "driver"


@pytest.mark.parametrize(
    "password",
    ["short1", "password123", "12345678901234", "nina@example.test"],
    ids=["too-short", "common", "numeric", "like-the-email"],
)
def test_weak_password_is_refused_naming_the_field(anon, outbox, password):
    response = anon.post(REGISTER, {"email": "nina@example.test", "password": password}, format="json")
    body = assert_problem(response, 400, fields=("password",))
    assert body["errors"]["password"]
    assert outbox() == []


def test_taken_email_is_refused_whatever_its_case(anon, make_user):
    make_user(email="taken@example.test")
    response = anon.post(REGISTER, {"email": "TAKEN@example.test", "password": "a-long-secret-42"}, format="json")
    assert_problem(response, 400, fields=("email",))


@pytest.mark.parametrize("email", ["not-an-email", "", "a@"])
def test_bad_email_is_refused(anon, email):
    response = anon.post(REGISTER, {"email": email, "password": "a-long-secret-42"}, format="json")
    assert_problem(response, 400, fields=("email",))


def test_missing_fields_and_non_json_are_400_not_500(anon):
    assert_problem(anon.post(REGISTER, {}, format="json"), 400, fields=("email", "password"))
    response = anon.post(REGISTER, "{not json", content_type="application/json")
    assert_problem(response, 400)


def test_a_registered_user_can_log_in_and_see_themselves(anon):
    anon.post(REGISTER, {"email": "nina@example.test", "password": "a-long-secret-42", "name": "Nina"}, format="json")
    tokens = anon.post("/api/v1/auth/token", {"email": "NINA@example.test", "password": "a-long-secret-42"}).json()
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = anon.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json() | {"id": None} == {
        "id": None,
        "email": "nina@example.test",
        "name": "Nina",
        "role": "driver",
        "operator_id": None,
    }
