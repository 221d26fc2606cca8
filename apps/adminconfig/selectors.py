import threading
import time
from typing import Any
from uuid import UUID

from django.conf import settings

from apps.adminconfig.models import ConfigChange, ConfigEntry, StationSettings


def config_list():
    return ConfigEntry.objects.all()


def config_get(key: str) -> ConfigEntry | None:
    return ConfigEntry.objects.filter(key=key).first()


def config_value(key: str, default: Any = None) -> Any:
    entry = config_get(key)
    return default if entry is None else entry.value


def config_history(key: str):
    return ConfigChange.objects.filter(entry_id=key).order_by("-version")


def flag_values() -> dict[str, Any]:
    return dict(ConfigEntry.objects.filter(key__startswith="flags.").values_list("key", "value"))


def station_settings_get(station_id: UUID) -> StationSettings | None:
    return StationSettings.objects.filter(station_id=station_id).first()


class FlagCache:
    """Feature flags held in-process. Refreshed after `ttl_seconds` on every process, and dropped at once
    where config.changed.v1 is consumed; so a flip takes effect within seconds everywhere."""

    def __init__(self, ttl_seconds: float):
        self.ttl_seconds = ttl_seconds
        self._flags: dict[str, Any] | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        now = time.monotonic()
        with self._lock:
            if self._flags is None or now - self._loaded_at > self.ttl_seconds:
                self._flags = flag_values()
                self._loaded_at = now
            return self._flags.get(key)

    def invalidate(self) -> None:
        with self._lock:
            self._flags = None


flag_cache = FlagCache(ttl_seconds=settings.FEATURE_FLAG_CACHE_SECONDS)
