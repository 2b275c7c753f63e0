"""Bot identity, commands, chat info, membership and files."""

from __future__ import annotations

from typing import Any

from aiogram.types import AcceptedGiftTypes, ChatFullInfo, ChatMemberLeft, ChatMemberMember, File

from sandbox import render
from sandbox.errors import bad_request, forbidden
from sandbox.methods.base import Ctx, Params, method, writable_chat
from sandbox.state import ChatRec, MemberRec


@method("getMe")
async def get_me(ctx: Ctx, p: Params) -> Any:
    data = render.dump(render.user(ctx.state.bot))
    data.update(can_join_groups=True, can_read_all_group_messages=False)
    data.update(supports_inline_queries=False)
    return data


@method("setMyCommands")
async def set_my_commands(ctx: Ctx, p: Params) -> Any:
    key = _commands_key(p)
    ctx.state.commands[key] = list(p["commands"])
    return True


@method("deleteMyCommands")
async def delete_my_commands(ctx: Ctx, p: Params) -> Any:
    ctx.state.commands.pop(_commands_key(p), None)
    return True


def _commands_key(p: Params) -> str:
    scope = p.get("scope", {"type": "default"})
    return f"{scope.get('type')}:{scope.get('chat_id', '')}:{p.get('language_code', '')}"


@method("getChat")
async def get_chat(ctx: Ctx, p: Params) -> Any:
    chat = ctx.state.resolve_chat(p["chat_id"])
    base = render.dump(render.chat(ctx.state, chat))
    info = ChatFullInfo(
        **base,
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types=AcceptedGiftTypes(
            unlimited_gifts=False,
            limited_gifts=False,
            unique_gifts=False,
            premium_subscription=False,
            gifts_from_channels=False,
        ),
    )
    return render.dump(info)


def _bot_is_in(ctx: Ctx, chat: ChatRec) -> None:
    """A group the bot has left or was removed from: Telegram answers 403 about it."""
    status = chat.members.get(ctx.state.bot.id)
    if status is None or status.status in ("left", "kicked"):
        kicked = status is not None and status.status == "kicked"
        raise forbidden(
            f"bot was kicked from the {chat.type} chat"
            if kicked
            else f"bot is not a member of the {chat.type} chat"
        )


@method("getChatAdministrators")
async def get_chat_administrators(ctx: Ctx, p: Params) -> Any:
    chat = ctx.state.resolve_chat(p["chat_id"])
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    _bot_is_in(ctx, chat)
    admins = [m for m in chat.members.values() if m.status in ("creator", "administrator")]
    return [render.dump(render.member(ctx.state, chat, m.user_id)) for m in admins]


@method("getChatMember")
async def get_chat_member(ctx: Ctx, p: Params) -> Any:
    chat = ctx.state.resolve_chat(p["chat_id"])
    user_id = p["user_id"]
    if user_id not in ctx.state.users:
        raise bad_request("user not found")
    if chat.type == "private":
        u = render.user(ctx.state.users[user_id])
        in_chat = user_id in (chat.id, ctx.state.bot.id)
        m = ChatMemberMember(user=u) if in_chat else ChatMemberLeft(user=u)
        return render.dump(m)
    if user_id != ctx.state.bot.id:
        _bot_is_in(ctx, chat)
    return render.dump(render.member(ctx.state, chat, user_id))


@method("sendChatAction")
async def send_chat_action(ctx: Ctx, p: Params) -> Any:
    writable_chat(ctx, p["chat_id"])
    return True


@method("leaveChat")
async def leave_chat(ctx: Ctx, p: Params) -> Any:
    chat = ctx.state.resolve_chat(p["chat_id"])
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    bot_id = ctx.state.bot.id
    old = chat.members.get(bot_id)
    if old is None or old.status in ("left", "kicked"):
        raise bad_request("bot is not a member of the supergroup chat")
    old_member = render.dump(render.member(ctx.state, chat, bot_id))
    chat.members[bot_id] = MemberRec(bot_id, "left")
    ctx.state.push_update(
        "my_chat_member",
        {
            "chat": render.dump(render.chat(ctx.state, chat)),
            "from": render.dump(render.user(ctx.state.bot)),
            "date": int(ctx.state.clock.now()),
            "old_chat_member": old_member,
            "new_chat_member": render.dump(render.member(ctx.state, chat, bot_id)),
        },
    )
    return True


@method("getFile")
async def get_file(ctx: Ctx, p: Params) -> Any:
    f = ctx.state.files.get(p["file_id"])
    if f is None:
        raise bad_request("invalid file_id")
    return render.dump(
        File(
            file_id=f.file_id,
            file_unique_id=f.file_unique_id,
            file_size=len(f.data),
            file_path=f.file_path,
        )
    )
