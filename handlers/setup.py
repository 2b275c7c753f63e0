"""Binding a group to a compound: the greeting when the bot is added, and the /setup dialog."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

from groupbuy import limits, parsing
from groupbuy.bot_standing import bot_status_changed
from groupbuy.errors import DomainError, InputError, NotAnswered
from groupbuy.model import Community, DealStatus
from groupbuy.money import is_known_currency
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Answer, Keyboard, Send
from handlers.authority import Caller, as_group_leader
from handlers.callbacks import Callback, Op
from handlers.common import button, link_button, refusal, remember
from handlers.context import Deps
from handlers.events import BotAdded, Chat, MessageIn, Person

STATE = "setup"
_STEPS = ("name", "buildings", "currency", "timezone")


async def _community(deps: Deps, uow: UnitOfWork, chat: Chat, by: Person) -> Community:
    """The group's community, created (not yet set up) the first time we see the group."""
    community = await uow.communities.get(chat.id)
    if community is None:
        community = Community(
            chat_id=chat.id,
            title=chat.title or "",
            currency=deps.config.default_currency,
            timezone=deps.config.default_timezone,
            locale=deps.user_locale(by),
        )
        await uow.communities.save(community)
    return community


async def on_bot_added(deps: Deps, event: BotAdded) -> list[Action]:
    async with deps.uow() as uow:
        await remember(deps, uow, event.by, private=False)
        community = await _community(deps, uow, event.chat, event.by)
        # Added back to a group it had been removed from: its deals' posts are brought up to
        # date, and what was held for the group goes out (groupbuy.bot_standing).
        await bot_status_changed(uow, event.chat.id, event.status, deps.clock.now())
        open_deals = await uow.deals.for_community(event.chat.id, [DealStatus.OPEN], 50)
        await uow.commit()
    deps.members.back_in(event.chat.id)
    if community.configured:
        text = deps.texts.render(community.locale, "bot_back", deals=open_deals)
        return [Send(event.chat.id, text)]
    # The group's admins, recorded now: the setup link below opens a private chat, where only
    # the bot's own record ties a person to a group (handlers.authority.may_lead).
    with contextlib.suppress(DomainError):
        await deps.leaders.is_leader(event.chat.id, event.by.id)
    locale = community.locale
    keyboard = ((link_button(deps, locale, "setup", f"setup_{-event.chat.id}"),),)
    return [
        Send(event.chat.id, deps.texts.render(locale, "greeting", community=community), keyboard)
    ]


async def on_setup_command(deps: Deps, message: MessageIn) -> list[Action]:
    """/setup in the group: an admin continues in private (the answers are not the group's).
    Someone else's /setup is refused before anything is written."""

    async def act(uow: UnitOfWork) -> Community:
        community = await _community(deps, uow, message.chat, message.sender)
        if message.thread_id is not None:  # sent in a forum topic: deals go there by default
            community = community.set_in(message.thread_id)
            await uow.communities.save(community)
        await uow.commit()
        return community

    try:
        community = await as_group_leader(deps, Caller.of(message), message.chat.id, act)
    except DomainError as error:
        async with deps.uow() as uow:
            known = await uow.communities.get(message.chat.id)
        locale = known.locale if known else deps.user_locale(message.sender)
        return [refusal(deps, message.chat.id, locale, error)]
    locale = community.locale
    keyboard = ((link_button(deps, locale, "setup", f"setup_{-message.chat.id}"),),)
    return [Send(message.chat.id, deps.texts.render(locale, "setup_continue"), keyboard)]


async def start(deps: Deps, person: Person, chat_id: int) -> list[Action]:
    """/start setup_<chat> in private: check the person really is an admin of that group."""
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        community = await uow.communities.get(chat_id)
    locale = deps.user_locale(user or person)
    if community is None:
        return [refusal(deps, person.id, locale, DomainError("community_unknown"))]

    async def act(uow: UnitOfWork) -> None:
        await uow.dialogs.save(
            person.id, STATE, {"community": chat_id, "step": "name"}, deps.clock.now()
        )
        await uow.commit()

    try:
        await as_group_leader(deps, Caller.in_private(person), chat_id, act)
    except DomainError as error:
        return [refusal(deps, person.id, locale, error)]
    return [Send(person.id, deps.texts.render(locale, "setup_name", community=community))]


def _ask(deps: Deps, locale: str, chat_id: int, step: str, community: Community) -> Send:
    keyboard: Keyboard = ()
    if step in ("currency", "timezone"):
        keyboard = ((button(deps, locale, "keep", Callback(Op.SKIP)),),)
    return Send(chat_id, deps.texts.render(locale, f"setup_{step}", community=community), keyboard)


def _apply(step: str, text: str, community: Community) -> Community:
    if step == "name":
        return replace(
            community, name=parsing.bounded_text(text, limits.COMMUNITY_NAME_MAX, key="name")
        )
    if step == "buildings":
        return replace(community, buildings=parsing.buildings(text))
    if step == "currency":
        code = text.strip().upper()
        if len(code) != 3 or not is_known_currency(code):
            raise InputError("currency_invalid")
        return replace(community, currency=code)
    parsing.timezone(text)
    return replace(community, timezone=text.strip())


async def answer(
    deps: Deps, person: Person, data: dict[str, Any], value: str | None, query_id: str | None = None
) -> list[Action]:
    actions: list[Action] = [Answer(query_id)] if query_id else []
    chat_id = int(data["community"])
    step = str(data["step"])

    # Authority is checked again at every step (an admin may have been demoted meanwhile), in
    # the unit of work that saves it.
    async def act(uow: UnitOfWork) -> list[Action]:
        user = await uow.users.get(person.id)
        locale = deps.user_locale(user or person)
        community = await uow.communities.get(chat_id)
        if community is None:
            await uow.dialogs.clear(person.id)
            await uow.commit()
            return actions
        try:
            if value is None:
                if step not in ("currency", "timezone"):
                    raise InputError("step_required")
            else:
                community = _apply(step, value, community)
        except DomainError as error:
            return [*actions, refusal(deps, person.id, locale, error)]
        following = _STEPS[_STEPS.index(step) + 1 :]
        if following:
            await uow.communities.save(community)
            await uow.dialogs.save(
                person.id, STATE, {**data, "step": following[0]}, deps.clock.now()
            )
            await uow.commit()
            return [*actions, _ask(deps, locale, person.id, following[0], community)]
        community = replace(community, configured=True)
        await uow.communities.save(community)
        await uow.dialogs.clear(person.id)
        await uow.commit()
        return [
            *actions,
            Send(person.id, deps.texts.render(locale, "setup_done", community=community)),
            Send(
                community.chat_id,
                deps.texts.render(community.locale, "setup_announce", community=community),
            ),
        ]

    try:
        return await as_group_leader(deps, Caller.in_private(person), chat_id, act)
    except NotAnswered as unanswered:  # Telegram could not say: the dialog waits
        return [*actions, refusal(deps, person.id, deps.user_locale(person), unanswered)]
    except DomainError as refused:  # no longer an admin: the dialog ends
        async with deps.uow() as uow:
            user = await uow.users.get(person.id)
            await uow.dialogs.clear(person.id)
            await uow.commit()
        return [*actions, refusal(deps, person.id, deps.user_locale(user or person), refused)]
