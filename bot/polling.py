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

import bot.lean  # noqa: F401  # first: aiogram's types load lazily

# isort: split

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.methods import GetUpdates
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import Update

from bot.chat_turns import ChatTurns
from bot.sender import backoff
from groupbuy import delivery

log = logging.getLogger(__name__)
BATCH = 100  # Telegram's most per getUpdates
RECHECK = 0.1  # seconds: how often to ask while only few new updates could start


class RawUpdates(TelegramMethod[list[Any]]):
    """getUpdates, answered as plain JSON objects. The updates still being handled come back
    with every answer (they are not confirmed): they are recognised by id and skipped, and only
    the new ones are read into aiogram's types, once each (bot.polling.Poller)."""

    __returning__ = list[Any]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


# pydantic keeps a parametrised model only as long as something else refers to it: without this
# reference a garbage collection dropped it, and the next answer built it again (about 1 ms).
ANSWER = Response[list[Any]]

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
        self._waiting = ChatTurns()  # taken, not started (no slot yet): chat by chat in turn
        self._running: dict[int, asyncio.Task[None]] = {}
        self._done: set[int] = set()  # handled, not yet confirmed to Telegram
        self._cut: set[int] = set()  # cancelled by a stop before they were handled
        self._highest = -1  # the highest update id taken
        self._finished = asyncio.Event()  # a handler finished since it was last cleared
        # Ask when an answer can start this many new updates (see _wait_before_asking).
        self._enough = max(1, min(in_flight, BATCH) // 4)
        self._asked_at = -math.inf
        self._quiet_until = -math.inf  # the last answer brought nothing new: not before then

    @property
    def offset(self) -> int:
        """What to confirm: everything below the oldest update not yet handled."""
        oldest = min(self._running.keys() | self._cut, default=self._highest + 1)
        waiting = self._waiting.oldest()
        if waiting is not None:
            oldest = min(oldest, waiting)
        return oldest

    async def run(self, stopping: asyncio.Event) -> None:
        """Polls until `stopping` is set, then lets handlers finish (`drain_seconds` at most)
        and confirms what was handled."""
        stop = asyncio.create_task(stopping.wait())
        stop.add_done_callback(lambda _: self._finished.set())  # wakes _wait_finished
        failures = 0
        try:
            while not stopping.is_set():
                wait = self._wait_before_asking()
                if wait > 0:
                    await self._wait_finished(stop, wait)
                    continue
                self._asked_at = self._now()
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
                    await asyncio.wait({stop}, timeout=pause)
                    continue
                failures = 0
                if not self._take(updates) and self._running:
                    # Only updates still being handled came back: asking again at once would
                    # bring the same ones, as fast as Telegram answers.
                    self._quiet_until = self._now() + RECHECK
                self._start_waiting()
        finally:
            stop.cancel()
            await self._drain()

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _wait_before_asking(self) -> float:
        """How long to wait (for a handler to finish at most) before asking Telegram for more;
        0: ask now.

        Every answer brings the taken updates not yet confirmed first (those from the oldest
        one still running on) and new ones only after them, up to a getUpdates' worth. Asking
        whenever a slot was free read each update about five times over in a burst (230 calls
        for 3,000 presses; in a tight loop while one handler was slow): it asks when the answer
        can start a fair number of new updates (`_enough`), and otherwise no more often than
        every RECHECK seconds, so that one slow handler never holds the others' updates back
        for longer than that (77 calls for the same burst)."""
        if self._waiting:
            return math.inf  # the next slot to free up goes to them
        offset = self.offset
        backlog = len(self._running) + sum(1 for done in self._done if done >= offset)
        room = min(self.in_flight - len(self._running), BATCH - backlog)
        if room < 1:
            return math.inf  # an answer could start nothing new
        if not self._running:
            return 0.0  # nothing comes back but new updates: a long poll
        now = self._now()
        ready = self._quiet_until
        if room < self._enough:
            ready = max(ready, self._asked_at + RECHECK)
        return max(0.0, ready - now)

    async def _fetch(self) -> list[Any]:
        request = RawUpdates(
            offset=self.offset,
            limit=BATCH,
            timeout=self.timeout,
            allowed_updates=self.allowed_updates,
        )
        # The long poll itself may take `timeout` seconds: the request must outlast it.
        return await self.bot(request, request_timeout=self.timeout + 30)

    def _take(self, updates: list[Any]) -> int:
        """Queue the updates not seen before, in order (Telegram answers in order); how many."""
        confirmed = self.offset
        self._done = {done for done in self._done if done >= confirmed}
        new = 0
        for raw in updates:
            update_id = int(raw["update_id"])
            if update_id <= self._highest or update_id < confirmed:
                continue  # taken before: waiting, running or done
            self._highest = update_id
            self._waiting.append(raw)
            new += 1
        return new

    def _start_waiting(self) -> None:
        """Start waiting updates while a slot is free (as a semaphore would, without a task
        per update parked on it)."""
        while self._waiting and len(self._running) < self.in_flight:
            raw = self._waiting.popleft()
            # Only now is it read into aiogram's types: once per update, however often it came.
            update = Update.model_validate(raw, context={"bot": self.bot})
            self._running[update.update_id] = asyncio.create_task(self._serve(update))

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
                self._start_waiting()
            if not self._waiting:
                # Only now may asking Telegram bring something (while updates wait for a slot,
                # the one just freed went to the next of them): wake the loop.
                self._finished.set()

    async def _wait_finished(self, stop: asyncio.Task[bool], timeout: float) -> None:
        """Until a handler finishes (and nothing waits for a slot), the stop or `timeout`
        seconds: `stop` sets the same event (run), so no task is made per wait."""
        self._finished.clear()
        if stop.done():
            return
        if math.isinf(timeout):
            await self._finished.wait()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._finished.wait(), timeout)

    async def _drain(self) -> None:
        """Stopping: the updates already taken are handled (those waiting for a slot start as
        slots free up), for `drain_seconds` at most; what is not done by then is cancelled and
        left unconfirmed, for the next start to take again."""
        if self._running or self._waiting:
            log.info(
                "stopping: handling the %d update(s) taken",
                len(self._running) + len(self._waiting),
            )
        deadline = asyncio.get_running_loop().time() + self.drain_seconds
        while self._running:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            await asyncio.wait(list(self._running.values()), timeout=left)
        # Never started: Telegram sends them again. One may be older than every update that
        # ran (the chats take turns), so the offset must stay below it.
        self._cut.update(int(raw["update_id"]) for raw in self._waiting)
        self._waiting.clear()
        late = list(self._running.values())
        for task in late:
            task.cancel()
        if late:
            log.warning("stopping: %d update(s) cut off, Telegram will send them again", len(late))
            await asyncio.wait(late, timeout=5.0)
        offset = self.offset  # below the oldest update cut off, if any
        if offset <= 0:
            return
        try:
            await self.bot(GetUpdates(offset=offset, limit=1, timeout=0), request_timeout=10)
        except Exception as error:  # redelivered then, and recognised as handled
            log.warning("could not confirm handled updates: %s", error)
