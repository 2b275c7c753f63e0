"""Raw HTTP validation, callback buttons, long polling and the HTTP driver."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from sandbox.emulator import Emulator
from sandbox.errors import ApiError, DriverError
from sandbox.spec import load_schema


async def raw(emu: Emulator, method: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    url = f"{emu.base_url}/bot{emu.token}/{method}"
    async with aiohttp.ClientSession() as s, s.post(url, **kwargs) as r:
        return r.status, await r.json()


async def test_raw_validation(emu: Emulator) -> None:
    uid = await emu.add_user("Ann")
    await emu.send_message(uid, uid, "hi")
    status, body = await raw(emu, "sendMessage", json={"chat_id": uid, "text": "x", "colour": 1})
    assert (status, body["description"]) == (400, "Bad Request: unknown field colour")
    status, body = await raw(emu, "sendMessage", json={"chat_id": uid})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await raw(
        emu, "sendMessage", data={"chat_id": "abc1", "text": "x", "disable_notification": "maybe"}
    )
    assert status == 400 and "disable_notification" in body["description"]
    status, body = await raw(
        emu, "sendMessage", data={"chat_id": str(uid), "text": "x", "reply_markup": "{oops"}
    )
    assert status == 400 and "can't parse JSON" in body["description"]
    status, body = await raw(
        emu, "sendMessage", json={"chat_id": uid, "text": "x", "reply_markup": "[]"}
    )
    assert status == 400 and "reply_markup" in body["description"]
    # Form strings are coerced like Telegram does.
    status, body = await raw(
        emu, "SENDMESSAGE", data={"chat_id": str(uid), "text": "ok", "disable_notification": "true"}
    )
    assert status == 200 and body["result"]["text"] == "ok"
    status, body = await raw(emu, "noSuchMethod", json={})
    assert (status, body["description"]) == (404, "Not Found")
    status, body = await raw(
        emu, "sendPoll", json={"chat_id": uid, "question": "q", "options": [{"text": "a"}]}
    )
    assert status == 400 and "not implemented by the emulator" in body["description"]


_PLACEHOLDER = {"Integer": 1, "String": "x", "Boolean": True, "Float": 1.0}


@pytest.mark.parametrize(
    "method",
    ["sendMessage", "answerCallbackQuery", "getChatMember", "sendDocument", "pinChatMessage"],
)
def test_schema_required_fields(method: str) -> None:
    schema = load_schema()
    spec = schema.method(method)
    assert spec is not None
    required = [f for f in spec.fields.values() if f.required]
    assert required, method
    full = {f.name: _PLACEHOLDER.get(f.types[-1], "x") for f in required}
    schema.validate(spec, full, {})
    for field in required:
        partial = {k: v for k, v in full.items() if k != field.name}
        with pytest.raises(ApiError, match="empty") as info:
            schema.validate(spec, partial, {})
        assert info.value.code == 400


@contextlib.asynccontextmanager
async def running(bot: Bot, dp: Dispatcher) -> AsyncIterator[None]:
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        yield
    finally:
        await dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


def join_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Join 🛒", callback_data="join:7")]]
    )


async def test_press_button_with_real_dispatcher(emu: Emulator, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(Command("start"))
    async def start(message: Message) -> None:
        await message.answer("Deal #7", reply_markup=join_keyboard())

    @dp.callback_query(F.data.startswith("join:"))
    async def join(query: CallbackQuery) -> None:
        await query.answer(f"Joined {query.data}", show_alert=True)

    uid = await emu.add_user("Ann")
    async with running(bot, dp):
        await emu.send_message(uid, uid, "/start")
        deal = await emu.wait_for_message(uid, lambda m: m.from_bot and m.text == "Deal #7")
        assert deal.keyboard == [[("Join 🛒", "join:7")]]
        answer = await emu.press_button(uid, uid, deal.message_id, text="Join 🛒")
        assert (answer.text, answer.show_alert) == ("Joined join:7", True)
        with pytest.raises(DriverError, match="no such button"):
            await emu.press_button(uid, uid, deal.message_id, data="leave:7")
        with pytest.raises(TimeoutError):
            await emu.press_raw(uid, uid, deal.message_id, "garbage", timeout=0.5)
    assert [r.method for r in emu.requests_log].count("answerCallbackQuery") == 1


async def test_long_poll_returns_pressed_button(emu: Emulator, bot: Bot) -> None:
    uid = await emu.add_user("Ann")
    await emu.send_message(uid, uid, "/start")
    msg = await bot.send_message(uid, "Deal", reply_markup=join_keyboard())
    first = await bot.get_updates()
    offset = first[-1].update_id + 1
    poll = asyncio.create_task(bot.get_updates(offset=offset, timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    press = asyncio.create_task(emu.press_button(uid, uid, msg.message_id, data="join:7"))
    updates = await asyncio.wait_for(poll, 2)
    query = updates[0].callback_query
    assert query is not None and query.data == "join:7" and query.from_user.id == uid
    assert query.message is not None and query.message.message_id == msg.message_id
    assert await bot.answer_callback_query(query.id, text="ok")
    assert (await press).text == "ok"
    with pytest.raises(Exception, match="query is too old"):
        await bot.answer_callback_query(query.id)


async def test_callback_expiry_and_url(emu: Emulator, bot: Bot) -> None:
    uid = await emu.add_user("Ann")
    await emu.send_message(uid, uid, "/start")
    msg = await bot.send_message(uid, "Deal", reply_markup=join_keyboard())
    presses = [
        asyncio.create_task(emu.press_raw(uid, uid, msg.message_id, "join:7", timeout=1))
        for _ in range(2)
    ]
    await emu.wait_until(lambda: len(emu.state.callbacks) == 2)
    old, new = list(emu.state.callbacks)
    await emu.advance(16)
    with pytest.raises(Exception, match="query is too old"):
        await bot.answer_callback_query(old)
    emu.state.callbacks[new].created = emu.clock.now()
    with pytest.raises(Exception, match="URL_INVALID"):
        await bot.answer_callback_query(new, url="https://example.com")
    assert await bot.answer_callback_query(new, url="https://t.me/groupbuy_test_bot?start=deal_7")
    assert (await presses[1]).url == "https://t.me/groupbuy_test_bot?start=deal_7"
    with pytest.raises(TimeoutError):
        await presses[0]


async def test_http_driver(emu: Emulator) -> None:
    base = f"{emu.base_url}/_driver"
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/add_user", json={"first_name": "Web", "username": "web"}) as r:
            uid = (await r.json())["result"]
        async with s.post(
            f"{base}/send_message", json={"user_id": uid, "chat_id": uid, "text": "/start"}
        ) as r:
            assert (await r.json())["result"]["text"] == "/start"
        async with s.get(f"{base}/messages", params={"chat_id": uid}) as r:
            msgs = (await r.json())["result"]
            assert msgs[0]["text"] == "/start" and msgs[0]["from_bot"] is False
        async with s.post(f"{base}/add_user", json={"nope": 1}) as r:
            assert r.status == 400 and "bad arguments" in (await r.json())["error"]
        async with s.post(
            f"{base}/press_button",
            json={"user_id": uid, "chat_id": uid, "message_id": 1, "data": "x"},
        ) as r:
            assert r.status == 400
        async with s.get(f"{base}/events", params={"after": 0, "timeout": 1}) as r:
            events = (await r.json())["result"]
            assert any(e["type"] == "message" for e in events)
        last = events[-1]["seq"]
        poll = asyncio.create_task(s.get(f"{base}/events", params={"after": last, "timeout": 5}))
        await asyncio.sleep(0.05)
        await emu.send_message(uid, uid, "second")
        async with await poll as r:
            assert [e["type"] for e in (await r.json())["result"]] == ["message"]


async def test_stop_releases_long_poll() -> None:
    emu = Emulator(token="7:T")
    await emu.start()
    bot = Bot(emu.token, session=emu.aiogram_session())
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await emu.stop()
    assert loop.time() - started < 1.5
    assert await asyncio.wait_for(poll, 2) == []
    await bot.session.close()
