import pytest
from django.test import Client

from apps.identity import demo
from apps.identity.models import Operator, User


@pytest.fixture
def staff_browser(make_user):
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    browser = Client()
    browser.force_login(admin)
    return browser


@pytest.mark.parametrize("model", ["user", "operator", "apikey"])
def test_admin_pages_load(staff_browser, model, operator_user):
    assert staff_browser.get(f"/admin/identity/{model}/").status_code == 200
    assert staff_browser.get(f"/admin/identity/{model}/?q=x").status_code == 200


def test_admin_adds_a_user(staff_browser, operator_org):
    assert staff_browser.get("/admin/identity/user/add/").status_code == 200
    response = staff_browser.post(
        "/admin/identity/user/add/",
        {
            "email": "new.staff@example.test",
            "password1": "a-long-secret-42",
            "password2": "a-long-secret-42",
            "usable_password": "true",
            "role": "operator",
            "operator": str(operator_org.id),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(email="new.staff@example.test").operator == operator_org


def test_demo_seed_is_idempotent_and_documents_passwords():
    context: dict = {}
    demo.seed(context)
    demo.seed(context)
    assert User.objects.filter(email__endswith="@evcharge.test").count() == len(demo.ACCOUNTS)
    assert Operator.objects.count() == 2
    assert set(context["operators"]) == {"voltway", "ampere"}
    admin = User.objects.get(email="admin@evcharge.test")
    assert admin.check_password(demo.DEMO_PASSWORD) and admin.role == "admin"
    assert any(demo.DEMO_PASSWORD in line for line in context["summary"])
