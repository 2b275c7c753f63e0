"""APScheduler jobs derived from the database: rebuilt at start-up, replaced when deals change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from groupbuy.clock import Clock
from groupbuy.model import Deal

Job = Callable[[], Awaitable[None]]


class DealScheduler:
    """A periodic sweep (the safety net) plus one job per deal at its deadline, so deals close on
    time. Jobs only trigger the idempotent sweep: the database decides what is due."""

    def __init__(self, clock: Clock, sweep: Job, sweep_seconds: float) -> None:
        self._clock = clock
        self._sweep = sweep
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            sweep,
            "interval",
            seconds=sweep_seconds,
            id="sweep",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )

    def _real_time(self, moment: datetime) -> datetime:
        # The injected clock may run ahead of the wall clock (tests, the sandbox).
        return moment - (self._clock.now() - datetime.now(UTC))

    def schedule(self, deal: Deal) -> None:
        run_at = self._real_time(deal.deadline)
        self._scheduler.add_job(
            self._sweep,
            "date",
            run_date=max(run_at, datetime.now(UTC)),
            id=f"close:{deal.id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def start(self, deals: list[Deal]) -> None:
        for deal in deals:
            self.schedule(deal)
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
