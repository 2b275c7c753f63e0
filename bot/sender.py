"""Every call to Telegram passes here: its rate limits, its errors, and retries that back off.

Framework-neutral: it speaks handlers.outgoing's `Telegram` protocol and its error types; the
aiogram adapter is in bot/telegram.py. Two kinds of traffic go out:

- direct answers to a person's own press or command (`Sender.perform`): sent at once, within the
  pacing of their chat; a 5xx or reset is retried once, a 429 waited out once (in that chat
  only). Nothing is written for them: if they are lost, the person presses again.
- what must arrive (deal posts, invoices, notices, leader alerts) goes through the outbox, and
  bot/background.py delivers it with `Sender.deliver`, which raises instead of waiting so the
  deliverer can put the one item back (a held chat, a backoff) and go on with the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiolimiter import AsyncLimiter

from groupbuy.model import BotStatus
from handlers.actions import (
    Action,
    Answer,
    AnswerPreCheckout,
    Delete,
    Edit,
    Later,
    RefundStars,
    Send,
    SendDocument,
    SendInvoice,
)
from handlers.outgoing import (
    BadRequest,
    Blocked,
    Moved,
    RetryAfter,
    Telegram,
    TelegramError,
    Unavailable,
)

log = logging.getLogger(__name__)
_MAX_CHATS = 5000  # per-chat limiters kept; old ones are dropped (they are only timing state)
DIRECT_FLOOD_WAIT = 10.0  # a direct answer waits out a 429 this long at most, then is dropped
PRE_CHECKOUT_BUDGET = 9.0  # Telegram cancels the payment 10 s after asking


def backoff(attempt: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter (AWS's 'full jitter'): retries of many items that
    failed together do not come back together."""
    return random.uniform(base / 2, min(cap, base * 2 ** max(0, attempt - 1)))


class RateLimits:
    """Token buckets (overall, per private chat, per group) and the chats Telegram told to wait."""

    def __init__(
        self, per_second: float, private_per_second: float, group_per_minute: float
    ) -> None:
        # Buckets a fraction of the period long: the same rates without letting a whole period's
        # worth go at once (a one-second bucket refilling while it drained sent 49 in a second).
        self._all = AsyncLimiter(max(1.0, per_second / 5), 0.2)
        self.per_second = per_second
        self._private_rate = private_per_second
        self._group_rate = group_per_minute
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        self._held: dict[int, float] = {}  # chat -> monotonic time its 429 ends

    def _for(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = (
                AsyncLimiter(max(1.0, self._group_rate / 6), 10.0)
                if chat_id < 0
                else AsyncLimiter(self._private_rate, 1.0)
            )
            self._chats[chat_id] = limiter
            if len(self._chats) > _MAX_CHATS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429 for this chat: nothing more goes to it for `seconds`."""
        until = time.monotonic() + seconds
        self._held[chat_id] = max(until, self._held.get(chat_id, 0.0))

    def held(self, chat_id: int) -> float:
        """Seconds until this chat may be written to again (0: now)."""
        until = self._held.get(chat_id)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self._held[chat_id]
            return 0.0
        return left

    def has_room(self, chat_id: int) -> bool:
        """Could a message go to this chat now, without waiting?"""
        return self.held(chat_id) == 0 and self._for(chat_id).has_capacity()

    async def acquire(self, chat_id: int) -> None:
        while (wait := self.held(chat_id)) > 0:
            await asyncio.sleep(wait)
        async with self._for(chat_id):
            pass
        async with self._all:
            pass


OnMoved = Callable[[int, int], Awaitable[None]]
OnForbidden = Callable[[int, BotStatus], Awaitable[None]]
# What Telegram says to a bot that may no longer send messages in a group (restricted).
_MUTED = "not enough rights to send"
OnTopicGone = Callable[[int, int], Awaitable[None]]
OnShown = Callable[[Send | Edit, int], Awaitable[None]]
# What Telegram says of a forum topic that was closed or deleted.
_TOPIC_GONE = ("TOPIC_CLOSED", "TOPIC_DELETED", "thread not found")


class Sender:
    def __init__(
        self,
        telegram: Telegram,
        limits: RateLimits,
        retry_pause: float = 0.3,
        on_moved: OnMoved | None = None,
        on_forbidden: OnForbidden | None = None,
        on_topic_gone: OnTopicGone | None = None,
        on_shown: OnShown | None = None,
    ) -> None:
        """`on_moved(old, new)`: Telegram answered that a group moved to a new chat id (it
        became a supergroup); `on_forbidden(group)`: it answered 403 for a group (the bot is
        not in it, or may not write there). Each is called before the error is raised.
        `on_topic_gone(group, topic)`: a forum topic was closed or deleted; called before the
        message goes to the group's General instead. `on_shown(action, message_id)`: a direct
        Send or Edit that shows something kept current (its `live`) went out."""
        self.telegram = telegram
        self.limits = limits
        self.retry_pause = retry_pause
        self.on_moved = on_moved
        self.on_forbidden = on_forbidden
        self.on_topic_gone = on_topic_gone
        self.on_shown = on_shown
        self._later: dict[int, asyncio.Task[None]] = {}  # the last long answer, per chat
        self._sending: set[asyncio.Task[None]] = set()

    def perform_later(self, later: Later) -> None:
        """A long answer (a pickup list) sent in the background, in order, after what went to
        the same chat this way before, each part made as it is sent; the update that asked
        for it is done meanwhile. `finish_later` gives what is still on its way a last moment
        at a stop."""
        chat = later.chat_id
        task = asyncio.create_task(self._after(self._later.get(chat), later))
        self._later[chat] = task
        self._sending.add(task)
        task.add_done_callback(lambda done: self._forget(chat, done))

    async def _after(self, before: asyncio.Task[None] | None, later: Later) -> None:
        if before is not None:
            await asyncio.wait({before})  # its outcome is its own: logged there
        try:
            for part in later.parts():
                await self.perform([part])
        except Exception:  # perform logs Telegram's refusals; anything else ends here
            log.exception("a long answer to %s failed while being sent", later.chat_id)

    def _forget(self, chat: int, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if self._later.get(chat) is task:
            del self._later[chat]

    async def finish_later(self, seconds: float) -> None:
        """Stopping: what `perform_later` is still sending gets `seconds`, then is cut off (a
        list cut off is drawn and sent again when the leader asks again)."""
        if not self._sending:
            return
        _, late = await asyncio.wait(set(self._sending), timeout=seconds)
        for task in late:
            task.cancel()
        if late:
            log.warning("stopping: %d answer(s) cut off while being sent", len(late))
            await asyncio.wait(late, timeout=5.0)

    async def perform(self, actions: list[Action]) -> None:
        """Direct answers, in order. A failure is logged, never raised: the rest still go."""
        for action in actions:
            if isinstance(action, Later):
                self.perform_later(action)
                continue
            try:
                if isinstance(action, AnswerPreCheckout):
                    await self.pre_checkout(action)
                else:
                    message_id = await self._direct(action)
                    if isinstance(action, Send | Edit) and action.live is not None:
                        shown = action.message_id if isinstance(action, Edit) else message_id
                        if shown is not None:
                            await self._shown(action, shown)
            except Blocked as error:
                log.info("cannot write to %s: %s", getattr(action, "chat_id", "?"), error.message)
            except TelegramError as error:
                log.warning("Telegram refused %s: %s", type(action).__name__, error.message)

    async def _shown(self, action: Send | Edit, message_id: int) -> None:
        if self.on_shown is None:
            return
        try:
            await self.on_shown(action, message_id)
        except Exception:  # the message is out; only keeping it current failed
            log.exception("could not record message %s as shown", message_id)

    async def _direct(self, action: Action) -> int | None:
        for attempt in (1, 2):
            try:
                return await self.deliver(action, wait=True)
            except Unavailable:
                if attempt == 2:
                    raise
                await asyncio.sleep(self.retry_pause * random.uniform(0.5, 1.5))
            except RetryAfter as flood:
                chat = getattr(action, "chat_id", None)
                if chat is not None:
                    self.limits.hold(chat, flood.seconds)
                if attempt == 2 or flood.seconds > DIRECT_FLOOD_WAIT:
                    raise
                if chat is None:
                    await asyncio.sleep(flood.seconds)
            except BadRequest:
                if isinstance(action, Delete):
                    return None  # already gone, or too old to delete: nothing to do
                raise
        return None

    async def deliver(self, action: Action, *, wait: bool = False) -> int | None:
        """One call; the message's id for what sends one. `wait=False` (the outbox): a chat
        held by a 429 raises RetryAfter at once instead of waiting for it."""
        try:
            return await self._deliver(action, wait)
        except Moved as moved:
            old = getattr(action, "chat_id", None)
            if self.on_moved is not None and old is not None:
                await self.on_moved(old, moved.to_chat_id)
            raise
        except Blocked:
            chat = getattr(action, "chat_id", None)
            if self.on_forbidden is not None and chat is not None and chat < 0:
                # A group (a person's chat id is positive): the bot is not in it any more.
                await self.on_forbidden(chat, BotStatus.KICKED)
            raise
        except BadRequest as refused:
            chat = getattr(action, "chat_id", None)
            if chat is not None and chat < 0 and _MUTED in refused.message:
                # Muted in the group: the same as not being in it, for what is owed to it.
                if self.on_forbidden is not None:
                    await self.on_forbidden(chat, BotStatus.MUTED)
                raise Blocked(refused.message) from refused
            if not (
                isinstance(action, Send)
                and action.thread_id is not None
                and any(sign in refused.message for sign in _TOPIC_GONE)
            ):
                raise
            if self.on_topic_gone is not None:
                await self.on_topic_gone(action.chat_id, action.thread_id)
            return await self._deliver(replace(action, thread_id=None), wait)  # General

    async def _deliver(self, action: Action, wait: bool) -> int | None:
        telegram = self.telegram
        if isinstance(action, Answer):
            await telegram.answer(action)
            return None
        if isinstance(action, AnswerPreCheckout):
            await telegram.answer_pre_checkout(action)
            return None
        if isinstance(action, RefundStars):
            await telegram.refund_stars(action)
            return None
        if isinstance(action, Delete):
            await telegram.delete(action)
            return None
        if not wait and (held := self.limits.held(action.chat_id)) > 0:
            raise RetryAfter(held, "chat held by an earlier 429")
        await self.limits.acquire(action.chat_id)
        try:
            if isinstance(action, Send):
                return await telegram.send(action)
            if isinstance(action, Edit):
                await telegram.edit(action)
                return None
            if isinstance(action, SendInvoice):
                return await telegram.invoice(action)
            assert isinstance(action, SendDocument)
            return await telegram.document(action)
        except RetryAfter as flood:
            self.limits.hold(action.chat_id, flood.seconds)
            raise

    async def pre_checkout(self, action: AnswerPreCheckout) -> None:
        """Answered within Telegram's 10 seconds: never paced, retried on 429 and 5xx while
        there is time. (A person's other updates never hold it: bot/runtime.py.)"""
        deadline = time.monotonic() + PRE_CHECKOUT_BUDGET
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.telegram.answer_pre_checkout(action)
                return
            except (Unavailable, RetryAfter) as error:
                left = deadline - time.monotonic()
                pause = (
                    error.seconds
                    if isinstance(error, RetryAfter)
                    else min(2.0, 0.2 * 2 ** (attempt - 1))
                )
                if pause >= left:
                    # Waiting the whole retry_after would miss the window: one try just before.
                    pause = left - 0.5
                if pause <= 0:
                    raise
                log.warning("pre-checkout answer failed (%s), again in %.1fs", error, pause)
                await asyncio.sleep(pause)
