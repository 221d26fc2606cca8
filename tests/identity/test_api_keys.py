import hashlib
import uuid

from apps.identity.models import ApiKey
from tests.helpers import assert_problem

KEYS, CURRENT = "/api/v1/auth/api-keys", "/api/v1/auth/api-keys/current"


def create_key(client, **body):
    response = client.post(KEYS, {"name": "charger 7", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_operator_creates_a_key_shown_once_and_stored_hashed(operator_client, operator_user):
    created = create_key(operator_client)
    raw = created["key"]
    assert raw.startswith("evk_")
    assert created["operator_id"] == str(operator_user.operator_id)
    assert created["active"] is True

    stored = ApiKey.objects.get(id=created["id"])
    assert stored.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(value) for value in vars(stored).values()}

    listed = operator_client.get(KEYS).json()
    assert listed["count"] == 1
    assert "key" not in listed["results"][0]
    assert raw not in operator_client.get(KEYS).content.decode()


def test_a_key_authenticates_as_its_operator(operator_client, client_for, operator_user):
    created = create_key(operator_client)
    response = client_for(api_key=created["key"]).get(CURRENT)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == created["id"]
    assert response.json()["operator_id"] == str(operator_user.operator_id)
    assert ApiKey.objects.get(id=created["id"]).last_used_at is not None


def test_unknown_or_malformed_keys_are_401(client_for, operator_client):
    raw = create_key(operator_client)["key"]
    for bad in [raw[:-1] + ("A" if raw[-1] != "A" else "B"), "evk_nope_nope", "nonsense", " "]:
        response = client_for(api_key=bad).get(CURRENT)
        assert_problem(response, 401)


def test_the_key_route_wants_a_key_not_a_token(operator_client, anon):
    assert_problem(operator_client.get(CURRENT), 401)
    assert_problem(anon.get(CURRENT), 401)


def test_a_revoked_key_is_refused_at_once(operator_client, client_for):
    created = create_key(operator_client)
    key_client = client_for(api_key=created["key"])
    assert key_client.get(CURRENT).status_code == 200
    assert operator_client.delete(f"{KEYS}/{created['id']}").status_code == 204
    assert_problem(key_client.get(CURRENT), 401)
    listed = operator_client.get(KEYS).json()["results"]
    assert listed[0]["active"] is False and listed[0]["revoked_at"]
    assert operator_client.delete(f"{KEYS}/{created['id']}").status_code == 204  # revoking twice is harmless


def test_operators_see_and_revoke_only_their_own_keys(operator_client, other_operator_client, admin_client):
    mine = create_key(operator_client)
    theirs = create_key(other_operator_client)
    assert [k["id"] for k in operator_client.get(KEYS).json()["results"]] == [mine["id"]]
    assert_problem(operator_client.delete(f"{KEYS}/{theirs['id']}"), 404)
    assert_problem(operator_client.delete(f"{KEYS}/{uuid.uuid4()}"), 404)
    assert {k["id"] for k in admin_client.get(KEYS).json()["results"]} == {mine["id"], theirs["id"]}
    assert admin_client.delete(f"{KEYS}/{theirs['id']}").status_code == 204


def test_operators_cannot_mint_keys_for_another_operator(operator_client, other_operator_org):
    response = operator_client.post(KEYS, {"name": "x", "operator_id": str(other_operator_org.id)}, format="json")
    assert_problem(response, 403)


def test_admin_creates_a_key_for_an_operator(admin_client, operator_org, client_for):
    created = create_key(admin_client, operator_id=str(operator_org.id))
    assert created["operator_id"] == str(operator_org.id)
    assert_problem(admin_client.post(KEYS, {"name": "x", "operator_id": str(uuid.uuid4())}, format="json"), 400)


def test_drivers_and_anonymous_cannot_manage_keys(driver_client, anon):
    assert_problem(driver_client.get(KEYS), 403)
    assert_problem(driver_client.post(KEYS, {"name": "x"}, format="json"), 403)
    assert_problem(anon.get(KEYS), 401)


def test_a_key_cannot_manage_keys(operator_client, client_for):
    raw = create_key(operator_client)["key"]
    assert_problem(client_for(api_key=raw).get(KEYS), 401)


def test_a_key_without_an_operator_is_refused_even_to_an_admin(admin_client):
    response = admin_client.post(KEYS, {"name": "master key"}, format="json")
    assert_problem(response, 400, fields=("operator_id",))
    response = admin_client.post(KEYS, {"name": "master key", "operator_id": None}, format="json")
    assert_problem(response, 400, fields=("operator_id",))
    assert not ApiKey.objects.exists()


def test_an_old_key_row_without_an_operator_authenticates_no_one(admin_user, client_for):
    from apps.identity.selectors import hash_api_key

    raw = "evk_0a1b2c3d_legacy-admin-key-minted-before-operators-were-required"
    ApiKey.objects.create(name="legacy", prefix="0a1b2c3d", hashed_key=hash_api_key(raw), created_by=admin_user)
    assert_problem(client_for(api_key=raw).get(CURRENT), 401)
    assert_problem(client_for(api_key=raw).post("/api/v1/telemetry/events", [], format="json"), 401)
