"""Saving and restoring the emulator's world (users, chats, messages, files, payments, clock).

The sandbox keeps this JSON next to the bot's SQLite file so a restart shows the same chats.
Pending updates, callback and pre-checkout queries are not kept: like a phone that was off,
what was in flight is gone.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sandbox.clock import Clock
from sandbox.payments import ChargeRec, InvoiceRec, RefundRec
from sandbox.state import ChatRec, FileRec, MemberRec, MessageRec, State, UserRec

VERSION = 1


def dump(state: State) -> dict[str, Any]:
    book = state.payments
    return {
        "version": VERSION,
        "clock_offset": state.clock.now() - time.time(),
        "next_id": state.next_id_number(),
        "next_update_id": state.next_update_id(),
        "bot_id": state.bot.id,
        "users": [asdict(u) for u in state.users.values() if not u.is_bot],
        "chats": [
            {
                "id": c.id,
                "type": c.type,
                "title": c.title,
                "members": [asdict(m) for m in c.members.values()],
                "pinned": c.pinned,
                "migrated_to": c.migrated_to,
                "is_forum": c.is_forum,
                "topics": [[t, closed] for t, closed in c.topics.items()],
            }
            for c in state.chats.values()
        ],
        "messages": [asdict(m) for msgs in state.messages.values() for m in msgs],
        "files": [
            {**asdict(f), "data": base64.b64encode(f.data).decode("ascii")}
            for f in state.files.values()
        ],
        "commands": state.commands,
        "invoices": [asdict(i) for i in book.invoices.values()],
        "charges": [asdict(c) for c in book.charges.values()],
        "refunds": [asdict(r) for r in book.refunds],
    }


def load(state: State, data: dict[str, Any]) -> None:
    if data.get("version") != VERSION or data.get("bot_id") != state.bot.id:
        raise ValueError("the snapshot is from another sandbox version or bot")
    for u in data["users"]:
        state.users[u["id"]] = UserRec(**u)
    for c in data["chats"]:
        members = {m["user_id"]: MemberRec(**m) for m in c["members"]}
        state.chats[c["id"]] = ChatRec(
            c["id"],
            c["type"],
            c["title"],
            members,
            list(c["pinned"]),
            c.get("migrated_to"),
            bool(c.get("is_forum", False)),
            {int(t): bool(closed) for t, closed in c.get("topics", [])},
        )
    for m in data["messages"]:
        m["history"] = [tuple(h) for h in m["history"]]
        state.messages.setdefault(m["chat_id"], []).append(MessageRec(**m))
    for f in data["files"]:
        state.files[f["file_id"]] = FileRec(**{**f, "data": base64.b64decode(f["data"])})
    state.commands.update(data["commands"])
    book = state.payments
    for i in data["invoices"]:
        book.invoices[(i["chat_id"], i["message_id"])] = InvoiceRec(**i)
    for c in data["charges"]:
        book.charges[c["telegram_payment_charge_id"]] = ChargeRec(**c)
    book.refunds.extend(RefundRec(**r) for r in data["refunds"])
    state.continue_ids_from(int(data["next_id"]))
    state.continue_update_ids_from(int(data.get("next_update_id", 1)))


def clock_of(path: Path) -> Clock | None:
    """The clock a snapshot left off with (it keeps running from there), or None."""
    if not path.exists():
        return None
    offset = float(json.loads(path.read_text("utf-8")).get("clock_offset", 0.0))
    return Clock(time.time() + offset)


def save(state: State, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(dump(state), ensure_ascii=False), "utf-8")
    os.replace(tmp, path)  # never a half-written snapshot


def restore(state: State, path: Path) -> bool:
    if not path.exists():
        return False
    load(state, json.loads(path.read_text("utf-8")))
    return True
