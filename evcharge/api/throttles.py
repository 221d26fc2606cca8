"""Throttles beyond DRF's own. The cache behind them is CACHE_URL's (Redis in the chart and compose), so
every process and pod counts against one budget."""

import hashlib

from rest_framework.throttling import SimpleRateThrottle


class FailedAttemptThrottle(SimpleRateThrottle):
    """Counts failures, not requests: once `rate` failures were recorded for an identity within a window
    (opened by its first failure, `duration` long), its requests are refused (429 with Retry-After) until
    the window closes. The view calls record_failure(request) when an attempt fails; the count is an atomic
    counter in the cache."""

    def get_ident_value(self, request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view) -> str | None:
        value = self.get_ident_value(request)
        if not value:
            return None
        return f"throttle_{self.scope}_{hashlib.sha256(value.encode()).hexdigest()}"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        if (self.cache.get(key) or 0) < self.num_requests:
            return True
        self.now = self.timer()
        self.window_end = self.cache.get(f"{key}_until") or self.now + self.duration
        return False

    def wait(self) -> float:
        return max(self.window_end - self.now, 1.0)

    def record_failure(self, request) -> None:
        key = self.get_cache_key(request, None) if self.rate is not None else None
        if key is None:
            return
        now = self.timer()
        if self.cache.add(key, 0, timeout=self.duration):
            self.cache.set(f"{key}_until", now + self.duration, timeout=self.duration)
        try:
            self.cache.incr(key)
        except ValueError:  # the window closed between add and incr
            self.cache.set(key, 1, timeout=self.duration)
            self.cache.set(f"{key}_until", now + self.duration, timeout=self.duration)
