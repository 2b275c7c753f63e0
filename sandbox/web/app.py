"""The sandbox page and its JSON API, served by the emulator's own aiohttp application.

Every action goes through the driver, exactly as a test would: the page is one more player.
Bad input (unknown persona or chat, a button the bot never showed, an oversized message) is a
400 with a readable ``error``; nothing a page sends can stop the sandbox.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

from aiohttp import web

from sandbox import webapp
from sandbox.errors import DriverError
from sandbox.methods.base import CAPTION_LIMIT, TEXT_LIMIT
from sandbox.state import State
from sandbox.web import api

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

STATIC = Path(__file__).parent / "static"
Advance = Callable[[float], Awaitable[None]]
MAX_ADVANCE = 90 * 24 * 3600.0
LANGUAGES = {"en": "en", "zh": "zh-hans", "zh-hans": "zh-hans"}
# Events the page cares about; "request" (every Bot API call) would only be noise.
_QUIET = frozenset({"request"})


class WebError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except WebError as e:
        return web.json_response({"ok": False, "error": str(e)}, status=e.status)
    except DriverError as e:
        return web.json_response({"ok": False, "error": str(e)}, status=400)
    except TimeoutError as e:
        message = str(e) or "the bot did not answer in time"
        return web.json_response({"ok": False, "error": message}, status=504)


ADMINS = ("creator", "administrator")


class SandboxWeb:
    def __init__(self, emu: Emulator, advance: Advance | None = None) -> None:
        self.emu = emu
        self._advance = advance

    def install(self, app: web.Application) -> None:
        app.middlewares.append(_errors)
        r = app.router
        r.add_get("/", self.index)
        r.add_static("/static/", STATIC)
        r.add_get("/api/state", self.state)
        r.add_get("/api/chats", self.chats)
        r.add_get("/api/messages", self.messages)
        r.add_get("/api/events", self.events)
        r.add_get("/api/files/{file_id}", self.file)
        r.add_post("/api/send", self.send)
        r.add_post("/api/photo", self.photo)
        r.add_post("/api/press", self.press)
        r.add_post("/api/open_link", self.open_link)
        r.add_post("/api/pay", self.pay)
        r.add_post("/api/personas", self.add_persona)
        r.add_post("/api/advance", self.advance)
        r.add_post("/api/group", self.group_action)
        r.add_post("/api/webapp", self.webapp)
        r.add_get("/api/scannable", self.scannable)

    # --- reads -----------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def state(self, request: web.Request) -> web.Response:
        st = self.emu.state
        leaders = {
            m.user_id
            for c in st.chats.values()
            for m in c.members.values()
            if m.status in ("creator", "administrator")
        }
        personas = [
            {**api.persona(u), "leader": u.id in leaders}
            for u in st.users.values()
            if not u.is_bot and u.id > 0
        ]
        return web.json_response(
            {
                "bot": {"id": st.bot.id, "name": st.bot.first_name, "username": st.bot.username},
                "now": st.clock.now(),
                "personas": personas,
                "last_event": st.events[-1]["seq"] if st.events else 0,
            }
        )

    async def chats(self, request: web.Request) -> web.Response:
        user = self._persona(request.query.get("persona"))
        return web.json_response(api.chats_for(self.emu.state, user))

    async def messages(self, request: web.Request) -> web.Response:
        user = self._persona(request.query.get("persona"))
        chat = self._chat(user, request.query.get("chat"))
        recs = self.emu.state.messages.get(chat, [])
        shown = [api.message(self.emu.state, m) for m in recs if not m.deleted]
        return web.json_response({"chat": chat, "messages": shown})

    async def file(self, request: web.Request) -> web.StreamResponse:
        f = self.emu.state.files.get(request.match_info["file_id"])
        if f is None:
            raise WebError("no such file", 404)
        if f.kind == "photo" and not api.looks_like_image(f.data):
            return web.FileResponse(STATIC / "photo.svg")
        name = re.sub(r"[^\w.-]", "_", f.file_name or "file")
        return web.Response(
            body=f.data,
            content_type=f.mime_type or "application/octet-stream",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events from the emulator's change stream (resumable by Last-Event-ID)."""
        st = self.emu.state
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        last = int(request.headers.get("Last-Event-ID") or request.query.get("after") or 0)
        if st.events and last > st.events[-1]["seq"]:
            last = 0  # the sandbox restarted: its sequence began again
        try:
            while not st.closing:
                fresh = [e for e in st.events if e["seq"] > last]
                for event in fresh:
                    last = event["seq"]
                    if event["type"] not in _QUIET:
                        data = json.dumps(event, ensure_ascii=False, default=str)
                        await response.write(f"id: {last}\ndata: {data}\n\n".encode())
                if not fresh:
                    await response.write(b": keep-alive\n\n")
                with contextlib.suppress(TimeoutError):
                    await st.wait_until(functools.partial(_newer, st, last), 15.0)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    # --- actions ---------------------------------------------------------------------------
    async def send(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self._persona(body.get("persona"))
        chat = self._chat(user, body.get("chat"))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise WebError("the message is empty")
        if len(text) > TEXT_LIMIT:
            raise WebError(f"the message is too long: {len(text)} characters, at most {TEXT_LIMIT}")
        sent = await self.emu.send_message(user, chat, text)
        return web.json_response({"ok": True, "message_id": sent["message_id"]})

    async def photo(self, request: web.Request) -> web.Response:
        """A photo from the page (base64), with an optional caption: a transfer's screenshot,
        a leader's collection code."""
        body = await _body(request)
        user = self._persona(body.get("persona"))
        chat = self._chat(user, body.get("chat"))
        caption = body.get("caption") or None
        if caption is not None and (not isinstance(caption, str) or len(caption) > CAPTION_LIMIT):
            raise WebError(f"the caption is too long: at most {CAPTION_LIMIT} characters")
        try:
            data = base64.b64decode(str(body.get("data") or ""), validate=True)
        except binascii.Error as exc:
            raise WebError("that is not a photo") from exc
        if not data.startswith(_PHOTO_MAGIC) or len(data) > PHOTO_LIMIT:
            raise WebError("send a JPEG or PNG photo of at most 10 MB")
        sent = await self.emu.send_photo(user, chat, caption=caption, data=data)
        return web.json_response({"ok": True, "message_id": sent["message_id"]})

    async def press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self._persona(body.get("persona"))
        chat = self._chat(user, body.get("chat"))
        message_id, data = body.get("message"), body.get("data")
        if not isinstance(message_id, int) or not isinstance(data, str) or not data:
            raise WebError("a press needs the message id and the button's data")
        answer = await self.emu.press_button(user, chat, message_id, data=data)
        result: dict[str, Any] = {"ok": True, "answer": asdict(answer)}
        if answer.url:
            result["open_chat"] = await self._follow(user, answer.url)
        return web.json_response(result)

    async def open_link(self, request: web.Request) -> web.Response:
        """A t.me link to the bot: open its private chat and send /start <payload>, as Telegram."""
        body = await _body(request)
        user = self._persona(body.get("persona"))
        url = body.get("url")
        if not isinstance(url, str):
            raise WebError("no url")
        return web.json_response({"ok": True, "open_chat": await self._follow(user, url)})

    async def webapp(self, request: web.Request) -> web.Response:
        """A Mini App button pressed: the init data Telegram would hand the page, signed."""
        body = await _body(request)
        user = self.emu.state.users[self._persona(body.get("persona"))]
        signed = webapp.init_data(
            self.emu.token,
            user.id,
            user.first_name,
            int(self.emu.state.clock.now()),
            user.language_code or "en",
        )
        return web.json_response({"ok": True, "init_data": signed})

    async def scannable(self, request: web.Request) -> web.Response:
        """What the stand-in scanner can be pointed at: the QR codes in the chats' photos."""
        # On the loop, which owns the chats: a sandbox has a few photos, ~1 ms to read each.
        codes = webapp.scannable(self.emu.state)
        listed = [{"text": c.text, "chat": c.chat, "message_id": c.message_id} for c in codes]
        return web.json_response({"ok": True, "codes": listed})

    async def pay(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self._persona(body.get("persona"))
        chat = self._chat(user, body.get("chat"))
        message_id = body.get("message")
        if not isinstance(message_id, int):
            raise WebError("which invoice? (message id)")
        result = await self.emu.pay_invoice(user, chat, message_id)
        return web.json_response({"ok": True, "result": asdict(result)})

    async def add_persona(self, request: web.Request) -> web.Response:
        body = await _body(request)
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 64:
            raise WebError("a resident needs a name (1 to 64 characters)")
        language = LANGUAGES.get(str(body.get("language", "en")).lower())
        if language is None:
            raise WebError("language must be en or zh-hans")
        first, _, last = name.strip().partition(" ")
        uid = await self.emu.add_user(first, last_name=last or None, language_code=language)
        st = self.emu.state
        for chat in list(st.chats.values()):
            bot = chat.members.get(st.bot.id)
            if chat.type != "private" and bot is not None and bot.status not in ("left", "kicked"):
                await self.emu.add_member(chat.id, uid)
        return web.json_response({"ok": True, "persona": api.persona(st.users[uid])})

    async def advance(self, request: web.Request) -> web.Response:
        body = await _body(request)
        seconds = body.get("seconds")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            raise WebError("seconds must be a number")
        if not 0 < seconds <= MAX_ADVANCE:
            raise WebError("time moves forward, by at most 90 days at once")
        if self._advance is not None:
            await self._advance(float(seconds))
        else:
            await self.emu.advance(float(seconds))
        return web.json_response({"ok": True, "now": self.emu.state.clock.now()})

    async def group_action(self, request: web.Request) -> web.Response:
        """What a group's admin may do to it, as real groups do: Telegram makes a basic group
        a supergroup (past 200 members, or topics or a public link turned on); an admin
        removes the bot, or adds it back."""
        body = await _body(request)
        user = self._persona(body.get("persona"))
        chat_id = self._chat(user, body.get("chat"))
        chat = self.emu.state.chats[chat_id]
        member = chat.members.get(user)
        if chat.type == "private" or member is None or member.status not in ADMINS:
            raise WebError("only an admin of the group can do that")
        bot = chat.members.get(self.emu.state.bot.id)
        bot_in = bot is not None and bot.status not in ("left", "kicked")
        action = body.get("action")
        if action == "upgrade":
            if chat.type != "group":
                raise WebError("this group is a supergroup already")
            chat_id = await self.emu.upgrade_to_supergroup(chat_id, user)
        elif action == "remove_bot" and bot_in:
            await self.emu.remove_bot_from_group(chat_id, user)
        elif action == "add_bot" and not bot_in:
            await self.emu.add_bot_to_group(chat_id, user)
        else:
            raise WebError("action must be upgrade, remove_bot (bot in) or add_bot (bot out)")
        return web.json_response({"ok": True, "chat": chat_id})

    # --- checks ----------------------------------------------------------------------------
    def _persona(self, raw: Any) -> int:
        uid = _int(raw, "persona")
        user = self.emu.state.users.get(uid)
        if user is None or user.is_bot or uid <= 0:
            raise WebError(f"no persona {raw}")
        return uid

    def _chat(self, user: int, raw: Any) -> int:
        chat_id = _int(raw, "chat")
        chat = self.emu.state.chats.get(chat_id)
        if chat is None:
            raise WebError(f"no chat {raw}")
        if chat.type == "private" and chat_id != user:
            raise WebError("that is someone else's private chat")
        if chat.type != "private":
            member = chat.members.get(user)
            if member is None or member.status in ("left", "kicked"):
                raise WebError("this persona is not in that group")
        return chat_id

    async def _follow(self, user: int, url: str) -> int:
        parsed = urlparse(url)
        username = (self.emu.state.bot.username or "").lower()
        if (
            parsed.scheme != "https"
            or parsed.netloc != "t.me"
            or parsed.path[1:].lower() != username
        ):
            raise WebError("only t.me links to the bot open inside the sandbox")
        payload = parse_qs(parsed.query).get("start", [""])[0]
        await self.emu.send_message(user, user, f"/start {payload}".strip())
        return user


PHOTO_LIMIT = 10 * 1024 * 1024  # Telegram's limit for a photo sent by a person
_PHOTO_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")  # JPEG, PNG


def _newer(st: State, seq: int) -> bool:
    return st.closing or bool(st.events and st.events[-1]["seq"] > seq)


def _int(raw: Any, what: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"-?\d{1,20}", raw):
        return int(raw)
    raise WebError(f"{what} must be an id, got {raw!r}")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise WebError("the request body must be JSON") from None
    if not isinstance(body, dict):
        raise WebError("the request body must be a JSON object")
    return body
