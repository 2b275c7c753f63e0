"""The test driver: plays users, groups and admins against the bot under test.

Mutations and waits are ``async``; pure reads (``messages``, ``stats``...) are
plain methods. ``Emulator`` inherits all of this, so tests call ``emu.add_user``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from aiogram.types import CallbackQuery

from sandbox import render
from sandbox.errors import DriverError
from sandbox.methods.messages import in_topic
from sandbox.payer import PayerDriver
from sandbox.state import (
    CallbackRec,
    FileRec,
    RequestLogEntry,
)
from sandbox.views import CallbackAnswer, SentMessage, snapshot


class Driver(PayerDriver):
    """Python driver API; every mutation wakes waiters via ``State.changed``."""

    # --- user actions ------------------------------------------------------------
    async def send_message(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        as_anonymous_admin: bool = False,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """`thread_id`: written in that topic of a forum group."""
        chat = self._chat_for(user_id, chat_id)
        msg = self._user_message(
            user_id,
            chat,
            text=text,
            as_anonymous_admin=as_anonymous_admin,
            reply_to=reply_to,
            extra=in_topic(chat, thread_id),
        )
        return render.dump(render.message(self.state, msg))

    async def forward_message(
        self, user_id: int, from_chat_id: int, message_id: int, to_chat_id: int
    ) -> dict[str, Any]:
        """`user` forwards a message they can see to another chat, as Telegram's Forward does:
        a new message of theirs with the original's text and a `forward_origin` naming who
        wrote it (the group itself, for an anonymous admin, shows as a hidden user)."""
        source = self.state.find_message(from_chat_id, message_id)
        if source is None or source.deleted:
            raise DriverError(f"no message {message_id} in chat {from_chat_id}")
        self._chat_for(user_id, from_chat_id)  # they must see it to forward it
        chat = self._chat_for(user_id, to_chat_id)
        author = self.state.users.get(source.from_id)
        origin: dict[str, Any] = {"type": "user", "date": source.date}
        if author is None:
            origin |= {"type": "hidden_user", "sender_user_name": "Group"}
        else:
            origin["sender_user"] = render.dump(render.user(author))
        msg = self._user_message(
            user_id,
            chat,
            text=source.text,
            caption=source.caption,
            photo=source.photo,
            extra={"forward_origin": origin},
        )
        return render.dump(render.message(self.state, msg))

    async def send_photo(
        self, user_id: int, chat_id: int, *, caption: str | None = None, data: bytes | None = None
    ) -> dict[str, Any]:
        """`data`: the image (the sandbox page sends a real one); a placeholder if None."""
        chat = self._chat_for(user_id, chat_id)
        file_id = self.state.new_id("userphoto-")
        png = data is not None and data.startswith(b"\x89PNG")
        self.state.files[file_id] = FileRec(
            file_id, f"u{file_id}", data if data is not None else b"\xff\xd8\xff fake jpeg",
            None, "image/png" if png else "image/jpeg",
            f"photos/{file_id}.{'png' if png else 'jpg'}", "photo",
        )  # fmt: skip
        msg = self._user_message(user_id, chat, caption=caption, photo=file_id)
        return render.dump(render.message(self.state, msg))

    async def press_button(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        *,
        data: str | None = None,
        text: str | None = None,
        timeout: float = 5.0,
    ) -> CallbackAnswer:
        """Press a callback button the bot really showed; wait for answerCallbackQuery."""
        if (data is None) == (text is None):
            raise DriverError("pass exactly one of data= or text=")
        msg = self.state.find_message(chat_id, message_id)
        if msg is None or msg.from_id != self.state.bot.id:
            raise DriverError(f"no bot message {message_id} in chat {chat_id}")
        rows = (msg.reply_markup or {}).get("inline_keyboard", [])
        for button in (b for row in rows for b in row):
            if (data is not None and button.get("callback_data") == data) or (
                text is not None and button["text"] == text
            ):
                if "callback_data" not in button:
                    raise DriverError(f"button {button['text']!r} is not a callback button")
                return await self.press_raw(
                    user_id, chat_id, message_id, button["callback_data"], timeout=timeout
                )
        labels = [b["text"] for row in rows for b in row]
        raise DriverError(f"no such button on message {message_id}; buttons: {labels}")

    async def press_raw(
        self, user_id: int, chat_id: int, message_id: int, data: str, *, timeout: float = 5.0
    ) -> CallbackAnswer:
        """Send arbitrary (forged, stale) callback data for any message in the chat."""
        st = self.state
        chat = self._chat_for(user_id, chat_id)
        msg = st.find_message(chat.id, message_id)
        if msg is None:
            raise DriverError(f"no message {message_id} in chat {chat_id}")
        cb = CallbackRec(st.new_id("cbq"), user_id, chat.id, message_id, data, st.clock.now())
        st.callbacks[cb.id] = cb
        query = CallbackQuery(
            id=cb.id,
            from_user=render.user(st.users[user_id]),
            chat_instance=str(abs(chat.id)),
            message=render.message(st, msg),
            data=data,
        )
        st.push_update("callback_query", render.dump(query))
        st.changed({"type": "callback", "chat_id": chat.id, "message_id": message_id})
        try:
            await asyncio.wait_for(cb.done.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"bot did not answer callback query {data!r}") from None
        assert cb.answer is not None
        return CallbackAnswer(callback_query_id=cb.id, **cb.answer)

    # --- reads ----------------------------------------------------------------------
    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        recs = self.state.messages.get(chat_id, [])
        return [snapshot(self.state, m) for m in recs if include_deleted or not m.deleted]

    def last_message(self, chat_id: int) -> SentMessage | None:
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    def document_bytes(self, chat_id: int, message_id: int) -> bytes:
        msg = self.state.find_message(chat_id, message_id)
        if msg is None or msg.document is None:
            raise DriverError(f"message {message_id} in chat {chat_id} has no document")
        return self.state.files[msg.document].data

    def photo_bytes(self, chat_id: int, message_id: int) -> bytes:
        """The photo as uploaded (a file id sent again is the file first uploaded with it)."""
        msg = self.state.find_message(chat_id, message_id)
        if msg is None or msg.photo is None:
            raise DriverError(f"message {message_id} in chat {chat_id} has no photo")
        return self.state.files[msg.photo].data

    @property
    def requests_log(self) -> list[RequestLogEntry]:
        return self.state.requests_log

    def stats(self) -> dict[str, Any]:
        return self.flood.stats()

    # --- waiting and time ---------------------------------------------------------
    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        await self.state.wait_until(predicate, timeout)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] = lambda m: m.from_bot,
        timeout: float = 5.0,
    ) -> SentMessage:
        """First message in the chat matching ``predicate`` (default: any bot message)."""
        found: list[SentMessage] = []

        def check() -> bool:
            found[:] = [m for m in self.messages(chat_id) if predicate(m)]
            return bool(found)

        await self.state.wait_until(check, timeout)
        return found[0]

    async def advance(self, seconds: float) -> float:
        now = self.clock.advance(seconds)
        self.state.changed({"type": "clock", "now": now})
        return now

    def unconfirm(self, update_ids: Iterable[int]) -> None:
        """Deliver these updates again, as Telegram does when the getUpdates call that would
        have confirmed them never reached it (the bot died first) or a webhook's answer was
        lost: they are queued once more, in order, with their own ids."""
        st = self.state
        again = [st.confirmed.pop(u) for u in update_ids if u in st.confirmed]
        pending = {u[0] for u in st.updates}
        st.updates = sorted(st.updates + [u for u in again if u[0] not in pending], key=_first)
        st.changed()

    async def inject_fault(self, fault: str, method: str | None = None, **options: Any) -> None:
        """Make matching Bot API calls fail as Telegram does on a bad day: `options` are
        sandbox.faults.Faults.inject's (chat_id, count, every, retry_after, seconds, ...)."""
        self.faults.inject(fault, method, **options)

    async def inject_flood(self, method: str | None, count: int, retry_after: int) -> None:
        self.flood.inject(method, count, retry_after)


def _first(update: tuple[int, str, dict[str, Any]]) -> int:
    return update[0]
