"""The aiogram adapter: Telegram updates into handlers' events, handlers' actions into Bot calls."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot, methods
from aiogram import types as tg
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods.base import Response
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.sender import RateLimits, not_modified, with_retries
from groupbuy.transaction_guard import refuse_inside
from handlers.actions import (
    Action,
    Answer,
    AnswerPreCheckout,
    Delete,
    Edit,
    Keyboard,
    RefundStars,
    Send,
    SendInvoice,
)
from handlers.events import BotAdded, Chat, MessageIn, PaymentIn, Person, PreCheckout, Press

log = logging.getLogger(__name__)
ANONYMOUS_ADMIN_BOT = 1087968824  # Telegram's GroupAnonymousBot
PostRecorder = Callable[[int, int, int], Awaitable[None]]
InvoiceRecorder = Callable[[str, int], Awaitable[None]]


def person(user: tg.User) -> Person:
    return Person(user.id, user.first_name, user.last_name, user.username, user.language_code)


def chat(c: tg.Chat) -> Chat:
    return Chat(c.id, c.type, c.title, c.username)


def message_in(message: tg.Message) -> MessageIn | None:
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
    )


def pre_checkout(query: tg.PreCheckoutQuery) -> PreCheckout:
    return PreCheckout(
        query.id, person(query.from_user), query.currency, query.total_amount, query.invoice_payload
    )


def press(query: tg.CallbackQuery) -> Press | None:
    message = query.message
    if message is None or not isinstance(message, tg.Message) or query.data is None:
        return None
    return Press(
        query.id, person(query.from_user), chat(message.chat), message.message_id, query.data
    )


def is_member_status(member: tg.ResultChatMemberUnion | tg.ChatMemberUnion) -> bool:
    """Telegram's answer about someone in a group: are they in it now?"""
    if isinstance(member, tg.ChatMemberRestricted):
        return member.is_member
    return member.status in ("creator", "administrator", "member")


def bot_added(update: tg.ChatMemberUpdated, bot_id: int) -> BotAdded | None:
    was = update.old_chat_member.status
    now = update.new_chat_member.status
    if update.new_chat_member.user.id != bot_id or update.chat.type == "private":
        return None
    if was in ("left", "kicked") and now in ("member", "administrator"):
        return BotAdded(chat(update.chat), person(update.from_user))
    return None


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=b.text, callback_data=b.data)
                if b.url is None
                else InlineKeyboardButton(text=b.text, url=b.url)
                for b in row
            ]
            for row in keyboard
        ]
    )


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


class Performer:
    """Carries out actions through one aiogram Bot, within Telegram's limits."""

    def __init__(
        self,
        bot: Bot,
        limits: RateLimits,
        record_post: PostRecorder,
        record_invoice: InvoiceRecorder,
        provider_token: str,
    ) -> None:
        self.bot = bot
        self.limits = limits
        self.record_post = record_post
        self.record_invoice = record_invoice
        self.provider_token = provider_token

    async def perform(self, actions: list[Action]) -> None:
        for action in actions:
            try:
                await self.one(action)
            except TelegramForbiddenError as error:
                log.info("cannot write to %s: %s", getattr(action, "chat_id", "?"), error.message)
            except TelegramBadRequest as error:
                log.warning("Telegram refused %s: %s", type(action).__name__, error.message)

    async def one(self, action: Action) -> tg.Message | bool | None:
        refuse_inside(type(action).__name__)
        bot = self.bot
        if isinstance(action, Answer):
            return await with_retries(
                lambda: bot.answer_callback_query(
                    action.query_id, text=action.text, show_alert=action.alert, url=action.url
                )
            )
        if isinstance(action, AnswerPreCheckout):
            return await bot.answer_pre_checkout_query(
                action.query_id, ok=action.error is None, error_message=action.error
            )
        if isinstance(action, RefundStars):
            return await with_retries(
                lambda: bot.refund_star_payment(action.user_id, action.charge_id)
            )
        if isinstance(action, Delete):
            try:
                return await with_retries(
                    lambda: bot.delete_message(action.chat_id, action.message_id)
                )
            except TelegramBadRequest:
                return None  # already gone, or too old to delete: nothing to do
        await self.limits.acquire(action.chat_id)
        if isinstance(action, SendInvoice):
            sent_invoice = await with_retries(lambda: self._invoice(action))
            await self.record_invoice(action.payload, sent_invoice.message_id)
            return sent_invoice
        if isinstance(action, Send):
            sent = await with_retries(lambda: self._send(action))
            if action.post_of_deal is not None:
                await self.record_post(action.post_of_deal, sent.chat.id, sent.message_id)
            return sent
        if isinstance(action, Edit):
            try:
                return await with_retries(lambda: self._edit(action))
            except TelegramBadRequest as error:
                if not_modified(error):
                    return None  # the post already shows this: nothing to do
                raise
        document = BufferedInputFile(action.content, filename=action.filename)
        return await with_retries(
            lambda: bot.send_document(action.chat_id, document, caption=action.caption or None)
        )

    async def _invoice(self, action: SendInvoice) -> tg.Message:
        stars = action.currency == "XTR"  # Stars take no provider token
        return await self.bot.send_invoice(
            chat_id=action.chat_id,
            title=action.title,
            description=action.description,
            payload=action.payload,
            currency=action.currency,
            prices=[tg.LabeledPrice(label=label, amount=amount) for label, amount in action.prices],
            provider_token=None if stars else self.provider_token,
        )

    async def _send(self, action: Send) -> tg.Message:
        if action.photo_file_id:
            return await self.bot.send_photo(
                action.chat_id,
                action.photo_file_id,
                caption=action.text,
                reply_markup=markup(action.keyboard),
            )
        return await self.bot.send_message(
            action.chat_id, action.text, reply_markup=markup(action.keyboard)
        )

    async def _edit(self, action: Edit) -> tg.Message | bool:
        return await self.bot.edit_message_text(
            text=action.text,
            chat_id=action.chat_id,
            message_id=action.message_id,
            reply_markup=markup(action.keyboard),
        )
