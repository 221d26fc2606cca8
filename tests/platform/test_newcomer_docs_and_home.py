"""Issue 18, points 12 and 15 (home page): the API docs need no outside host; `/` greets a person."""

import re

import pytest
from django.test import Client

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)
LOCAL_ASSETS = re.compile(r"""(?:src|href)\s*=\s*["'](/static/[^"']+)["']""", re.IGNORECASE)


@pytest.fixture
def browser(settings):
    settings.DEBUG = False  # as in production: static files must still be served
    return Client(HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_load_everything_from_this_server(browser, page):
    response = browser.get(page)
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    assert not EXTERNAL.findall(html), "the docs page references another host"
    assets = LOCAL_ASSETS.findall(html)
    assert assets, "the docs page should load its scripts from /static/"
    for asset in assets:
        served = browser.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content if served.streaming else [served.content])


def test_the_admin_stylesheet_is_served_with_debug_off(browser):
    assert browser.get("/static/admin/css/base.css").status_code == 200


def test_the_home_page_tells_a_person_where_to_go(browser):
    response = browser.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for link in ("/api/docs/", "/admin/", "/reports/dashboard", "/api/asyncapi.yaml"):
        assert f'href="{link}"' in html, link
    assert "demo-qr-url" not in html


def test_the_home_page_offers_the_demo_qr_url_when_the_demo_sets_one(browser, settings):
    settings.DEMO_QR_URL = "http://127.0.0.1:8000/c/ABCD2345"
    html = browser.get("/").content.decode()
    assert 'href="http://127.0.0.1:8000/c/ABCD2345"' in html


@pytest.mark.parametrize("accept", ["application/json", "*/*", ""])
def test_a_program_asking_for_the_root_gets_a_problem_404(accept):
    response = Client(HTTP_ACCEPT=accept).get("/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert "/api/docs/" in response.json()["detail"]
