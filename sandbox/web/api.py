"""JSON shapes the page reads: personas, chats and messages (text already made safe HTML)."""

from __future__ import annotations

from typing import Any

from sandbox.state import ANONYMOUS_ADMIN_ID, ChatRec, MessageRec, State, UserRec
from sandbox.web.richtext import to_html

_IMAGE_MAGIC = (b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\x89PNG", b"GIF8", b"RIFF")


def persona(user: UserRec) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": full_name(user),
        "first_name": user.first_name,
        "language": user.language_code,
        "started": user.started_bot,
    }


def full_name(user: UserRec) -> str:
    return " ".join(x for x in (user.first_name, user.last_name) if x)


def chats_for(state: State, user_id: int) -> list[dict[str, Any]]:
    """The persona's chat list: their private chat with the bot and their groups, newest first."""
    found: list[dict[str, Any]] = []
    for chat in state.chats.values():
        if chat.migrated_to is not None:
            continue  # a basic group that became a supergroup: Telegram apps show only the new
        admin = False
        if chat.type == "private":
            if chat.id != user_id:
                continue
        else:
            member = chat.members.get(user_id)
            if member is None or member.status in ("left", "kicked"):
                continue
            admin = member.status in ("creator", "administrator")
        found.append({**chat_summary(state, chat), "admin": admin})
    found.sort(key=lambda c: (c["type"] != "private", -c["last_date"]))
    return found


def chat_summary(state: State, chat: ChatRec) -> dict[str, Any]:
    visible = [m for m in state.messages.get(chat.id, []) if not m.deleted]
    last = visible[-1] if visible else None
    title = state.bot.first_name if chat.type == "private" else chat.title or str(chat.id)
    members = [m for m in chat.members.values() if m.status not in ("left", "kicked")]
    bot = chat.members.get(state.bot.id)
    return {
        "id": chat.id,
        "type": chat.type,
        "bot_in": chat.type == "private"
        or (bot is not None and bot.status not in ("left", "kicked")),
        "title": title,
        "members": len(members),
        "last_date": last.date if last else 0,
        "last_text": preview(state, last) if last else "",
    }


def preview(state: State, msg: MessageRec) -> str:
    body = msg.text if msg.text is not None else msg.caption
    if body:
        return body.splitlines()[0][:80]
    if "invoice" in msg.extra:
        return f"🧾 {msg.extra['invoice']['title']}"
    if msg.document is not None:
        return f"📎 {state.files[msg.document].file_name or 'file'}"
    if msg.photo is not None:
        return "🖼 Photo"
    if "successful_payment" in msg.extra:
        return "💳 Payment"
    return ""


def message(state: State, msg: MessageRec) -> dict[str, Any]:
    sender = state.users.get(msg.from_id)
    is_anonymous = msg.from_id == ANONYMOUS_ADMIN_ID
    body = msg.text if msg.text is not None else msg.caption
    out: dict[str, Any] = {
        "id": msg.message_id,
        "from_id": msg.from_id,
        "from_name": "Group admin" if is_anonymous or sender is None else full_name(sender),
        "from_bot": msg.from_id == state.bot.id,
        "date": msg.date,
        "html": to_html(body, msg.entities) if body else "",
        "edited": bool(msg.history),
        "reply_to": msg.reply_to,
        "keyboard": _keyboard(msg),
    }
    if msg.photo is not None:
        out["photo"] = f"/api/files/{msg.photo}"
    if msg.document is not None:
        f = state.files[msg.document]
        out["document"] = {
            "name": f.file_name or "file",
            "mime": f.mime_type or "application/octet-stream",
            "size": len(f.data),
            "url": f"/api/files/{f.file_id}",
        }
    if "invoice" in msg.extra:
        out["invoice"] = dict(msg.extra["invoice"])
        rec = state.payments.invoices.get((msg.chat_id, msg.message_id))
        out["invoice"]["prices"] = rec.prices if rec else []
        # Paid: Telegram's apps then show a Receipt button instead of Pay.
        paid = next(
            (
                c
                for c in state.payments.charges.values()
                if c.chat_id == msg.chat_id and c.invoice_message_id == msg.message_id
            ),
            None,
        )
        if paid is not None:
            out["invoice"]["paid"] = {
                "currency": paid.currency,
                "total_amount": paid.total_amount,
                "date": paid.time,
            }
    if "successful_payment" in msg.extra:
        paid = msg.extra["successful_payment"]
        out["payment"] = {"currency": paid["currency"], "total_amount": paid["total_amount"]}
    if "migrate_to_chat_id" in msg.extra:
        out["service"] = "upgraded the group to a supergroup"
    if "migrate_from_chat_id" in msg.extra:
        out["service"] = "made this group a supergroup"
    if "new_chat_members" in msg.extra:
        out["service"] = "joined: " + ", ".join(
            str(u.get("first_name", "")) for u in msg.extra["new_chat_members"]
        )
    return out


def _keyboard(msg: MessageRec) -> list[list[dict[str, Any]]]:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    return [[_button(b) for b in row] for row in rows]


def _button(b: dict[str, Any]) -> dict[str, Any]:
    if "callback_data" in b:
        return {"text": b["text"], "kind": "callback", "data": b["callback_data"]}
    if "url" in b:
        return {"text": b["text"], "kind": "url", "url": b["url"]}
    if "web_app" in b:  # a Mini App: opened with init data the sandbox signs (sandbox/webapp.py)
        return {"text": b["text"], "kind": "web_app", "url": b["web_app"]["url"]}
    if b.get("pay"):
        return {"text": b["text"], "kind": "pay"}
    return {"text": b["text"], "kind": "other"}


def looks_like_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC)
