"""Bot API emulation seen through a real aiogram Bot over loopback HTTP."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import (
    BufferedInputFile,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from sandbox.emulator import Emulator
from sandbox.state import ANONYMOUS_ADMIN_ID


def kb(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


async def started_user(emu: Emulator, name: str = "Ann") -> int:
    uid = await emu.add_user(name, username=name.lower())
    await emu.send_message(uid, uid, "/start")
    return uid


async def test_get_me(emu: Emulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "groupbuy_test_bot" and me.id == 4242


async def test_wrong_token_is_unauthorized(emu: Emulator) -> None:
    from aiogram.exceptions import TelegramUnauthorizedError

    other = Bot("4242:WRONG", session=emu.aiogram_session())
    with pytest.raises(TelegramUnauthorizedError):
        await other.get_me()
    await other.session.close()


async def test_cannot_initiate_conversation(emu: Emulator, bot: Bot) -> None:
    uid = await emu.add_user("Bob")
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(uid, "hello")
    await emu.send_message(uid, uid, "/start")
    assert (await bot.send_message(uid, "hello")).text == "hello"
    await emu.block_bot(uid)
    with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
        await bot.send_message(uid, "hello again")


async def test_chat_not_found(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-100123, "x")


async def test_text_limits(emu: Emulator, bot: Bot) -> None:
    uid = await started_user(emu)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(uid, "x" * 4097)
    # The limit counts text after entity parsing: tags do not count.
    await bot.send_message(uid, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(uid, "<b></b>", parse_mode="HTML")
    doc = BufferedInputFile(b"data", "a.txt")
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_document(uid, doc, caption="c" * 1025)


async def test_callback_data_limit(emu: Emulator, bot: Bot) -> None:
    uid = await started_user(emu)
    await bot.send_message(
        uid, "ok", reply_markup=kb(InlineKeyboardButton(text="a", callback_data="x" * 64))
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            uid, "no", reply_markup=kb(InlineKeyboardButton(text="a", callback_data="x" * 65))
        )
    with pytest.raises(TelegramBadRequest, match="Wrong HTTP URL"):
        await bot.send_message(
            uid, "no", reply_markup=kb(InlineKeyboardButton(text="a", url="nope"))
        )
    builder = InlineKeyboardBuilder()
    for i in range(101):
        builder.button(text=str(i), callback_data=str(i))
    with pytest.raises(TelegramBadRequest, match="BUTTONS_TOO_MUCH"):
        await bot.send_message(uid, "many", reply_markup=builder.as_markup())


async def test_html_validation(emu: Emulator, bot: Bot) -> None:
    from html import escape

    uid = await started_user(emu)
    evil = 'Tom & Jerry <script>alert("x")</script>'
    msg = await bot.send_message(uid, f"<b>Deal</b>: {escape(evil)}", parse_mode="HTML")
    assert msg.text == f"Deal: {evil}"
    assert msg.entities and msg.entities[0].type == "bold"
    last = emu.last_message(uid)
    assert last is not None
    assert last.html == f"<b>Deal</b>: {escape(evil)}"
    for bad in ("<script>x</script>", "<b>open", "<b><i>x</b></i>", "a < b", "R&D", "<br>"):
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(uid, bad, parse_mode="HTML")
    ok = '<a href="https://x.org/?a=1&amp;b=2">l</a> <span class="tg-spoiler">s</span> &#128512;'
    await bot.send_message(uid, ok + " <blockquote expandable>q</blockquote>", parse_mode="HTML")


async def test_not_modified_edit(emu: Emulator, bot: Bot) -> None:
    uid = await started_user(emu)
    markup = kb(InlineKeyboardButton(text="Join", callback_data="join"))
    msg = await bot.send_message(uid, "v1", reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="v1", chat_id=uid, message_id=msg.message_id, reply_markup=markup
        )
    await bot.edit_message_text(
        text="v2", chat_id=uid, message_id=msg.message_id, reply_markup=markup
    )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="v3", chat_id=uid, message_id=999)
    last = emu.last_message(uid)
    assert (
        last is not None and last.text == "v2" and last.edit_count == 1 and last.history == ["v1"]
    )
    assert emu.stats()["chats"][str(uid)]["edits"] == 1


async def test_injected_flood(emu: Emulator, bot: Bot) -> None:
    uid = await started_user(emu)
    await emu.inject_flood("sendMessage", count=1, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(uid, "x")
    assert info.value.retry_after == 7
    await bot.send_message(uid, "now fine")
    await emu.inject_flood(None, count=1, retry_after=3)
    with pytest.raises(TelegramRetryAfter):
        await bot.get_me()


async def test_enforced_flood_limits() -> None:
    async with Emulator(token="1:T", enforce_flood_limits=True) as emu:
        bot = Bot(emu.token, session=emu.aiogram_session())
        uid = await started_user(emu)
        await bot.send_message(uid, "1")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(uid, "2")
        await emu.advance(1.5)
        await bot.send_message(uid, "3")
        await bot.session.close()


async def test_document_bytes_and_get_file(emu: Emulator, bot: Bot) -> None:
    uid = await started_user(emu)
    sent = await bot.send_document(
        uid, BufferedInputFile(b"%PDF-1.4 fake", "pickup.pdf"), caption="List"
    )
    assert emu.document_bytes(uid, sent.message_id) == b"%PDF-1.4 fake"
    snap = emu.last_message(uid)
    assert snap is not None and snap.document is not None
    assert snap.document.file_name == "pickup.pdf" and snap.document.mime_type == "application/pdf"
    assert sent.document is not None
    f = await bot.get_file(sent.document.file_id)
    assert f.file_path is not None
    data = await bot.download_file(f.file_path)
    assert data is not None and data.read() == b"%PDF-1.4 fake"


async def test_anonymous_admin_message(emu: Emulator, bot: Bot) -> None:
    owner = await emu.add_user("Olga")
    member = await emu.add_user("Max")
    group = await emu.create_group("Street 5", owner=owner, members=[member])
    await emu.add_bot_to_group(group, owner)
    await emu.make_admin(group, owner, anonymous=True)
    msg = await emu.send_message(
        owner, group, "/newdeal@groupbuy_test_bot", as_anonymous_admin=True
    )
    assert (
        msg["from"]["id"] == ANONYMOUS_ADMIN_ID and msg["from"]["username"] == "GroupAnonymousBot"
    )
    assert msg["sender_chat"]["id"] == group
    assert msg["entities"] == [{"type": "bot_command", "offset": 0, "length": 26}]
    admins = await bot.get_chat_administrators(group)
    assert len(admins) == 1, admins
    creator = admins[0]
    assert isinstance(creator, ChatMemberOwner), creator
    assert (creator.user.id, creator.status, creator.is_anonymous) == (owner, "creator", True)
    me = await bot.get_chat_member(group, 4242)
    assert me.status == "member"
    updates = await bot.get_updates()
    kinds = [u.event_type for u in updates]
    assert kinds == ["my_chat_member", "message", "message"]
    assert updates[1].message is not None and updates[1].message.new_chat_members is not None


async def test_pin_delete_and_leave(emu: Emulator, bot: Bot) -> None:
    owner = await emu.add_user("Olga")
    group = await emu.create_group("G", owner=owner)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(group, "not a member yet")
    await emu.add_bot_to_group(group, owner)
    m = await bot.send_message(group, "deal")
    assert await bot.pin_chat_message(group, m.message_id)
    assert await bot.unpin_chat_message(group, message_id=m.message_id)
    assert await bot.send_chat_action(group, "typing")
    assert await bot.delete_message(group, m.message_id)
    assert emu.messages(group)[-1].message_id == 1  # only the join message remains
    assert await bot.leave_chat(group)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(group, "gone")


async def test_a_basic_group_upgraded_to_a_supergroup(emu: Emulator, bot: Bot) -> None:
    from aiogram.exceptions import TelegramMigrateToChat

    owner = await started_user(emu, "Olga")
    old = await emu.create_group("Garden", owner=owner, basic=True)
    await emu.add_bot_to_group(old, owner)
    assert (await bot.get_chat(old)).type == "group"
    skip = (await bot.get_updates())[-1].update_id + 1
    new = await emu.upgrade_to_supergroup(old, owner, order="from,to", times=2)

    updates = await bot.get_updates(offset=skip)
    said = [
        (u.message.chat.id, u.message.migrate_to_chat_id, u.message.migrate_from_chat_id)
        for u in updates
        if u.message is not None
    ]
    assert said == [(new, None, old), (old, new, None)] * 2
    with pytest.raises(TelegramMigrateToChat) as moved:
        await bot.send_message(old, "hello")
    assert moved.value.migrate_to_chat_id == new
    # The members (the bot among them) are in the new supergroup.
    assert (await bot.get_chat(new)).type == "supergroup"
    assert (await bot.send_message(new, "hello")).chat.id == new
    assert {m.user.id for m in await bot.get_chat_administrators(new)} == {owner}
