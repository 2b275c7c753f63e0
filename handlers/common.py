"""Small pieces every conversation module shares."""

from __future__ import annotations

from groupbuy.errors import DomainError
from groupbuy.model import User
from groupbuy.ports import UnitOfWork
from handlers.actions import Answer, Button, Send
from handlers.callbacks import Callback
from handlers.context import Deps
from handlers.events import Person


async def remember(deps: Deps, uow: UnitOfWork, person: Person, *, private: bool) -> User:
    """Record who we are talking to; a private message means they have started the bot.

    Most updates come from people whose Telegram profile has not changed since the last one: the
    recent ones are kept in memory so a press does not rewrite the same row every time."""
    known = deps.people.get(person, private)
    if known is not None:
        return known
    user = await uow.users.seen(
        User(
            id=person.id,
            first_name=person.first_name,
            last_name=person.last_name,
            username=person.username,
            language_code=person.language_code,
            started=private,
        )
    )
    # Only once the row is in the database: a press that is refused rolls it back.
    uow.after_commit(lambda: deps.people.keep(person, user))
    return user


async def remembered(deps: Deps, person: Person, *, private: bool) -> User:
    """`remember` in a unit of work of its own, for handlers that must ask Telegram before
    their effect. Its commit does not carry the update (groupbuy.delivery): it may be done
    twice, and the effect that follows must still happen if the process dies in between."""
    async with deps.uow() as uow:
        user = await remember(deps, uow, person, private=private)
        await uow.commit(mark=False)
    return user


async def locale_of(deps: Deps, person: Person) -> str:
    """The language to refuse in when the refusal came before the person was recorded (the
    unit of work that would have rolled back): the one they chose, if the bot knows it."""
    known = deps.people.get(person, private=False)
    if known is None:
        async with deps.uow() as uow:
            known = await uow.users.get(person.id)
    return deps.user_locale(known or person)


def error_text(deps: Deps, locale: str, error: DomainError) -> str:
    if deps.texts.has_macro("errors", error.key):
        return deps.texts.macro(locale, "errors", error.key, **error.params)
    return deps.texts.macro(locale, "errors", "generic")


def refusal(deps: Deps, chat_id: int, locale: str, error: DomainError) -> Send:
    """A rule said no to something typed: the reason, as a message in that chat."""
    return Send(
        chat_id,
        deps.texts.render(locale, "error", message=error_text(deps, locale, error)),
        personal=True,
    )


def alert(deps: Deps, query_id: str, locale: str, error: DomainError) -> Answer:
    return Answer(query_id, error_text(deps, locale, error), alert=True)


def button(deps: Deps, locale: str, label: str, cb: Callback, **context: object) -> Button:
    return Button(deps.texts.macro(locale, "labels", label, **context), data=cb.pack())


def link_button(deps: Deps, locale: str, label: str, payload: str, **context: object) -> Button:
    return Button(deps.texts.macro(locale, "labels", label, **context), url=deps.deep_link(payload))
