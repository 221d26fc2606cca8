"""MeterValues gathered across connections: what arrives within a few milliseconds is stored in one database
transaction (one telemetry ingest, one event) instead of one each. Every charger still gets its answer only
after its values are committed, so an answer still means "stored"."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apps.chargepoints.gateway.actions import BoxIdentity, Meter

logger = logging.getLogger(__name__)


class MeterBatcher:
    def __init__(
        self,
        *,
        run: Callable[..., Awaitable[Any]],
        store: Callable[..., None],
        window_s: float,
        max_items: int,
    ) -> None:
        self._run, self._store = run, store
        self._window_s, self._max_items = window_s, max_items
        self._pending: list[tuple[BoxIdentity, Meter, asyncio.Future]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writing: set[asyncio.Task] = set()

    async def add(self, box: BoxIdentity, meter: Meter) -> None:
        """Returns once the batch holding this meter is stored (or raises what storing it raised)."""
        stored = asyncio.get_running_loop().create_future()
        self._pending.append((box, meter, stored))
        if len(self._pending) >= self._max_items:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._window_s, self._flush)
        await stored

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.ensure_future(self._write(batch))
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)

    async def _write(self, batch: list[tuple[BoxIdentity, Meter, asyncio.Future]]) -> None:
        try:
            await self._run(self._store, items=[(box, meter) for box, meter, _ in batch])
        except Exception as exc:
            logger.exception("storing %d MeterValues failed", len(batch))
            for _, _, stored in batch:
                if not stored.done():
                    stored.set_exception(exc)
            return
        for _, _, stored in batch:
            if not stored.done():
                stored.set_result(None)
