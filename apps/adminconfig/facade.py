from typing import Any

from apps.adminconfig import selectors


class AdminConfigFacadeImpl:
    def is_enabled(self, name: str, default: bool = False) -> bool:
        value = selectors.flag_cache.get(f"flags.{name}")
        return default if value is None else bool(value)

    def get_value(self, key: str, default: Any = None) -> Any:
        return selectors.config_value(key, default)
