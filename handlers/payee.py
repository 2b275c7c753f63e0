"""Pay-the-leader mode: a leader says, in private, how neighbours pay them: transfer details as
text, a photo of their collection code (收款码), or both. Buyers see them with what they owe."""

from __future__ import annotations

from typing import Any

from groupbuy import limits, parsing
from groupbuy.errors import DomainError, NotAllowed, NotAnswered
from groupbuy.model import Community
from groupbuy.payments import set_payee
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Answer, Keyboard, Send
from handlers.authority import Caller, as_group_leader, led_communities
from handlers.callbacks import Callback, Op
from handlers.common import button, link_button, refusal, remember, remembered
from handlers.context import Deps
from handlers.events import MessageIn, Person

STATE = "payee"
KEEP, REMOVE = 0, 1  # the dialog's buttons (Op.SKIP's argument)


def link(community: Community) -> str:
    """The deep link that opens the dialog for a group (/start payee_<chat>)."""
    return f"payee_{-community.chat_id}"


async def command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/payee: in the group, a leader continues in private (a photo and a phone number are not
    the group's to see being typed); in private, straight to the group they lead, or a choice."""
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    locale = deps.user_locale(user)
    if message.chat.is_private:
        try:
            led = await led_communities(deps, message.sender)
        except DomainError as error:
            return [refusal(deps, message.chat.id, locale, error)]
        if len(led) == 1:
            return await start(deps, message.sender, led[0].chat_id)
        keyboard = tuple(
            (link_button(deps, locale, "group_named", link(c), title=c.name or c.title),)
            for c in led
        )
        return [Send(message.chat.id, deps.texts.render(locale, "payee_which", led=led), keyboard)]

    async def act(uow: UnitOfWork) -> Community:
        community = await uow.communities.get(message.chat.id)
        if community is None:
            raise DomainError("community_unknown")
        return community

    try:
        community = await as_group_leader(deps, Caller.of(message), message.chat.id, act)
    except DomainError as error:
        return [refusal(deps, message.chat.id, locale, error)]
    group_locale = deps.community_locale(community)
    keyboard = ((link_button(deps, group_locale, "continue_private", link(community)),),)
    text = deps.texts.render(group_locale, "payee_continue")
    return [Send(message.chat.id, text, keyboard, thread_id=message.thread_id)]


async def start(deps: Deps, person: Person, chat_id: int) -> list[Action]:
    """The dialog, for a group the person leads (checked now, and again when they answer)."""
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
    locale = deps.user_locale(user or person)

    async def act(uow: UnitOfWork) -> Community:
        community = await uow.communities.get(chat_id)
        if community is None:
            raise DomainError("community_unknown")
        await uow.dialogs.save(person.id, STATE, {"community": chat_id}, deps.clock.now())
        await uow.commit()
        return community

    try:
        community = await as_group_leader(deps, Caller.in_private(person), chat_id, act)
    except DomainError as error:
        return [refusal(deps, person.id, locale, error)]
    keyboard: Keyboard = ((button(deps, locale, "keep", Callback(Op.SKIP, 0, KEEP)),),)
    if community.payee or community.payee_photo:
        keyboard = (
            (
                button(deps, locale, "keep", Callback(Op.SKIP, 0, KEEP)),
                button(deps, locale, "payee_remove", Callback(Op.SKIP, 0, REMOVE)),
            ),
        )
    text = deps.texts.render(locale, "payee_ask", community=community)
    return [Send(person.id, text, keyboard, photo_file_id=community.payee_photo)]


async def answer(
    deps: Deps,
    person: Person,
    data: dict[str, Any],
    text: str,
    photo: str | None,
    *,
    choice: int | None = None,
    query_id: str | None = None,
) -> list[Action]:
    """Text: the details. A photo: the collection code (its caption, if any: the details).
    `choice`: a button, KEEP (nothing changes) or REMOVE (both go)."""
    actions: list[Action] = [Answer(query_id)] if query_id else []
    chat_id = int(data["community"])

    async def act(uow: UnitOfWork) -> tuple[str, Community | None]:
        user = await remember(deps, uow, person, private=True)
        locale = deps.user_locale(user)
        community = await uow.communities.get(chat_id)
        if community is None or choice == KEEP:
            await uow.dialogs.clear(person.id)
            await uow.commit()
            return locale, None
        if choice == REMOVE:
            payee, photo_id = "", None
        elif photo is not None:
            details = parsing.bounded_text(text, limits.PAYEE_MAX, key="payee") if text else None
            payee, photo_id = details or community.payee, photo
        else:
            payee = parsing.bounded_text(text, limits.PAYEE_MAX)
            photo_id = community.payee_photo
        updated = await set_payee(uow, community, payee, photo_id)
        await uow.dialogs.clear(person.id)
        await uow.commit()
        return locale, updated

    try:  # checked again as it is saved: a leader demoted meanwhile saves nothing
        locale, updated = await as_group_leader(deps, Caller.in_private(person), chat_id, act)
    except NotAnswered as unanswered:  # Telegram could not say: the dialog waits
        return [*actions, refusal(deps, person.id, deps.user_locale(person), unanswered)]
    except DomainError as refused:  # bad input (the dialog waits), or no longer a leader
        async with deps.uow() as uow:
            user = await uow.users.get(person.id)
            if isinstance(refused, NotAllowed):
                await uow.dialogs.clear(person.id)
                await uow.commit()
        return [*actions, refusal(deps, person.id, deps.user_locale(user or person), refused)]
    if updated is None:
        return [*actions, Send(person.id, deps.texts.render(locale, "payee_kept"))]
    text = deps.texts.render(locale, "payee_saved", community=updated)
    return [*actions, Send(person.id, text, photo_file_id=updated.payee_photo)]
