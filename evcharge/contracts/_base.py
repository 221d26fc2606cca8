from typing import Generic, TypeVar

T = TypeVar("T")

EVENT_TYPES: dict[str, type] = {}


def event_contract(cls: type[T]) -> type[T]:
    """Registers an event dataclass in the catalog under its TYPE (the routing key)."""
    event_type = cls.TYPE  # type: ignore[attr-defined]
    if event_type in EVENT_TYPES and EVENT_TYPES[event_type] is not cls:
        raise ValueError(f"event type {event_type} declared twice")
    EVENT_TYPES[event_type] = cls
    return cls


class FacadeSlot(Generic[T]):
    """Where a context registers the implementation of its facade at start (AppConfig.ready)."""

    def __init__(self, name: str):
        self.name = name
        self._implementation: T | None = None

    def register(self, implementation: T) -> None:
        self._implementation = implementation

    def get(self) -> T:
        if self._implementation is None:
            raise LookupError(f"no implementation of the {self.name} facade is registered")
        return self._implementation

    @property
    def registered(self) -> bool:
        return self._implementation is not None
