import pytest

from tests.reporting.scenario import Scenario


@pytest.fixture
def reporting_only(monkeypatch):
    """Inline delivery to the reporting consumer alone: the other contexts do not react to the scenario's
    made-up events (billing would otherwise invoice its sessions again), so the figures stay hand-computable."""
    from evcharge.events import registry
    from evcharge.events.transports import inline

    def only_reporting(event_type: str) -> list[str]:
        return [c for c in registry.consumers_of(event_type) if c == "reporting"]

    monkeypatch.setattr(inline, "consumers_of", only_reporting)


@pytest.fixture
def scenario(reporting_only, operator_org, other_operator_org) -> Scenario:
    """The hand-computed scenario (see scenario.py), published event by event with inline delivery."""
    built = Scenario.build(operator_org.id, other_operator_org.id)
    built.publish_all()
    return built
