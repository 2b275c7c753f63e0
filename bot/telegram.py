"""The aiogram adapter: Telegram updates into handlers' events, handlers' actions into Bot calls."""

from __future__ import annotations

import bot.lean  # noqa: F401  # first: aiogram's types load lazily

# isort: split

import logging
from collections.abc import Awaitable
from typing import TypeVar

from aiogram import Bot, methods
from aiogram import types as tg
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.methods.base import Response
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    WebAppInfo,
)

from groupbuy.model import BotStatus
from groupbuy.transaction_guard import refuse_inside
from handlers.actions import (
    Answer,
    AnswerPreCheckout,
    Button,
    Delete,
    Edit,
    Keyboard,
    RefundStars,
    Send,
    SendDocument,
    SendInvoice,
)
from handlers.events import (
    BotAdded,
    BotStanding,
    Chat,
    GroupMoved,
    MessageIn,
    PaymentIn,
    Person,
    PreCheckout,
    Press,
)
from handlers.outgoing import (
    BadRequest,
    Blocked,
    Moved,
    RetryAfter,
    TelegramError,
    Unavailable,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
ANONYMOUS_ADMIN_BOT = 1087968824  # Telegram's GroupAnonymousBot


def person(user: tg.User) -> Person:
    return Person(user.id, user.first_name, user.last_name, user.username, user.language_code)


def chat(c: tg.Chat) -> Chat:
    return Chat(c.id, c.type, c.title, c.username)


def message_in(message: tg.Message) -> MessageIn | GroupMoved | None:
    moved = group_moved(message)
    if moved is not None:
        return moved
    if message.from_user is None:
        return None
    anonymous = (
        message.from_user.id == ANONYMOUS_ADMIN_BOT
        and message.sender_chat is not None
        and message.sender_chat.id == message.chat.id
    )
    photo = message.photo[-1].file_id if message.photo else None
    paid = message.successful_payment
    payment = (
        PaymentIn(
            currency=paid.currency,
            total_amount=paid.total_amount,
            payload=paid.invoice_payload,
            charge_id=paid.telegram_payment_charge_id,
            provider_charge_id=paid.provider_payment_charge_id or None,
        )
        if paid
        else None
    )
    return MessageIn(
        chat=chat(message.chat),
        sender=person(message.from_user),
        message_id=message.message_id,
        text=message.text or message.caption or "",
        photo_file_id=photo,
        anonymous_admin=anonymous,
        payment=payment,
        sender_chat_id=message.sender_chat.id if message.sender_chat else None,
        thread_id=topic_of(message),
        forwarded=message.forward_origin is not None,
    )


def topic_of(message: tg.Message) -> int | None:
    """The forum topic a message is in; None for General, or a group without topics."""
    return message.message_thread_id if message.is_topic_message else None


def group_moved(message: tg.Message) -> GroupMoved | None:
    """The service message of a basic group that became a supergroup, from either side."""
    by = person(message.from_user) if message.from_user else Person(0, "")
    if message.migrate_to_chat_id:
        return GroupMoved(message.chat.id, message.migrate_to_chat_id, by)
    if message.migrate_from_chat_id:
        return GroupMoved(message.migrate_from_chat_id, message.chat.id, by)
    return None


def pre_checkout(query: tg.PreCheckoutQuery) -> PreCheckout:
    return PreCheckout(
        query.id, person(query.from_user), query.currency, query.total_amount, query.invoice_payload
    )


def press(query: tg.CallbackQuery) -> Press | None:
    message = query.message
    if message is None or not isinstance(message, tg.Message) or query.data is None:
        return None
    return Press(
        query.id,
        person(query.from_user),
        chat(message.chat),
        message.message_id,
        query.data,
        topic_of(message),
    )


def is_member_status(member: tg.ResultChatMemberUnion | tg.ChatMemberUnion) -> bool:
    """Telegram's answer about someone in a group: are they in it now?"""
    if isinstance(member, tg.ChatMemberRestricted):
        return member.is_member
    return member.status in ("creator", "administrator", "member")


def bot_status(member: tg.ChatMemberUnion) -> BotStatus:
    """The bot's standing in a group, from what Telegram says of it."""
    if isinstance(member, tg.ChatMemberRestricted):
        if not member.is_member:
            return BotStatus.LEFT
        return BotStatus.MEMBER if member.can_send_messages else BotStatus.MUTED
    if member.status in ("creator", "administrator"):
        return BotStatus.ADMINISTRATOR
    if member.status == ChatMemberStatus.MEMBER:
        return BotStatus.MEMBER
    return BotStatus.KICKED if member.status == ChatMemberStatus.KICKED else BotStatus.LEFT


def bot_member_update(update: tg.ChatMemberUpdated, bot_id: int) -> BotAdded | BotStanding | None:
    """my_chat_member: the bot added to a group (a greeting), or its standing there changed."""
    if update.new_chat_member.user.id != bot_id or update.chat.type == "private":
        return None
    was = bot_status(update.old_chat_member)
    now = bot_status(update.new_chat_member)
    if was in (BotStatus.KICKED, BotStatus.LEFT) and now.can_post:
        return BotAdded(chat(update.chat), person(update.from_user), now)
    if was is now:
        return None
    return BotStanding(chat(update.chat), person(update.from_user), now)


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[_button(b) for b in row] for row in keyboard])


def _button(b: Button) -> InlineKeyboardButton:
    if b.web_app is not None:
        return InlineKeyboardButton(text=b.text, web_app=WebAppInfo(url=b.web_app))
    if b.url is not None:
        return InlineKeyboardButton(text=b.text, url=b.url)
    return InlineKeyboardButton(text=b.text, callback_data=b.data)


# The Bot API methods we call. aiogram checks each response as `Response[<its result type>]`, a
# pydantic generic made on first use: for Message that is a ~0.2 s build, which used to land on
# the first notice of a burst. Made at start instead, and kept, as pydantic's cache of generics
# is weak. (The result types themselves are built when aiogram is loaded: bot/lean_types.py.)
_CALLED = (
    methods.AnswerCallbackQuery,
    methods.AnswerPreCheckoutQuery,
    methods.DeleteMessage,
    methods.EditMessageText,
    methods.GetChatAdministrators,
    methods.GetChatMember,
    methods.RefundStarPayment,
    methods.SendDocument,
    methods.SendInvoice,
    methods.SendMessage,
    methods.SendPhoto,
)
_BUILT: list[object] = []


def build_response_types() -> None:
    if not _BUILT:
        _BUILT.extend(Response[m.__returning__] for m in _CALLED)  # type: ignore[name-defined]


def _error(error: TelegramAPIError) -> TelegramError:
    """aiogram's exception, as the project's own (handlers.outgoing)."""
    if isinstance(error, TelegramMigrateToChat):
        return Moved(error.migrate_to_chat_id, error.message)
    if isinstance(error, TelegramRetryAfter):
        return RetryAfter(float(error.retry_after), error.message)
    if isinstance(error, TelegramForbiddenError):
        return Blocked(error.message)
    if isinstance(error, TelegramBadRequest | TelegramNotFound | TelegramEntityTooLarge):
        return BadRequest(error.message)
    # 5xx (TelegramServerError), a network failure, a timeout or reset (TelegramNetworkError),
    # 401 and 409 (another bot process): Telegram may or may not have done it; asked again.
    return Unavailable(f"{type(error).__name__}: {error.message}")


class AiogramTelegram:
    """handlers.outgoing.Telegram through one aiogram Bot: the only place that knows aiogram's
    methods and exceptions. Each call is refused inside an open unit of work."""

    def __init__(self, bot: Bot, provider_token: str) -> None:
        self.bot = bot
        self.provider_token = provider_token

    async def _call(self, name: str, call: Awaitable[T]) -> T:
        refuse_inside(name)
        try:
            return await call
        except TelegramAPIError as error:
            raise _error(error) from error
        except (ClientDecodeError, TimeoutError, OSError) as error:
            # Not JSON (a proxy's error page), or below aiogram: a socket that gave up.
            raise Unavailable(repr(error)) from error

    async def send(self, action: Send) -> int:
        bot, keyboard = self.bot, markup(action.keyboard)
        if action.venue is not None:
            venue = action.venue
            sent = await self._call(
                "sendVenue",
                bot.send_venue(
                    action.chat_id,
                    venue.latitude,
                    venue.longitude,
                    venue.title,
                    venue.address,
                    reply_markup=keyboard,
                    message_thread_id=action.thread_id,
                ),
            )
        elif action.photo_file_id or action.photo_upload:
            photo = action.photo_file_id or BufferedInputFile(
                action.photo_upload or b"", filename="pass.png"
            )
            sent = await self._call(
                "sendPhoto",
                bot.send_photo(
                    action.chat_id,
                    photo,
                    caption=action.text,
                    reply_markup=keyboard,
                    message_thread_id=action.thread_id,
                ),
            )
        else:
            sent = await self._call(
                "sendMessage",
                bot.send_message(
                    action.chat_id,
                    action.text,
                    reply_markup=keyboard,
                    message_thread_id=action.thread_id,
                ),
            )
        return sent.message_id

    async def edit(self, action: Edit) -> None:
        try:
            await self._call(
                "editMessageText",
                self.bot.edit_message_text(
                    text=action.text,
                    chat_id=action.chat_id,
                    message_id=action.message_id,
                    reply_markup=markup(action.keyboard),
                ),
            )
        except BadRequest as error:
            if "message is not modified" not in error.message:
                raise  # else the message already shows this: nothing to do

    async def answer(self, action: Answer) -> None:
        await self._call(
            "answerCallbackQuery",
            self.bot.answer_callback_query(
                action.query_id, text=action.text, show_alert=action.alert, url=action.url
            ),
        )

    async def answer_pre_checkout(self, action: AnswerPreCheckout) -> None:
        await self._call(
            "answerPreCheckoutQuery",
            self.bot.answer_pre_checkout_query(
                action.query_id, ok=action.error is None, error_message=action.error
            ),
        )

    async def invoice(self, action: SendInvoice) -> int:
        stars = action.currency == "XTR"  # Stars take no provider token
        sent = await self._call(
            "sendInvoice",
            self.bot.send_invoice(
                chat_id=action.chat_id,
                title=action.title,
                description=action.description,
                payload=action.payload,
                currency=action.currency,
                prices=[tg.LabeledPrice(label=label, amount=amt) for label, amt in action.prices],
                provider_token=None if stars else self.provider_token,
            ),
        )
        return sent.message_id

    async def document(self, action: SendDocument) -> int:
        document = BufferedInputFile(action.content, filename=action.filename)
        sent = await self._call(
            "sendDocument",
            self.bot.send_document(
                action.chat_id,
                document,
                caption=action.caption or None,
                reply_markup=markup(action.keyboard),
            ),
        )
        return sent.message_id

    async def delete(self, action: Delete) -> None:
        await self._call(
            "deleteMessage", self.bot.delete_message(action.chat_id, action.message_id)
        )

    async def refund_stars(self, action: RefundStars) -> None:
        await self._call(
            "refundStarPayment", self.bot.refund_star_payment(action.user_id, action.charge_id)
        )

    async def admins(self, chat_id: int) -> frozenset[int]:
        members = await self._call(
            "getChatAdministrators", self.bot.get_chat_administrators(chat_id)
        )
        return frozenset(m.user.id for m in members)

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return is_member_status(
            await self._call("getChatMember", self.bot.get_chat_member(chat_id, user_id))
        )
