"""No event type is declared without a publisher: every contract in the catalog is published somewhere in
the contexts' code (a declared event nobody publishes misleads every consumer who subscribes to it)."""

import re
from pathlib import Path

from evcharge.contracts._base import EVENT_TYPES
from evcharge.events.catalog import load_contracts

ROOT = Path(__file__).resolve().parents[2]


def test_every_declared_event_type_has_a_publisher():
    load_contracts()
    code = "\n".join(path.read_text() for path in (ROOT / "apps").rglob("*.py") if "migrations" not in path.parts)

    unpublished = [
        event_type for event_type, contract in EVENT_TYPES.items() if not re.search(rf"\b{contract.__name__}\(", code)
    ]

    assert unpublished == [], f"declared in evcharge/contracts but never built by a context: {unpublished}"
