"""The composition root: wires settings, storage, texts, the aiogram bot and background work.

Its life: start, take updates (bot.polling: each confirmed to Telegram only once handled), and
on `stop()` (SIGTERM, SIGINT: bot/cli.py) stop taking, let the handlers in flight finish, send
what is due for a few seconds more, and close. Nothing is lost by a stop or a crash: what was
not handled comes again and is applied once (groupbuy.delivery), what was not sent is still in
the outbox (bot/background.py).
"""

from __future__ import annotations

import bot.lean  # noqa: F401  # first: aiogram's types load lazily

# isort: split

import asyncio
import contextlib
import gc
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any
from weakref import WeakValueDictionary

from aiogram import Bot, Dispatcher
from aiogram import types as tg
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import LinkPreviewOptions
from aiohttp import web

from bot import mini_app
from bot.background import Background
from bot.leaders import CachedLeaders
from bot.list_worker import ListWorker, can_share
from bot.members import CachedMembers
from bot.polling import Poller
from bot.reach import reach
from bot.scheduler import DealScheduler
from bot.sender import RateLimits, Sender
from bot.settings import Settings, check_token
from bot.telegram import (
    AiogramTelegram,
    bot_member_update,
    build_response_types,
    is_member_status,
    message_in,
    pre_checkout,
    press,
)
from groupbuy import delivery, pickup_pass
from groupbuy.clock import Clock, SystemClock
from groupbuy.model import BotStatus
from groupbuy.ports import UnitOfWork
from handlers import bot_standing, group_moves, live, router, topics
from handlers.actions import Action, Answer, AnswerPreCheckout, Delete, Edit, Send
from handlers.context import Config, Deps, KnownPeople
from handlers.events import (
    BotAdded,
    BotStanding,
    GroupMoved,
    Incoming,
    MessageIn,
    PreCheckout,
    Press,
    serial_key,
)
from messages.render import Renderer
from storage import handled, schema_version
from storage.engine import make_engine, make_sessions
from storage.group_commit import GroupCommit, can_group_commit
from storage.transient import again_if_transient
from storage.unit_of_work import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
DRAIN_SECONDS = 20.0  # a stop waits this long for the handlers in flight
FLUSH_SECONDS = 5.0  # and then sends what is due this long; the rest waits in the outbox
PRUNE_EVERY = 3600.0  # seconds between prunings of the handled-update record


async def _mark(uow: UnitOfWork) -> None:
    await uow.commit()  # nothing but the update's mark (groupbuy.delivery)


class Runtime:
    """One bot process. `run()` polls until `stop()`; tests start it against the emulator."""

    def __init__(
        self, settings: Settings, clock: Clock | None = None, *, serve_web: bool = True
    ) -> None:
        """`serve_web=False`: the scanner's routes are served by whoever runs this (the
        sandbox mounts them on its own page's server: bot.mini_app.routes)."""
        self.settings = settings
        self.serve_web = serve_web
        self.clock = clock or SystemClock()
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()
        # Dialog state lives in our database (handlers/), so aiogram's FSM is not used; without
        # it no per-update FSM context is resolved.
        self.dispatcher = Dispatcher(disable_fsm=True)
        self.deps: Deps | None = None
        self.background: Background | None = None
        self.web_addresses: list[Any] = []  # where the scanner is served (bot/mini_app.py)

    def _bot(self) -> Bot:
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.settings.telegram_api_base))
        return Bot(
            check_token(self.settings.bot_token),
            session=session,
            default=DefaultBotProperties(
                parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
            ),
        )

    async def run(self) -> None:
        settings = self.settings
        engine = make_engine(settings.database_url)
        if not await schema_version.is_current(engine):
            from storage.migrate import upgrade_async  # Alembic, only when there is work for it

            await upgrade_async(settings.database_url)
        # SQLite has one writer: the presses of a burst are written together (see
        # storage/group_commit.py). PostgreSQL writes them side by side instead.
        writer = GroupCommit(engine) if can_group_commit(settings.database_url) else None
        # Pickup lists are drawn in a process of their own, off this event loop's core.
        drawer = ListWorker(settings.database_url) if can_share(settings.database_url) else None
        bot = self._bot()
        try:
            me = await reach(bot, settings.telegram_api_base, self.stopping)
            if me is None:  # stopped before the Bot API ever answered
                return
            build_response_types()
            texts = Renderer()
            sessions = make_sessions(engine)
            uow = SqlUnitOfWorkFactory(sessions)
            telegram = AiogramTelegram(bot, settings.payment_provider_token)

            async def record_admins(chat_id: int, user_ids: frozenset[int]) -> None:
                async with uow() as work:
                    await work.communities.record_admins(chat_id, user_ids, self.clock.now())
                    await work.commit(mark=False)  # a lookup's record, not the update's effect

            deps = Deps(
                uow=uow,
                clock=self.clock,
                texts=texts,
                leaders=CachedLeaders(
                    telegram.admins, settings.admin_cache_seconds, self.clock, record_admins
                ),
                members=CachedMembers(
                    telegram.is_member, self.clock, settings.member_cache_seconds
                ),
                people=KnownPeople(self.clock),
                writer=writer,
                drawer=drawer,
                config=Config(
                    bot_username=me.username or "",
                    default_locale=settings.default_locale,
                    default_timezone=settings.timezone,
                    default_currency=settings.default_currency,
                    reminder_before=timedelta(minutes=settings.reminder_before_minutes),
                    slot_reminder_before=timedelta(minutes=settings.slot_reminder_minutes),
                    online_payments=bool(settings.payment_provider_token),
                    pass_key=pickup_pass.key_from_token(settings.bot_token),
                    scanner_url=mini_app.address(settings.public_url),
                ),
            )
            self.deps = deps
            limits = RateLimits(
                settings.send_per_second, settings.private_per_second, settings.group_per_minute
            )

            async def moved(old: int, new: int) -> None:
                await group_moves.on_moved_answer(deps, old, new)

            async def forbidden(chat_id: int, status: BotStatus) -> None:
                await bot_standing.on_forbidden_answer(deps, chat_id, status)

            async def topic_gone(chat_id: int, thread_id: int) -> None:
                await topics.on_topic_gone(deps, chat_id, thread_id)

            async def shown(action: Send | Edit, message_id: int) -> None:
                # A resident's new order card replaces the older ones: only one stays current.
                for old in await live.record(deps, action, message_id):
                    await sender.perform([Delete(action.chat_id, old)])

            sender = Sender(
                telegram,
                limits,
                on_moved=moved,
                on_forbidden=forbidden,
                on_topic_gone=topic_gone,
                on_shown=shown,
            )
            scheduler: DealScheduler | None = None

            def posted(deal: Any) -> None:  # its post is up: the deal's timers may start
                if scheduler is not None:
                    scheduler.schedule(deal)

            background = Background(deps, sender, settings.post_edit_interval, posted)
            self.background = background
            scheduler = DealScheduler(self.clock, background.sweep, settings.sweep_seconds)
            self.scheduler = scheduler
            async with uow() as work:
                scheduler.start(await work.deals.open_deals())
            self._wire(me.id, deps, sender, background)
            done_sending = asyncio.Event()
            loop_task = asyncio.create_task(
                background.run(done_sending, min(1.0, max(0.05, settings.post_edit_interval)))
            )
            prune_task = asyncio.create_task(self._prune(sessions))
            await bot.delete_webhook(drop_pending_updates=False)
            # What start-up made (aiogram's and pydantic's type machinery, templates, catalogues)
            # lives as long as the process: moved out of the collector's sight, a full collection
            # no longer walks it. It took ~200 ms each time, a pause every press then waited for.
            gc.collect()
            gc.freeze()
            poller = Poller(
                bot,
                me.id,
                lambda update: self.dispatcher.feed_update(bot, update),
                # A burst waits in Telegram's queue rather than as thousands of tasks here:
                # memory stays flat and each press is answered soon after it is taken.
                in_flight=settings.updates_in_flight,
                timeout=10,
                drain_seconds=DRAIN_SECONDS,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
            # The leaders' scanner, where the bot has a public address to serve it from.
            serving = settings.public_url and self.serve_web
            web_runner = await self._serve_mini_app(deps) if serving else None
            self.ready.set()
            try:
                await poller.run(self.stopping)
            finally:
                self.stopping.set()
                if web_runner is not None:
                    await web_runner.cleanup()
                scheduler.shutdown()
                prune_task.cancel()
                done_sending.set()
                background.nudge.set()
                await loop_task
                await sender.finish_later(FLUSH_SECONDS)
                await background.flush(FLUSH_SECONDS)
        finally:
            await bot.session.close()
            if drawer is not None:
                drawer.close()
            if writer is not None:
                await writer.close()
            await engine.dispose()

    async def _serve_mini_app(self, deps: Deps) -> web.AppRunner:
        runner = web.AppRunner(mini_app.application(deps, self.settings.bot_token))
        await runner.setup()
        await web.TCPSite(runner, self.settings.web_host, self.settings.web_port).start()
        self.web_addresses = list(runner.addresses)
        return runner

    async def stop(self) -> None:
        """Stop taking updates; `run()` then finishes what it has and returns."""
        self.stopping.set()

    async def _prune(self, sessions: Any) -> None:
        """Handled-update records older than Telegram could send an update again go."""
        while True:
            try:
                async with sessions() as session:
                    await handled.prune(session, self.clock.now())
                    await session.commit()
            except Exception:
                log.exception("pruning handled updates")
            await asyncio.sleep(PRUNE_EVERY)

    def _wire(self, bot_id: int, deps: Deps, sender: Sender, background: Background) -> None:
        dp = self.dispatcher
        # Updates are handled concurrently; one person's updates must still be taken in order
        # (a dialog answer typed right after another), so each person has a lock.
        locks: WeakValueDictionary[tuple[int, int], asyncio.Lock] = WeakValueDictionary()

        async def handled(event: Incoming) -> list[Action]:
            """The handler's answers, once the update is recorded as handled: its effect's
            commit recorded it, or (an update that changed nothing) a commit of its own."""
            # A deadlock with another update's transaction rolled it back: handled again, as
            # long as none of its effects was committed before (its mark would say so).
            current = delivery.current()
            actions = await again_if_transient(
                lambda: router.handle(deps, event),
                event,
                repeatable=lambda: current is None or not current.marked,
            )
            if current is not None and not current.marked:
                await deps.write(_mark)
            return actions

        async def serve(
            event: Incoming | None, fallback_chat: int | None, query_id: str | None
        ) -> None:
            if event is None:
                return
            who = (
                event.by.id
                if isinstance(event, BotAdded | BotStanding | GroupMoved)
                else event.sender.id
            )
            # Only members see a private group's messages: whoever writes or presses there is
            # one (someone posting as the group or as a channel is not a person: the sender is
            # Telegram's stand-in). Service messages ("… left the group") are not counted.
            if (
                isinstance(event, Press)
                or (isinstance(event, MessageIn) and event.text and event.sender_chat_id is None)
            ) and event.chat.members_only:
                deps.members.note(event.chat.id, who, True)
            key = serial_key(event)
            lock = locks.get(key)
            if lock is None:
                lock = asyncio.Lock()
                locks[key] = lock
            async with lock:
                try:
                    actions = await handled(event)
                except delivery.AlreadyHandled:
                    # Telegram sent it again (a crash before it was confirmed, a retry): it
                    # changes nothing, and only a press's spinner still wants an answer.
                    log.info("update handled before: %r", event)
                    actions = [Answer(query_id)] if query_id is not None else []
                except Exception:
                    # One place for every handler failure: logged with the update, answered.
                    log.exception("handler failed for %r", event)
                    actions = self._apology(deps, event, fallback_chat, query_id)
                if isinstance(event, MessageIn | Press) and event.thread_id is not None:
                    # Typed or pressed in a forum topic: answered there, not in General.
                    actions = [_in_topic(a, event.chat.id, event.thread_id) for a in actions]
                await sender.perform(actions)
            background.nudge.set()

        @dp.message()
        async def on_message(message: tg.Message) -> None:
            await serve(message_in(message), message.chat.id, None)

        @dp.callback_query()
        async def on_callback(query: tg.CallbackQuery) -> None:
            event = press(query)
            if event is None:
                await sender.perform([Answer(query.id)])
                return
            await serve(event, None, query.id)

        @dp.pre_checkout_query()
        async def on_pre_checkout(query: tg.PreCheckoutQuery) -> None:
            # Telegram cancels the payment 10 s after asking: answered from the database alone,
            # outside the person's lock (their earlier presses may still be answered) and every
            # pacing queue, retried within the window (bot.sender). It changes nothing, so it
            # is not recorded: asked again, it is answered again.
            event = pre_checkout(query)
            try:
                actions = await router.handle(deps, event)
            except Exception:
                log.exception("pre-checkout failed for %r", event)
                actions = self._apology(deps, event, None, None)
            await sender.perform(actions)

        @dp.chat_member()
        async def on_member_change(update: tg.ChatMemberUpdated) -> None:
            # Someone joined, left, was promoted or demoted (Telegram tells bots that are admins):
            # the known list and the record follow, without asking Telegram.
            new = update.new_chat_member
            deps.leaders.note(
                update.chat.id, new.user.id, new.status in ("creator", "administrator")
            )
            deps.members.note(update.chat.id, new.user.id, is_member_status(new))
            with contextlib.suppress(delivery.AlreadyHandled):
                async with deps.uow() as work:
                    await work.communities.record_admin(
                        update.chat.id,
                        new.user.id,
                        new.status in ("creator", "administrator"),
                        self.clock.now(),
                    )
                    await work.commit()

        @dp.my_chat_member()
        async def on_member(update: tg.ChatMemberUpdated) -> None:
            deps.leaders.forget(update.chat.id)
            await serve(bot_member_update(update, bot_id), None, None)

    def _apology(
        self, deps: Deps, event: Incoming, chat_id: int | None, query_id: str | None
    ) -> list[Action]:
        sender: Any = getattr(event, "sender", None)
        locale = deps.user_locale(sender)
        text = deps.texts.macro(locale, "errors", "generic")
        if isinstance(event, PreCheckout):  # unanswered, Telegram would keep the payer waiting
            return [AnswerPreCheckout(event.query_id, text)]
        if query_id is not None:
            return [Answer(query_id, text, alert=True)]
        if chat_id is not None:
            return [Send(chat_id, deps.texts.render(locale, "generic_error"))]
        return []


def _in_topic(action: Action, chat_id: int, thread: int) -> Action:
    """A message to the chat an update came from goes to the forum topic it came from."""
    if isinstance(action, Send) and action.chat_id == chat_id and action.thread_id is None:
        return replace(action, thread_id=thread)
    return action
