"""Taking updates from Telegram: an update is confirmed only once it was handled.

aiogram's own polling confirms a batch (the next getUpdates' `offset`) as soon as it has read
it, so the updates of that batch whose handlers had not finished are lost for good when the
process stops or dies. Here the offset only moves past an update once its handler is done:
the oldest update still running holds it. Whatever a stop or crash cuts off Telegram delivers
again, and the handled-update record (groupbuy.delivery, storage.handled) makes the second
delivery change nothing.

The limit of this way (Telegram's, too: getUpdates returns the oldest 100 unconfirmed updates):
while one update's handler is slow, at most 99 newer ones are taken past it. A handler never
waits long (every call to Telegram has a timeout, a slow admin lookup is outside every lock),
so in practice the window is not reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.methods import GetUpdates
from aiogram.types import Update

from bot.sender import backoff
from groupbuy import delivery

log = logging.getLogger(__name__)
BATCH = 100  # Telegram's most per getUpdates
Handle = Callable[[Update], Awaitable[object]]


class Poller:
    def __init__(
        self,
        bot: Bot,
        bot_id: int,
        handle: Handle,
        *,
        in_flight: int,
        timeout: int = 10,
        drain_seconds: float = 20.0,
        allowed_updates: list[str] | None = None,
    ) -> None:
        self.bot = bot
        self.bot_id = bot_id
        self.handle = handle
        self.in_flight = in_flight
        self.timeout = timeout
        self.drain_seconds = drain_seconds
        self.allowed_updates = allowed_updates
        self._running: dict[int, asyncio.Task[None]] = {}
        self._done: set[int] = set()  # handled, not yet confirmed to Telegram
        self._cut: set[int] = set()  # cancelled by a stop before they were handled
        self._highest = -1  # the highest update id taken
        self._finished = asyncio.Event()  # a handler finished since it was last cleared

    @property
    def offset(self) -> int:
        """What to confirm: everything below the oldest update still being handled."""
        return min(self._running.keys() | self._cut, default=self._highest + 1)

    async def run(self, stopping: asyncio.Event) -> None:
        """Polls until `stopping` is set, then lets handlers finish (`drain_seconds` at most)
        and confirms what was handled."""
        stop = asyncio.create_task(stopping.wait())
        failures = 0
        try:
            while not stopping.is_set():
                if len(self._running) >= self.in_flight:
                    await self._wait_finished(stop, None)
                    continue
                fetch = asyncio.create_task(self._fetch())
                await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():
                    fetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await fetch
                    break
                try:
                    updates = fetch.result()
                except Exception as error:  # Telegram or the network: not a reason to stop
                    failures += 1
                    pause = backoff(failures, 0.5, 10.0)
                    log.warning("getUpdates failed (%s); again in %.1fs", error, pause)
                    await self._wait_finished(stop, pause)
                    continue
                failures = 0
                if not self._take(updates) and updates:
                    # All of them are being handled already (their offset is held): Telegram
                    # answers at once with the same batch, so wait until one of them is done.
                    await self._wait_finished(stop, 1.0)
        finally:
            stop.cancel()
            await self._drain()

    async def _fetch(self) -> list[Update]:
        request = GetUpdates(
            offset=self.offset,
            limit=BATCH,
            timeout=self.timeout,
            allowed_updates=self.allowed_updates,
        )
        # The long poll itself may take `timeout` seconds: the request must outlast it.
        return await self.bot(request, request_timeout=self.timeout + 30)

    def _take(self, updates: list[Update]) -> bool:
        """Start a handler for each update not seen before; whether there was one."""
        confirmed = self.offset
        self._done = {done for done in self._done if done >= confirmed}
        new = False
        for update in updates:
            update_id = update.update_id
            if update_id in self._running or update_id in self._done or update_id < confirmed:
                continue
            new = True
            self._highest = max(self._highest, update_id)
            task = asyncio.create_task(self._serve(update))
            self._running[update_id] = task
        return new

    async def _serve(self, update: Update) -> None:
        update_id = update.update_id
        token = delivery.begin(delivery.Delivery(self.bot_id, update_id))
        try:
            await self.handle(update)
        except asyncio.CancelledError:
            self._cut.add(update_id)  # not handled: left for Telegram to send again
            raise
        except Exception:  # handled, badly: confirmed all the same, or it would come back forever
            log.exception("update %s failed", update_id)
        finally:
            delivery.end(token)
            self._running.pop(update_id, None)
            if update_id not in self._cut:
                self._done.add(update_id)
            self._finished.set()

    async def _wait_finished(self, stop: asyncio.Task[bool], seconds: float | None) -> None:
        self._finished.clear()
        finished = asyncio.create_task(self._finished.wait())
        try:
            await asyncio.wait(
                {finished, stop}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            finished.cancel()

    async def _drain(self) -> None:
        """Stopping: handlers in flight may finish; what does not in time is cancelled and left
        unconfirmed, for the next start to take again."""
        running = list(self._running.values())
        if running:
            log.info("stopping: waiting for %d update(s) being handled", len(running))
            _, late = await asyncio.wait(running, timeout=self.drain_seconds)
            for task in late:
                task.cancel()
            if late:
                log.warning(
                    "stopping: %d update(s) cut off, Telegram will send them again", len(late)
                )
                await asyncio.wait(late, timeout=5.0)
        offset = self.offset  # below the oldest update cut off, if any
        if offset <= 0:
            return
        try:
            await self.bot(GetUpdates(offset=offset, limit=1, timeout=0), request_timeout=10)
        except Exception as error:  # redelivered then, and recognised as handled
            log.warning("could not confirm handled updates: %s", error)
