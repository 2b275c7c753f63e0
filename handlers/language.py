"""/lang: English or Simplified Chinese, for a person in private or for the group (leaders)."""

from __future__ import annotations

from dataclasses import replace

from groupbuy.errors import DomainError
from groupbuy.model import Community
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Answer, Send
from handlers.authority import Caller, as_leader_of_group
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, remember
from handlers.context import Deps
from handlers.events import MessageIn, Press
from messages.i18n import LOCALES


async def command(deps: Deps, message: MessageIn) -> list[Action]:
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=message.chat.is_private)
        community = None if message.chat.is_private else await uow.communities.get(message.chat.id)
        await uow.commit(mark=False)
    locale = deps.community_locale(community) if community else deps.user_locale(user)
    keyboard = (
        tuple(
            button(deps, locale, f"lang_{code}", Callback(Op.LANG, 0, i))
            for i, code in enumerate(LOCALES)
        ),
    )
    return [Send(message.chat.id, deps.texts.render(locale, "lang_choose"), keyboard)]


async def on_choice(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    if not 0 <= cb.arg < len(LOCALES):
        return [Answer(press.query_id)]
    chosen = LOCALES[cb.arg]
    async with deps.uow() as uow:
        user = await remember(deps, uow, press.sender, private=press.chat.is_private)
        if press.chat.is_private:
            await uow.users.set_locale(user.id, chosen)
            await uow.commit()
            deps.people.forget(user.id)
        else:  # the effect comes after the leader check below, with the update's mark
            await uow.commit(mark=False)
    if not press.chat.is_private:

        async def act(uow: UnitOfWork, community: Community) -> None:
            await uow.communities.save(replace(community, locale=chosen))
            await uow.commit()

        try:  # the group the /lang question was asked in, which the presser must lead
            await as_leader_of_group(deps, Caller.of(press), act)
        except DomainError as error:
            return [alert(deps, press.query_id, deps.user_locale(user), error)]
    text = deps.texts.render(chosen, "lang_set")
    return [Answer(press.query_id), Send(press.chat.id, text)]
