"""Sending, editing, deleting and pinning messages."""

from __future__ import annotations

import mimetypes
from typing import Any

from sandbox import render
from sandbox.errors import bad_request
from sandbox.markup import check_reply_markup
from sandbox.methods.base import Ctx, Params, format_text, method, writable_chat
from sandbox.spec import Upload
from sandbox.state import ChatRec, FileRec, MessageRec


def _rate(ctx: Ctx, chat: ChatRec, kind: str) -> None:
    now = ctx.state.clock.now()
    ctx.flood.check_rate(chat.id, chat.type == "private", now)
    ctx.flood.record(chat.id, kind, now)


def _new_message(ctx: Ctx, chat: ChatRec, p: Params) -> MessageRec:
    reply_to = p.get("reply_to_message_id")
    if "reply_parameters" in p:
        reply_to = p["reply_parameters"]["message_id"]
    if reply_to is not None and ctx.state.find_message(chat.id, reply_to) is None:
        if not p.get("reply_parameters", {}).get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
        reply_to = None
    markup = p.get("reply_markup")
    check_reply_markup(markup)
    return MessageRec(
        chat_id=chat.id,
        message_id=ctx.state.next_message_id(chat.id),
        from_id=ctx.state.bot.id,
        date=int(ctx.state.clock.now()),
        reply_markup=markup,
        reply_to=reply_to,
        extra=in_topic(chat, p.get("message_thread_id")),
    )


def in_topic(chat: ChatRec, thread: Any) -> dict[str, Any]:
    """Where a message goes in a forum: a topic (`message_thread_id`), else General. Telegram
    refuses a topic that does not exist, or is closed."""
    if thread is None:
        return {}
    thread = int(thread)
    if not chat.is_forum or thread not in chat.topics:
        raise bad_request("message thread not found")
    if chat.topics[thread]:
        raise bad_request("TOPIC_CLOSED")
    return {"message_thread_id": thread, "is_topic_message": True}


def _store_file(ctx: Ctx, value: Upload | str, kind: str, field: str) -> str:
    if isinstance(value, str):
        if value in ctx.state.files:
            return value  # re-sending a known file_id
        if value.startswith(("http://", "https://")):
            data, name = b"", value.rsplit("/", 1)[-1] or field
            upload = Upload(data, name, mimetypes.guess_type(name)[0] or "")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
    else:
        upload = value
    file_id = ctx.state.new_id(f"{kind}-")
    ctx.state.files[file_id] = FileRec(
        file_id=file_id,
        file_unique_id=f"u{file_id}",
        data=upload.data,
        file_name=upload.filename,
        mime_type=_mime(upload),
        file_path=f"{kind}s/{file_id}_{upload.filename}",
        kind=kind,
    )
    return file_id


def _mime(upload: Upload) -> str | None:
    # aiogram posts every file as application/octet-stream; Telegram sniffs the name.
    if upload.content_type and upload.content_type != "application/octet-stream":
        return upload.content_type
    return mimetypes.guess_type(upload.filename)[0] or upload.content_type or None


def _reply(ctx: Ctx, msg: MessageRec) -> dict[str, Any]:
    return render.dump(render.message(ctx.state, msg))


@method("sendMessage")
async def send_message(ctx: Ctx, p: Params) -> Any:
    chat = writable_chat(ctx, p["chat_id"])
    plain, html, entities = format_text(
        p["text"], p.get("parse_mode"), p.get("entities"), caption=False
    )
    msg = _new_message(ctx, chat, p)
    msg.text, msg.html, msg.entities, msg.parse_mode = plain, html, entities, p.get("parse_mode")
    _rate(ctx, chat, "send")
    return _reply(ctx, ctx.state.add_message(msg))


async def _send_media(ctx: Ctx, p: Params, field: str, kind: str) -> Any:
    chat = writable_chat(ctx, p["chat_id"])
    msg = _new_message(ctx, chat, p)
    if "caption" in p:
        msg.caption, msg.html, msg.entities = format_text(
            p["caption"], p.get("parse_mode"), p.get("caption_entities"), caption=True
        )
        msg.parse_mode = p.get("parse_mode")
    file_id = _store_file(ctx, p[field], kind, field)
    setattr(msg, field, file_id)
    _rate(ctx, chat, "send")
    return _reply(ctx, ctx.state.add_message(msg))


@method("sendPhoto")
async def send_photo(ctx: Ctx, p: Params) -> Any:
    return await _send_media(ctx, p, "photo", "photo")


@method("sendVenue")
async def send_venue(ctx: Ctx, p: Params) -> Any:
    chat = writable_chat(ctx, p["chat_id"])
    latitude, longitude = float(p["latitude"]), float(p["longitude"])
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong latitude or longitude specified")
    if not str(p["title"]).strip() or not str(p["address"]).strip():
        raise bad_request("venue title and address must be non-empty")
    msg = _new_message(ctx, chat, p)
    location = {"latitude": latitude, "longitude": longitude}
    venue = {"location": location, "title": str(p["title"]), "address": str(p["address"])}
    msg.extra = {**msg.extra, "location": location, "venue": venue}
    _rate(ctx, chat, "send")
    return _reply(ctx, ctx.state.add_message(msg))


@method("sendDocument")
async def send_document(ctx: Ctx, p: Params) -> Any:
    return await _send_media(ctx, p, "document", "document")


def _editable(ctx: Ctx, p: Params) -> tuple[ChatRec, MessageRec]:
    if "inline_message_id" in p:
        raise bad_request("inline messages are not implemented by the emulator")
    if "chat_id" not in p or "message_id" not in p:
        raise bad_request("message identifier is not specified")
    chat = writable_chat(ctx, p["chat_id"])
    msg = ctx.state.find_message(chat.id, p["message_id"])
    if msg is None:
        raise bad_request("message to edit not found")
    if msg.from_id != ctx.state.bot.id:
        raise bad_request("message can't be edited")
    return chat, msg


def _apply_edit(
    ctx: Ctx,
    chat: ChatRec,
    msg: MessageRec,
    body: tuple[str, str | None, list[dict[str, Any]]] | None,
    markup: dict[str, Any] | None,
) -> Any:
    current = msg.text if msg.text is not None else msg.caption
    if markup is not None:
        check_reply_markup(markup)
    same_text = body is None or (body[0] == current and body[2] == msg.entities)
    if same_text and markup == msg.reply_markup:
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    _rate(ctx, chat, "edit")
    msg.history.append((ctx.state.clock.now(), current, msg.reply_markup))
    if body is not None:
        if msg.text is not None:
            msg.text = body[0]
        else:
            msg.caption = body[0]
        msg.html, msg.entities = body[1], body[2]
    msg.reply_markup = markup
    ctx.state.changed({"type": "edit", "chat_id": chat.id, "message_id": msg.message_id})
    return _reply(ctx, msg)


@method("editMessageText")
async def edit_message_text(ctx: Ctx, p: Params) -> Any:
    chat, msg = _editable(ctx, p)
    if msg.text is None:
        raise bad_request("there is no text in the message to edit")
    body = format_text(p["text"], p.get("parse_mode"), p.get("entities"), caption=False)
    return _apply_edit(ctx, chat, msg, body, p.get("reply_markup"))


@method("editMessageCaption")
async def edit_message_caption(ctx: Ctx, p: Params) -> Any:
    chat, msg = _editable(ctx, p)
    if msg.text is not None:
        raise bad_request("there is no caption in the message to edit")
    body = format_text(
        p.get("caption", ""), p.get("parse_mode"), p.get("caption_entities"), caption=True
    )
    return _apply_edit(ctx, chat, msg, body, p.get("reply_markup"))


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: Ctx, p: Params) -> Any:
    chat, msg = _editable(ctx, p)
    return _apply_edit(ctx, chat, msg, None, p.get("reply_markup"))


@method("deleteMessage")
async def delete_message(ctx: Ctx, p: Params) -> Any:
    chat = ctx.state.resolve_chat(p["chat_id"])
    msg = ctx.state.find_message(chat.id, p["message_id"])
    if msg is None:
        raise bad_request("message to delete not found")
    if msg.from_id != ctx.state.bot.id and chat.type == "private":
        raise bad_request("message can't be deleted for everyone")
    msg.deleted = True
    ctx.state.changed({"type": "delete", "chat_id": chat.id, "message_id": msg.message_id})
    return True


@method("pinChatMessage")
async def pin_chat_message(ctx: Ctx, p: Params) -> Any:
    chat = writable_chat(ctx, p["chat_id"])
    if ctx.state.find_message(chat.id, p["message_id"]) is None:
        raise bad_request("message to pin not found")
    chat.pinned.append(p["message_id"])
    ctx.state.changed({"type": "pin", "chat_id": chat.id, "message_id": p["message_id"]})
    return True


@method("unpinChatMessage")
async def unpin_chat_message(ctx: Ctx, p: Params) -> Any:
    chat = writable_chat(ctx, p["chat_id"])
    target = p.get("message_id", chat.pinned[-1] if chat.pinned else None)
    if target in chat.pinned:
        chat.pinned.remove(target)
    ctx.state.changed({"type": "unpin", "chat_id": chat.id, "message_id": target})
    return True
