"""Background work: closing due deals, reminders, delivering the outbox, refreshing deal posts
and the other messages kept current (order cards: groupbuy.live).

What must arrive (deal posts, notices, leader alerts) is in the outbox, written with the change
that owes it; invoices are owed by their order's version (storage.orders: want_invoice). Both are
delivered here, and marked done only once Telegram took them, so a crash or a Telegram that
fails delays them and nothing more. One chat's trouble never holds another's: each chat's
notices go in order in a task of their own, a 429 holds that chat only (bot.sender), and a
failure backs off with jitter (bot.sender.backoff). What cannot be delivered for good (403, 400,
or too many failures) is recorded, and a deal post or invoice that never arrives is reported to
the deal's leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta

from bot.sender import Sender, backoff
from groupbuy.deals import close_due, lapse_due, remind_payers, send_reminders
from groupbuy.live import fingerprint
from groupbuy.model import Deal, Refund
from groupbuy.notices import Notice, NoticeKind, PendingNotice
from groupbuy.slots import remind_slots
from handlers import live, notices, paying
from handlers.actions import Delete, RefundStars, SendInvoice
from handlers.context import Deps
from handlers.deal_post import refreshed_post
from handlers.outgoing import BadRequest, Blocked, Moved, RetryAfter, TelegramError

log = logging.getLogger(__name__)
# A claimed notice whose sender died is taken again after this long. A live sender renews the
# leases of what it is still sending every RENEW_SECONDS (on the first pass after that), so a
# slow chat is never sent twice: not on every pass, which in a burst of presses comes every
# PASS_GAP and would spend a statement each time on leases that have most of their time left.
LEASE_SECONDS = 10
RENEW_SECONDS = 2.5
BATCH = 100
SLOT_BATCH = 20  # pickup slots reminded in one sweep (each a notice per buyer in it)
MAX_IN_FLIGHT = 2000  # notices claimed and not yet finished, at most
# and no more than the send limit lets out in this many seconds: what a process that dies had
# claimed waits for its lease, what it had not claimed goes out at once after the restart.
CLAIM_AHEAD_SECONDS = 4.0
# Between the starts of two passes of the loop, at least. Every update nudges the loop, so in a
# burst it runs at this pace: 0.1 s cost the join burst 7% of its presses per second (the
# passes' statements and their hold on SQLite's one connection), while a notice or an invoice
# that waits up to a quarter second more goes unnoticed beside Telegram's own delivery.
PASS_GAP = 0.25
GROUP_HOLD = 60.0  # seconds a notice to a group the bot may not write in waits, at least
GIVE_UP_AFTER = 12  # failed attempts (5xx, resets) of one item: about half an hour of backoff
REPORT_REFUND_AFTER = 4  # failed attempts of a Stars refund before its deal's leader is told
_UNDELIVERED = {NoticeKind.DEAL_POST: NoticeKind.POST_UNDELIVERED}


class _Retries:
    """When an item that failed may be tried again, in this process: backoff with jitter."""

    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap = base, cap
        self._next: dict[int, tuple[float, int]] = {}  # key -> (monotonic time, failures)

    def due(self, key: int) -> bool:
        entry = self._next.get(key)
        return entry is None or entry[0] <= time.monotonic()

    def failed(self, key: int, wait: float | None = None) -> int:
        """Count a failure (none when `wait` is given: Telegram said how long); the count."""
        failures = self._next.get(key, (0.0, 0))[1] + (0 if wait is not None else 1)
        pause = wait if wait is not None else backoff(failures, self.base, self.cap)
        self._next[key] = (time.monotonic() + pause, failures)
        return failures

    def done(self, key: int) -> None:
        self._next.pop(key, None)


class Background:
    def __init__(
        self,
        deps: Deps,
        sender: Sender,
        post_edit_interval: float,
        on_posted: Callable[[Deal], None] | None = None,
    ) -> None:
        self.deps = deps
        self.sender = sender
        self.post_edit_interval = post_edit_interval
        self.on_posted = on_posted
        self.nudge = asyncio.Event()  # set after any change so the loops run now, not at the tick
        # Notices are read two at a time: a hundred claimed at once would otherwise queue a
        # hundred reads for SQLite's one connection, and every press behind them.
        self._reading = asyncio.Semaphore(2)
        self._last_group_edit: dict[int, float] = {}
        self._last_deal_edit: dict[int, float] = {}
        self._stale_after = 0  # the refresher's cursor over stale posts, by deal id
        self._chats: dict[int, asyncio.Task[None]] = {}  # chats with notices being sent
        self._in_flight: set[int] = set()  # their notices' ids
        self._renewed = -math.inf  # when their leases were last renewed (monotonic)
        self._invoices = _Retries(base=2.0, cap=300.0)
        self._refunds = _Retries(base=30.0, cap=3600.0)  # a refused refund: not a tight loop
        self._redraws = _Retries(base=2.0, cap=300.0)  # live messages, by their first row

    async def sweep(self) -> None:
        """Due deals and reminders; idempotent, so the scheduler may call it at any time."""
        deps = self.deps
        lapsed = await lapse_due(deps.uow, deps.clock)
        payers = await remind_payers(deps.uow, deps.clock, deps.config.pay_reminder_lead)
        closed = await close_due(deps.uow, deps.clock)
        reminded = await send_reminders(deps.uow, deps.clock)
        async with deps.uow() as uow:
            slots = await remind_slots(
                uow, deps.clock.now(), deps.config.slot_reminder_before, SLOT_BATCH
            )
            await uow.commit()
        if closed or reminded or lapsed or payers or slots:
            self.nudge.set()

    # --- the outbox ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._chats)

    async def deliver(self) -> int:
        """Claim due notices and start sending them, each chat's in order; returns how many
        were claimed. Does not wait for them to be sent."""
        now = self.deps.clock.now()
        ahead = max(BATCH, int(self.sender.limits.per_second * CLAIM_AHEAD_SECONDS))
        room = min(MAX_IN_FLIGHT, ahead) - len(self._in_flight)
        renew = time.monotonic() - self._renewed >= RENEW_SECONDS
        async with self.deps.uow() as uow:
            if renew and self._in_flight:
                await uow.outbox.extend(self._in_flight, now + timedelta(seconds=LEASE_SECONDS))
            claimed = (
                await uow.outbox.claim(now, min(BATCH, room), LEASE_SECONDS, self._chats.keys())
                if room > 0
                else []
            )
            await uow.commit()
        if renew:
            self._renewed = time.monotonic()
        by_chat: dict[int, list[PendingNotice]] = {}
        for pending in claimed:
            by_chat.setdefault(pending.notice.chat_id, []).append(pending)
        for chat_id, queue in by_chat.items():
            self._in_flight.update(p.id for p in queue)
            self._chats[chat_id] = asyncio.create_task(self._deliver_chat(chat_id, queue))
        return len(claimed)

    async def _deliver_chat(self, chat_id: int, queue: list[PendingNotice]) -> None:
        try:
            for n, pending in enumerate(queue):
                held = await self._deliver_one(pending)
                if held is not None:  # a 429 for this chat: the rest of its queue waits too
                    await self._later(queue[n + 1 :], held)  # (or it moved: goes again now)
                    break
        finally:
            self._chats.pop(chat_id, None)
            self._in_flight.difference_update(p.id for p in queue)
            self.nudge.set()

    async def _deliver_one(self, pending: PendingNotice) -> float | None:
        """Send one notice and record how it went; the seconds its chat is held, if it is."""
        message_id: int | None = None
        action = None
        try:
            async with self._reading:
                action = await notices.render(self.deps, pending)
            if action is not None:
                message_id = await self.sender.deliver(action)
        except RetryAfter as flood:
            await self._later([pending], flood.seconds)
            return flood.seconds
        except Moved:
            # The group became a supergroup: the sender's hook moved it, this notice and the
            # rest of the chat's queue with it. Sent again, now, to the new id.
            await self._later([pending], 0.0, "the group moved")
            return 0.0
        except (Blocked, BadRequest) as error:
            if isinstance(error, Blocked) and pending.notice.chat_id < 0:
                # The bot is not in the group (the sender's hook recorded it): this notice and
                # the rest of the group's queue wait, unclaimed, until it is back (then they are
                # due at once: bot_standing). Held a while all the same, so that a group the
                # hook could not record is asked again only now and then, never in a loop.
                await self._later([pending], GROUP_HOLD, "the bot may not write in the group")
                return GROUP_HOLD
            # They blocked the bot or never started it, the request was wrong: not retried.
            await self._finish(pending, error.message, undelivered=True)
            return None
        except Exception as error:  # 5xx, a reset, a timeout (or a bug): again, later
            if not isinstance(error, TelegramError):
                log.exception("notice %s failed", pending.id)
            if pending.attempts >= GIVE_UP_AFTER:
                await self._finish(pending, repr(error), undelivered=True)
            else:
                retry_at = self.deps.clock.now() + timedelta(
                    seconds=backoff(pending.attempts, 2.0, 300.0)
                )
                async with self.deps.uow() as uow:
                    await uow.outbox.failed(pending.id, repr(error), retry_at)
                    await uow.commit()
            return None
        posted = action.post_of_deal if action is not None else None
        await self._finish(pending, "", posted=(posted, message_id))
        return None

    async def _later(
        self, pending: list[PendingNotice], seconds: float, why: str = "flood control"
    ) -> None:
        if not pending:
            return
        retry_at = self.deps.clock.now() + timedelta(seconds=seconds)
        async with self.deps.uow() as uow:
            for p in pending:
                await uow.outbox.failed(p.id, why, retry_at, counted=False)
            await uow.commit()

    async def _finish(
        self,
        pending: PendingNotice,
        error: str,
        *,
        undelivered: bool = False,
        posted: tuple[int | None, int | None] = (None, None),
    ) -> None:
        """Done, in one transaction with what it leads to: the post's message recorded (then
        a retry after a lost answer finds the post up), or the leader told it never arrived."""
        now = self.deps.clock.now()
        notice = pending.notice
        deal: Deal | None = None
        async with self.deps.uow() as uow:
            deal_id, message_id = posted
            if deal_id is not None and message_id is not None:
                await uow.deals.set_post(deal_id, notice.chat_id, message_id)
                deal = await uow.deals.get(deal_id)
            if undelivered:
                await uow.outbox.failed(pending.id, error, None)
                alert = _UNDELIVERED.get(notice.kind)
                leader = await uow.deals.get(notice.deal_id) if alert else None
                if alert is not None and leader is not None:
                    owed = Notice(alert, leader.leader_id, leader.id, leader.leader_id)
                    await uow.outbox.add([owed], now)
                    log.warning("deal %s: %s undelivered: %s", leader.id, notice.kind, error)
            else:
                await uow.outbox.sent(pending.id, now)
            await uow.commit()
        if deal is not None and self.on_posted is not None:
            self.on_posted(deal)

    async def release(self) -> None:
        """At shutdown: stop sending, and make what was still being sent due at once for the
        next process (rather than after the lease)."""
        tasks = list(self._chats.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._in_flight:
            async with self.deps.uow() as uow:
                await uow.outbox.extend(self._in_flight, self.deps.clock.now())
                await uow.commit()
            self._in_flight.clear()

    # --- invoices and refunds -----------------------------------------------------------------

    async def issue_invoices(self) -> None:
        """Orders whose amount due changed get one fresh invoice (and lose the old one): a
        resident pressing +1 three times gets one invoice, not three. Marked issued only when
        Telegram took it, or when it never will (then the leader is told)."""
        async with self.deps.uow() as uow:
            wanted = await uow.orders.invoices_wanted(BATCH)
        for order_id, version in wanted:
            if not self._invoices.due(order_id):
                continue
            undelivered = ""
            try:
                actions, token = await paying.invoice_actions(self.deps, order_id)
                for action in actions:
                    if isinstance(action, Delete):
                        with contextlib.suppress(TelegramError):  # an old invoice: best effort
                            await self.sender.deliver(action)
                    elif isinstance(action, SendInvoice) and token is not None:
                        message_id = await self.sender.deliver(action)
                        if message_id is not None:
                            await paying.record_invoice_message(self.deps, token, message_id)
            except RetryAfter as flood:
                self._invoices.failed(order_id, flood.seconds)
                continue
            except (Blocked, BadRequest) as error:
                undelivered = error.message
            except Exception as error:
                if not isinstance(error, TelegramError):
                    log.exception("invoice for order %s", order_id)
                if self._invoices.failed(order_id) < GIVE_UP_AFTER:
                    continue
                undelivered = repr(error)
            self._invoices.done(order_id)
            await self._invoice_done(order_id, version, undelivered)

    async def _invoice_done(self, order_id: int, version: int, undelivered: str) -> None:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            await uow.orders.invoice_issued(order_id, version)
            order = await uow.orders.get(order_id) if undelivered else None
            deal = await uow.deals.get(order.deal_id) if order else None
            if deal is not None:
                log.warning("invoice for order %s undelivered: %s", order_id, undelivered)
                alert = Notice(
                    NoticeKind.INVOICE_UNDELIVERED,
                    deal.leader_id,
                    deal.id,
                    deal.leader_id,
                    order_id,
                )
                await uow.outbox.add([alert], now)
            await uow.commit()

    async def refund_stars(self) -> None:
        """Stars go back through the Bot API; each refund is marked done once Telegram agrees.
        One that Telegram refuses is asked again after a growing pause, not on every pass."""
        async with self.deps.uow() as uow:
            owed = await uow.payments.owed_star_refunds(BATCH)
            charges = {r.id: await uow.payments.get(r.payment_id) for r in owed if r.payment_id}
        for refund in owed:
            charge = charges.get(refund.id)
            if charge is None or charge.charge_id is None or not self._refunds.due(refund.id):
                continue
            try:
                await self.sender.deliver(RefundStars(refund.user_id, charge.charge_id))
            except RetryAfter as flood:
                self._refunds.failed(refund.id, flood.seconds)
                continue
            except Exception as exc:
                if not (isinstance(exc, BadRequest) and "ALREADY_REFUNDED" in exc.message):
                    if not isinstance(exc, TelegramError):
                        log.exception("stars refund %s", refund.id)
                    failures = self._refunds.failed(refund.id)
                    log.warning("stars refund %s refused (%s): %s", refund.id, failures, exc)
                    # Refused (a 400 or 403: the bot's balance, a charge Telegram does not know)
                    # at once; Telegram unavailable after a few tries. Told once (the outbox).
                    if isinstance(exc, BadRequest | Blocked) or failures >= REPORT_REFUND_AFTER:
                        await self._refund_refused(refund)
                    continue
            self._refunds.done(refund.id)
            now = self.deps.clock.now()
            async with self.deps.uow() as uow:
                if await uow.payments.refund_done(refund.id, now):
                    notice = Notice(
                        NoticeKind.REFUND_DONE,
                        refund.user_id,
                        refund.deal_id,
                        refund.user_id,
                        refund.id,
                    )
                    await uow.outbox.add([notice], now)
                await uow.commit()

    async def _refund_refused(self, refund: Refund) -> None:
        """The deal's leader hears that a Stars refund is stuck (once: the outbox's key)."""
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            deal = await uow.deals.get(refund.deal_id)
            if deal is not None:
                notice = Notice(
                    NoticeKind.REFUND_REFUSED, deal.leader_id, deal.id, deal.leader_id, refund.id
                )
                await uow.outbox.add([notice], now)
                await uow.commit()
        self.nudge.set()

    # --- deal posts ---------------------------------------------------------------------------

    async def refresh_posts(self) -> None:
        """Edit stale deal posts, at most one edit per group per interval: edits coalesce (the
        post shows the latest state, however many changes came in between)."""
        async with self.deps.uow() as uow:
            stale = await uow.deals.stale_posts(BATCH, after=self._stale_after)
        # Round all the stale posts, a hundred at a time, not only the lowest-numbered hundred.
        self._stale_after = stale[-1].deal_id if len(stale) == BATCH else 0
        # A deal that just ended goes first (its post still shows Join); then the post edited
        # longest ago, so in a long burst every deal of a group takes its turn.
        stale.sort(key=lambda post: (post.open, self._last_deal_edit.get(post.deal_id, 0.0)))
        limits = self.sender.limits
        for post in stale:
            deal_id, version, chat_id = post.deal_id, post.version, post.chat_id
            # Asked before the post is read and rendered: in a burst every deal of a group is
            # stale on every pass, and only one of them may be edited per interval.
            # (Never edited: -inf, not 0.0, which the monotonic clock of a machine booted less
            # than an interval ago would still be within.)
            last = self._last_group_edit.get(chat_id, -math.inf)
            if time.monotonic() - last < self.post_edit_interval or not limits.has_room(chat_id):
                continue  # an edit moments ago, a 429, or notices going out: a later tick
            edit = await refreshed_post(self.deps, deal_id)
            if edit is None:
                continue
            self._last_group_edit[edit.chat_id] = self._last_deal_edit[deal_id] = time.monotonic()
            try:
                await self.sender.deliver(edit)
            except (RetryAfter, TelegramError) as exc:
                if isinstance(exc, Moved) or (isinstance(exc, Blocked) and chat_id < 0):
                    # The post went with the old chat (posted again: group_moves), or the bot
                    # may not write in the group (edited when it is back: bot_standing).
                    continue
                if not isinstance(exc, Blocked | BadRequest):
                    continue  # 429 (the chat is held), 5xx: still stale, edited again later
                log.warning("could not edit post of deal %s: %s", deal_id, exc.message)
            async with self.deps.uow() as uow:
                await uow.deals.post_synced(deal_id, version)
                await uow.commit()

    # --- messages kept current ------------------------------------------------------------------

    async def refresh_live(self) -> None:
        """Edit the messages whose state changed (groupbuy.live), each as it should look now,
        paced per chat: a chat with no room now is edited on a later pass, with the state of
        then. Drawn the same as last shown: no call to Telegram."""
        async with self.deps.uow() as uow:
            stale = await uow.live.stale(BATCH)
        limits = self.sender.limits
        for message in stale:
            key = message.rows[0].row_id
            if not limits.has_room(message.chat_id) or not self._redraws.due(key):
                continue
            edit = await live.redrawn(self.deps, message)
            shown_hash = "" if edit is None else fingerprint(edit.text, edit.keyboard)
            gone = edit is None
            if edit is not None and shown_hash != message.shown_hash:
                try:
                    await self.sender.deliver(edit)
                except RetryAfter as flood:
                    self._redraws.failed(key, flood.seconds)
                    continue
                except (Blocked, BadRequest) as error:
                    # Deleted by its reader, or they blocked the bot: nothing left to keep.
                    log.info("live message %s not edited: %s", message.message_id, error.message)
                    gone = True
                except TelegramError:
                    self._redraws.failed(key)  # 5xx, a timeout: still stale, again later
                    continue
            self._redraws.done(key)
            async with self.deps.uow() as uow:
                if gone:
                    await uow.live.forget(message.chat_id, message.message_id)
                else:
                    await uow.live.shown(message.rows, shown_hash)
                await uow.commit()

    async def run(self, stop: asyncio.Event, tick: float, gap: float = PASS_GAP) -> None:
        """The delivery and refresh loop: wakes on a nudge or every `tick` seconds, but at most
        once per `gap`: every update nudges it, and in a burst of presses a pass per press
        would take the database from the presses (each pass asks it four things, in units of
        work that hold SQLite's one connection, which group commit needs too)."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            began = loop.time()
            self.nudge.clear()  # before the work, so a nudge during it is not lost
            await self.one_pass()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.nudge.wait(), timeout=tick)
            rest = gap - (loop.time() - began)
            if rest > 0 and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=rest)

    async def one_pass(self) -> None:
        try:
            await self.issue_invoices()
            await self.refund_stars()
            while await self.deliver() == BATCH:
                pass
            await self.refresh_posts()
            await self.refresh_live()
        except Exception:
            log.exception("background loop")

    async def flush(self, seconds: float) -> None:
        """At shutdown: send what is due for at most `seconds`, then hand the rest over."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            await self.one_pass()
            if not self._chats:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.wait(list(self._chats.values())),
                    timeout=max(0.0, min(0.5, deadline - loop.time())),
                )
        await self.release()
