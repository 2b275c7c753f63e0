"""Background work: closing due deals, reminders, delivering the outbox, refreshing deal posts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from datetime import timedelta

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from bot.telegram import Performer
from groupbuy.deals import close_due, lapse_due, remind_payers, send_reminders
from groupbuy.notices import Notice, NoticeKind, PendingNotice
from handlers import notices, paying
from handlers.actions import RefundStars
from handlers.context import Deps
from handlers.deal_post import refreshed_post

log = logging.getLogger(__name__)
LEASE_SECONDS = 120
BATCH = 100


class Background:
    def __init__(self, deps: Deps, performer: Performer, post_edit_interval: float) -> None:
        self.deps = deps
        self.performer = performer
        self.post_edit_interval = post_edit_interval
        self.nudge = asyncio.Event()  # set after any change so the loops run now, not at the tick
        # Notices are read two at a time: a hundred claimed at once would otherwise queue a
        # hundred reads for SQLite's one connection, and every press behind them.
        self._reading = asyncio.Semaphore(2)
        self._last_group_edit: dict[int, float] = {}
        self._last_deal_edit: dict[int, float] = {}
        self._stale_after = 0  # the refresher's cursor over stale posts, by deal id

    async def sweep(self) -> None:
        """Due deals and reminders; idempotent, so the scheduler may call it at any time."""
        deps = self.deps
        lapsed = await lapse_due(deps.uow, deps.clock)
        payers = await remind_payers(deps.uow, deps.clock, deps.config.pay_reminder_lead)
        closed = await close_due(deps.uow, deps.clock)
        reminded = await send_reminders(deps.uow, deps.clock)
        if closed or reminded or lapsed or payers:
            self.nudge.set()

    async def deliver(self) -> int:
        """Send what the outbox owes; a notice is marked sent only after Telegram took it."""
        async with self.deps.uow() as uow:
            claimed = await uow.outbox.claim(self.deps.clock.now(), BATCH, LEASE_SECONDS)
            await uow.commit()
        if claimed:
            await asyncio.gather(*(self._deliver_one(p) for p in claimed))
        return len(claimed)

    async def _deliver_one(self, pending: PendingNotice) -> None:
        now = self.deps.clock.now()
        retry_at: timedelta | None = None
        error = ""
        try:
            async with self._reading:
                action = await notices.render(self.deps, pending)
            if action is not None:
                await self.performer.one(action)
        except TelegramForbiddenError as exc:
            error = exc.message  # they never started the bot or blocked it: not retried
        except TelegramBadRequest as exc:
            error = exc.message
        except Exception as exc:  # network trouble, 429 after retries: try again later
            log.exception("notice %s failed", pending.id)
            error = repr(exc)
            retry_at = timedelta(seconds=min(600, 10 * 2**pending.attempts))
        async with self.deps.uow() as uow:
            if error:
                await uow.outbox.failed(pending.id, error, now + retry_at if retry_at else None)
            else:
                await uow.outbox.sent(pending.id, now)
            await uow.commit()

    async def issue_invoices(self) -> None:
        """Orders whose amount due changed get one fresh invoice (and lose the old one): a
        resident pressing +1 three times gets one invoice, not three."""
        async with self.deps.uow() as uow:
            wanted = await uow.orders.invoices_wanted(BATCH)
        for order_id, version in wanted:
            try:
                actions, _ = await paying.invoice_actions(self.deps, order_id)
                await self.performer.perform(actions)
            except Exception:
                log.exception("invoice for order %s", order_id)
            async with self.deps.uow() as uow:
                await uow.orders.invoice_issued(order_id, version)
                await uow.commit()

    async def refund_stars(self) -> None:
        """Stars go back through the Bot API; each refund is marked done once Telegram agrees."""
        async with self.deps.uow() as uow:
            owed = await uow.payments.owed_star_refunds(BATCH)
            charges = {r.id: await uow.payments.get(r.payment_id) for r in owed if r.payment_id}
        for refund in owed:
            charge = charges.get(refund.id)
            if charge is None or charge.charge_id is None:
                continue
            try:
                await self.performer.one(RefundStars(refund.user_id, charge.charge_id))
            except TelegramBadRequest as exc:
                if "ALREADY_REFUNDED" not in exc.message:
                    log.warning("stars refund %s: %s", refund.id, exc.message)
                    continue
            except Exception:
                log.exception("stars refund %s", refund.id)
                continue
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

    async def refresh_posts(self) -> None:
        """Edit stale deal posts, at most one edit per group per interval: edits coalesce."""
        async with self.deps.uow() as uow:
            stale = await uow.deals.stale_posts(BATCH, after=self._stale_after)
        # Round all the stale posts, a hundred at a time, not only the lowest-numbered hundred.
        self._stale_after = stale[-1].deal_id if len(stale) == BATCH else 0
        # A deal that just ended goes first (its post still shows Join); then the post edited
        # longest ago, so in a long burst every deal of a group takes its turn.
        stale.sort(key=lambda post: (post.open, self._last_deal_edit.get(post.deal_id, 0.0)))
        for post in stale:
            deal_id, version, chat_id = post.deal_id, post.version, post.chat_id
            # Asked before the post is read and rendered: in a burst every deal of a group is
            # stale on every pass, and only one of them may be edited per interval.
            # (Never edited: -inf, not 0.0, which the monotonic clock of a machine booted less
            # than an interval ago would still be within.)
            last = self._last_group_edit.get(chat_id, -math.inf)
            if time.monotonic() - last < self.post_edit_interval:
                continue  # this group had an edit moments ago; the next tick catches up
            edit = await refreshed_post(self.deps, deal_id)
            if edit is None:
                continue
            self._last_group_edit[edit.chat_id] = self._last_deal_edit[deal_id] = time.monotonic()
            try:
                await self.performer.one(edit)
            except TelegramBadRequest as exc:
                log.warning("could not edit post of deal %s: %s", deal_id, exc.message)
            async with self.deps.uow() as uow:
                await uow.deals.post_synced(deal_id, version)
                await uow.commit()

    async def run(self, stop: asyncio.Event, tick: float, gap: float = 0.1) -> None:
        """The delivery and refresh loop: wakes on a nudge or every `tick` seconds, but at most
        once per `gap`: every update nudges it, and in a burst of presses a pass per press
        would take the database from the presses (each pass asks it four things)."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            began = loop.time()
            self.nudge.clear()  # before the work, so a nudge during it is not lost
            try:
                await self.issue_invoices()
                await self.refund_stars()
                while await self.deliver() == BATCH:
                    pass
                await self.refresh_posts()
            except Exception:
                log.exception("background loop")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.nudge.wait(), timeout=tick)
            rest = gap - (loop.time() - began)
            if rest > 0 and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=rest)
