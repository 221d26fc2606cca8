"""The staff dashboard (server-rendered SVG charts) and the read-only admin."""


def test_admin_sees_every_station_with_charts(client, admin_user, scenario):
    client.force_login(admin_user)

    response = client.get("/reports/dashboard", {"start": "2026-01-31", "end": "2026-02-01"})

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="chart"') == 3  # revenue in EUR, revenue in USD, utilization
    assert "Berlin Hbf" in page and "NY Midtown" in page


def test_an_operator_sees_their_own_stations(client, operator_user, scenario):
    client.force_login(operator_user)

    page = client.get("/reports/dashboard", {"start": "2026-01-01", "end": "2026-02-28", "group_by": "month"})

    assert page.status_code == 200
    assert "Berlin Hbf" in page.content.decode() and "NY Midtown" not in page.content.decode()


def test_a_bad_range_is_400(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/reports/dashboard", {"start": "2026-02-02", "end": "2026-02-01"}).status_code == 400


def test_drivers_are_sent_to_the_admin_login(client, driver):
    client.force_login(driver)
    response = client.get("/reports/dashboard")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_admin_links_to_the_dashboard(client, operator_user):
    client.force_login(operator_user)

    index = client.get("/admin/")
    link = client.get("/admin/reporting/dashboard/")

    assert "/admin/reporting/dashboard/" in index.content.decode()
    assert link.status_code == 302 and link["Location"] == "/reports/dashboard"


def test_the_read_model_admin_is_read_only(client, admin_user, scenario):
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)

    for page in ("stationdim", "sessionfact", "paymentfact", "reservationfact", "dailyrollup"):
        assert client.get(f"/admin/reporting/{page}/").status_code == 200, page
        assert client.get(f"/admin/reporting/{page}/add/").status_code == 403, page
