"""The leader's scanner (a Telegram Mini App, bot/mini_app.py): a pickup pass read from a
buyer's QR code hands the order out, as /pickup with the pass does in private.

The Mini App's request names its person only through Telegram's signed init data, checked
before this is called; from there the person is a leader or not exactly as in a chat: the same
command, in their private chat, with the same checks (handlers.leading.pickup_command)."""

from __future__ import annotations

from groupbuy.errors import DomainError
from handlers import leading
from handlers.actions import Action, Button, Keyboard, Send
from handlers.authority import led_communities
from handlers.common import refusal, remembered
from handlers.context import Deps
from handlers.events import Chat, MessageIn, Person


async def scanned(deps: Deps, person: Person, text: str) -> str:
    """What the bot would answer the pass sent in private: the order handed out, or why not
    (Telegram HTML, as in a chat)."""
    message = MessageIn(Chat(person.id, "private"), person, message_id=0, text=text)
    answers = await leading.pickup_command(deps, message, text)
    return "\n\n".join(a.text for a in answers if isinstance(a, Send))


async def command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/scan in private: the button that opens the scanner, where the bot has a public HTTPS
    address (Telegram opens Mini Apps from no other); without one, how to verify meanwhile."""
    user = await remembered(deps, message.sender, private=True)
    locale = deps.user_locale(user)
    try:
        if not await led_communities(deps, message.sender):
            raise DomainError("leaders_only")  # the scanner is for those who hand out
    except DomainError as error:
        return [refusal(deps, message.chat.id, locale, error)]
    url = deps.config.scanner_url
    if not url:
        return [Send(message.chat.id, deps.texts.render(locale, "scan_unavailable"))]
    label = deps.texts.macro(locale, "labels", "open_scanner")
    keyboard: Keyboard = ((Button(label, web_app=f"{url}?lang={locale}"),),)
    return [Send(message.chat.id, deps.texts.render(locale, "scan_open"), keyboard)]
