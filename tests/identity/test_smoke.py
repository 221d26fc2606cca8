def test_register_login_me(anon, outbox):
    response = anon.post(
        "/api/v1/auth/register", {"email": "New@Example.test", "password": "a-long-secret-42"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "new@example.test"
    assert [e.type for e in outbox()] == ["user.created.v1"]
    tokens = anon.post(
        "/api/v1/auth/token", {"email": "new@example.test", "password": "a-long-secret-42"}, format="json"
    ).json()
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = anon.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["role"] == "driver"
