"""Demo users (passwords documented in the README). Idempotent."""

from apps.identity import services
from apps.identity.models import ApiKey, Operator, User
from evcharge.actor import ADMIN, DRIVER, OPERATOR, Actor

DEMO_PASSWORD = "demo-pass-2026"
SIMULATOR_KEY_NAME = "demo charger simulator"
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
    if context.get("simulate_chargers"):
        context["charger_keys"] = {operator.id: _simulator_key(operator) for operator in (voltway, ampere)}
    context["users"] = {email: user.id for email, user in users.items()}
    context.setdefault("summary", []).append(
        f"Users (password {DEMO_PASSWORD}): " + ", ".join(f"{email} ({role})" for email, _, role in ACCOUNTS)
    )


def _simulator_key(operator: Operator) -> str:
    """A fresh API key for the operator's simulated chargers (a raw key is shown once, so each run mints
    one); the previous runs' simulator keys are revoked."""
    admin = Actor(user_id=None, role=ADMIN)
    for key in ApiKey.objects.filter(operator=operator, name=SIMULATOR_KEY_NAME, revoked_at__isnull=True):
        services.api_key_revoke(key_id=key.id, by=admin)
    _, raw = services.api_key_create(name=SIMULATOR_KEY_NAME, by=admin, operator_id=operator.id)
    return raw
