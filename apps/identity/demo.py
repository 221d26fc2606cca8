"""Demo users (passwords documented in the README). Idempotent."""

from apps.identity.models import Operator, User
from evcharge.actor import ADMIN, DRIVER, OPERATOR

DEMO_PASSWORD = "demo-pass-2026"
ACCOUNTS = [
    ("admin@evcharge.test", "Ada Admin", ADMIN),
    ("operator@evcharge.test", "Oscar Operator", OPERATOR),
    ("operator2@evcharge.test", "Olga Operator", OPERATOR),
    ("driver@evcharge.test", "Dana Driver", DRIVER),
    ("driver2@evcharge.test", "Dev Driver", DRIVER),
]


def seed(context: dict) -> None:
    voltway, _ = Operator.objects.get_or_create(name="Voltway Charging")
    ampere, _ = Operator.objects.get_or_create(name="Ampere Networks")
    operators = {"operator@evcharge.test": voltway, "operator2@evcharge.test": ampere}
    users = {}
    for email, name, role in ACCOUNTS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=DEMO_PASSWORD,
                name=name,
                role=role,
                operator=operators.get(email),
                is_staff=role != DRIVER,
                is_superuser=role == ADMIN,
            )
        users[email] = user
    context["operators"] = {"voltway": voltway.id, "ampere": ampere.id}
    context["users"] = {email: user.id for email, user in users.items()}
    context.setdefault("summary", []).append(
        f"Users (password {DEMO_PASSWORD}): " + ", ".join(f"{email} ({role})" for email, _, role in ACCOUNTS)
    )
