"""The pickup-list worker: a process of its own that reads and draws the leaders' lists.

Why a process: drawing a 10,000-order list is about a second of pure Python (fpdf2, fontTools,
Jinja) and of C calls that hold the GIL for up to ~140 ms at a time. In a thread of the bot's
process it starved the event loop: neighbours' presses waited 200–600 ms while a leader's list
was drawn (bench.closing, issue 13). In a process of its own it runs on the machine's other
core, and the bot's loop only waits for the finished bytes.

The worker reads the database itself, with its own engine on the same URL (SQLite's WAL lets it
read while the bot writes; PostgreSQL gives it its own connection), so no rows cross between the
processes. It keeps the lists it drew (handlers.drawn_lists.DrawnLists) and draws again only
when something a list shows has changed. It starts with the first list (spawned: a clean
interpreter, with no threads or connections inherited from the bot) and stops after
`idle_seconds` without one, giving its memory back.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TypeVar

from handlers import pickup_list
from handlers.drawn_lists import Drawn, DrawnLists
from messages.render import Renderer
from storage.engine import make_engine, make_sessions
from storage.group_commit import can_group_commit
from storage.unit_of_work import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
R = TypeVar("R")
IDLE_SECONDS = 300.0


def can_share(url: str) -> bool:
    """Whether another process can open this database: not an in-memory SQLite one."""
    return not url.startswith("sqlite") or can_group_commit(url)


class _Drawing:
    """The worker process's side: its own event loop, engine, texts and kept lists."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = make_engine(url)
        self.uow = SqlUnitOfWorkFactory(make_sessions(self.engine))
        self.texts = Renderer()
        self.kept = DrawnLists()

    def draw(self, deal_id: int, locale: str, now: datetime) -> Drawn | None:
        return self.loop.run_until_complete(self._draw(deal_id, locale, now))

    async def _draw(self, deal_id: int, locale: str, now: datetime) -> Drawn | None:
        async with self.uow() as uow:
            found = await pickup_list.read(uow, deal_id)
        if found is None:
            return None
        return pickup_list.draw(self.texts, self.kept, locale, found, now)

    def workbook(self, deal_id: int, locale: str, now: datetime) -> bytes | None:
        return self.loop.run_until_complete(self._workbook(deal_id, locale, now))

    async def _workbook(self, deal_id: int, locale: str, now: datetime) -> bytes | None:
        async with self.uow() as uow:
            found = await pickup_list.read(uow, deal_id)
        if found is None:
            return None
        return pickup_list.draw_workbook(self.texts, self.kept, locale, found, now)


_drawing: _Drawing | None = None  # in the worker process


@contextlib.contextmanager
def uncollected() -> Iterator[None]:
    """The garbage collector off while a list is drawn, and one pass over what the drawing
    made, after. A 10,000-order list makes about a million objects that live until it is
    done (rows, layouts, strings, fpdf2's), and the collector's passes over them, again and
    again as they piled up, were a fifth of drawing the PDF (bench.closing). With the
    collector off they all stay in the youngest generation, so the one pass after is over
    them alone (a few milliseconds), not over the whole process. For the worker process
    only: it does nothing else meanwhile."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def _start(url: str) -> None:
    global _drawing
    _drawing = _Drawing(url)
    gc.freeze()  # modules and settings: never garbage, never looked at again


def _draw(deal_id: int, locale: str, now: datetime) -> Drawn | None:
    assert _drawing is not None, "the worker was not started"
    with uncollected():
        return _drawing.draw(deal_id, locale, now)


def _draw_workbook(deal_id: int, locale: str, now: datetime) -> bytes | None:
    assert _drawing is not None, "the worker was not started"
    with uncollected():
        return _drawing.workbook(deal_id, locale, now)


class ListWorker:
    """The bot's side: a `handlers.drawn_lists.Drawer` that hands each list to the worker."""

    def __init__(self, url: str, idle_seconds: float = IDLE_SECONDS) -> None:
        self._url = url
        self._idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._idle: asyncio.TimerHandle | None = None
        self.started = 0  # how many worker processes were started (tests, diagnostics)

    async def __call__(self, deal_id: int, locale: str, now: datetime) -> Drawn | None:
        return await self._in_worker(_draw, deal_id, locale, now)

    async def workbook(self, deal_id: int, locale: str, now: datetime) -> bytes | None:
        return await self._in_worker(_draw_workbook, deal_id, locale, now)

    async def _in_worker(
        self, job: Callable[[int, str, datetime], R], deal_id: int, locale: str, now: datetime
    ) -> R:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self._busy += 1
        try:
            try:
                return await asyncio.wrap_future(self._ready().submit(job, deal_id, locale, now))
            except BrokenProcessPool:
                # The worker died (killed, out of memory): once more, in a new one.
                log.warning("the pickup-list worker died; starting another")
                self._stop()
                return await asyncio.wrap_future(self._ready().submit(job, deal_id, locale, now))
        finally:
            self._busy -= 1
            if self._busy == 0 and self._pool is not None:
                self._idle = asyncio.get_running_loop().call_later(self._idle_seconds, self._stop)

    def _ready(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(self._url,),
            )
            self.started += 1
        return self._pool

    def _stop(self) -> None:
        self._idle = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    @property
    def running(self) -> bool:
        return self._pool is not None

    def close(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        with contextlib.suppress(Exception):
            self._stop()
