"""State records -> Bot API JSON, built through aiogram's own types.

Going through aiogram models guarantees that what the emulator returns is
something aiogram (and so the real bot) can parse.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiogram.types import (
    Chat,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    Document,
    Message,
    PhotoSize,
    TelegramObject,
    User,
)

from sandbox.html_check import utf16_len
from sandbox.state import ANONYMOUS_ADMIN_ID, ChatRec, MemberRec, MessageRec, State, UserRec

_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
ChatMember = (
    ChatMemberOwner
    | ChatMemberAdministrator
    | ChatMemberMember
    | ChatMemberRestricted
    | ChatMemberBanned
    | ChatMemberLeft
)


def dump(obj: TelegramObject) -> dict[str, Any]:
    result: dict[str, Any] = obj.model_dump(mode="json", exclude_none=True, by_alias=True)
    return result


def user(rec: UserRec) -> User:
    return User(
        id=rec.id,
        is_bot=rec.is_bot,
        first_name=rec.first_name,
        last_name=rec.last_name,
        username=rec.username,
        language_code=None if rec.is_bot else rec.language_code,
    )


def anonymous_admin() -> User:
    return User(
        id=ANONYMOUS_ADMIN_ID, is_bot=True, first_name="Group", username="GroupAnonymousBot"
    )


def chat(state: State, rec: ChatRec) -> Chat:
    if rec.type == "private":
        u = state.users[rec.id]
        return Chat(
            id=rec.id,
            type="private",
            first_name=u.first_name,
            last_name=u.last_name,
            username=u.username,
        )
    return Chat(id=rec.id, type=rec.type, title=rec.title, is_forum=rec.is_forum or None)


def command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities, which aiogram's Command filter relies on."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group(0)),
        }
        for m in _COMMAND_RE.finditer(text)
    ]


def message(state: State, rec: MessageRec) -> Message:
    c = state.chats[rec.chat_id]
    sender = (
        anonymous_admin() if rec.from_id == ANONYMOUS_ADMIN_ID else user(state.users[rec.from_id])
    )
    data: dict[str, Any] = {
        "message_id": rec.message_id,
        "date": dt.datetime.fromtimestamp(rec.date, dt.UTC),
        "chat": chat(state, c),
        "from": sender,
        **rec.extra,
    }
    if rec.sender_chat_id is not None:
        data["sender_chat"] = chat(state, state.chats[rec.sender_chat_id])
    if rec.text is not None:
        data["text"] = rec.text
        data["entities"] = rec.entities or None
    if rec.caption is not None:
        data["caption"] = rec.caption
        data["caption_entities"] = rec.entities or None
    if rec.photo is not None:
        f = state.files[rec.photo]
        data["photo"] = [
            PhotoSize(
                file_id=f.file_id,
                file_unique_id=f.file_unique_id,
                width=800,
                height=600,
                file_size=len(f.data),
            )
        ]
    if rec.document is not None:
        f = state.files[rec.document]
        data["document"] = Document(
            file_id=f.file_id,
            file_unique_id=f.file_unique_id,
            file_name=f.file_name,
            mime_type=f.mime_type,
            file_size=len(f.data),
        )
    if rec.history:
        data["edit_date"] = int(rec.history[-1][0])
    if rec.reply_markup is not None and "inline_keyboard" in rec.reply_markup:
        data["reply_markup"] = rec.reply_markup
    if rec.reply_to is not None:
        replied = state.find_message(rec.chat_id, rec.reply_to)
        if replied is not None:
            data["reply_to_message"] = message(state, replied)
    return Message.model_validate(data)


def member(state: State, chat_rec: ChatRec, user_id: int) -> ChatMember:
    m = chat_rec.members.get(user_id, MemberRec(user_id, "left"))
    u = user(state.users[user_id])
    if m.status == "creator":
        return ChatMemberOwner(user=u, is_anonymous=m.is_anonymous)
    if m.status == "administrator":
        return ChatMemberAdministrator(
            user=u,
            can_be_edited=False,
            is_anonymous=m.is_anonymous,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_send_welcome_messages=False,
            can_pin_messages=True,
        )
    if m.status == "member":
        return ChatMemberMember(user=u)
    if m.status == "restricted":  # in the group, and may not send anything
        return ChatMemberRestricted.model_validate(
            {
                "user": u,
                "is_member": True,
                **dict.fromkeys(_RESTRICTED_RIGHTS, False),
                "until_date": 0,
            }
        )
    if m.status == "kicked":
        return ChatMemberBanned.model_validate({"user": u, "until_date": 0})  # for ever
    return ChatMemberLeft(user=u)


_RESTRICTED_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
