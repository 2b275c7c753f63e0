"""World setup for the driver: users, groups, membership, and user-authored messages.

Split from ``driver.py`` to keep modules small; ``Driver`` extends ``WorldDriver``.
"""

from __future__ import annotations

import itertools
from typing import Any

from sandbox import render
from sandbox.clock import Clock
from sandbox.errors import DriverError
from sandbox.faults import Faults
from sandbox.flood import FloodControl
from sandbox.state import ANONYMOUS_ADMIN_ID, ChatRec, MemberRec, MessageRec, State, UserRec

# Module-level counters so ids never collide even across emulators in one process.
_user_ids = itertools.count(100_000_001)
_group_ids = itertools.count(1)


class WorldDriver:
    state: State
    flood: FloodControl
    faults: Faults
    clock: Clock

    # --- world setup -----------------------------------------------------------
    async def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> int:
        uid = user_id if user_id is not None else next(_user_ids)
        while user_id is None and uid in self.state.users:
            uid = next(_user_ids)
        if uid in self.state.users or uid <= 0:
            raise DriverError(f"user id {uid} is taken or invalid")
        self.state.users[uid] = UserRec(uid, first_name, last_name, username, language_code)
        self.state.chats[uid] = ChatRec(uid, "private")
        self.state.changed({"type": "user", "user_id": uid})
        return uid

    async def create_group(
        self,
        title: str,
        *,
        owner: int,
        members: list[int] | tuple[int, ...] = (),
        basic: bool = False,
        forum: bool = False,
    ) -> int:
        """A supergroup; `basic`: a basic group (a short id), which can be upgraded later;
        `forum`: a supergroup with topics (create_topic)."""
        chat_id = self._new_group_id(basic)
        chat = ChatRec(chat_id, "group" if basic else "supergroup", title, is_forum=forum)
        chat.members[self._user(owner).id] = MemberRec(owner, "creator")
        for uid in members:
            if uid != owner:
                chat.members[self._user(uid).id] = MemberRec(uid, "member")
        self.state.chats[chat_id] = chat
        self.state.changed({"type": "group", "chat_id": chat_id})
        return chat_id

    def _new_group_id(self, basic: bool) -> int:
        base = -5_000 if basic else -1_000_000_000_000
        chat_id = base - next(_group_ids)
        while chat_id in self.state.chats:  # a restored snapshot may hold earlier groups
            chat_id = base - next(_group_ids)
        return chat_id

    async def upgrade_to_supergroup(
        self, chat_id: int, by_user: int, *, order: str = "to,from", times: int = 1
    ) -> int:
        """What Telegram does when a basic group passes 200 members, or an admin turns on
        topics or a public link: the members move to a new supergroup with a new id; the old
        chat gets a service message with `migrate_to_chat_id`, the new one a message with
        `migrate_from_chat_id`, and every call naming the old id is answered 400 with
        `parameters.migrate_to_chat_id`. `order` ("to,from" or "from,to") and `times` replay
        the two service messages the way Telegram may deliver them. Returns the new id."""
        old = self._group(chat_id)
        if old.type != "group" or old.migrated_to is not None:
            raise DriverError(f"{chat_id} is not a basic group")
        self._member(old, by_user)
        new_id = self._new_group_id(False)
        new = ChatRec(new_id, "supergroup", old.title)
        new.members = {
            uid: MemberRec(m.user_id, m.status, m.is_anonymous) for uid, m in old.members.items()
        }
        self.state.chats[new_id] = new
        old.migrated_to = new_id
        st = self.state
        service = {
            "to": (old, {"migrate_to_chat_id": new_id}),
            "from": (new, {"migrate_from_chat_id": chat_id}),
        }
        for _ in range(times):
            for side in order.split(","):
                chat, extra = service[side.strip()]
                msg = MessageRec(
                    chat_id=chat.id,
                    message_id=st.next_message_id(chat.id),
                    from_id=by_user,
                    date=int(st.clock.now()),
                    extra=dict(extra),
                )
                st.add_message(msg)
                st.push_update("message", render.dump(render.message(st, msg)))
        st.changed({"type": "group", "chat_id": new_id})
        return new_id

    async def create_topic(self, chat_id: int, by_user: int, name: str) -> int:
        """A topic in a forum group: its id is that of its forum_topic_created message."""
        chat = self._group(chat_id)
        if not chat.is_forum:
            raise DriverError(f"{chat_id} has no topics")
        thread = self.state.next_message_id(chat_id)
        chat.topics[thread] = False
        created = {"name": name, "icon_color": 7322096}
        self._user_message(
            by_user,
            chat,
            extra={
                "forum_topic_created": created,
                "message_thread_id": thread,
                "is_topic_message": True,
            },
        )
        return thread

    async def close_topic(self, chat_id: int, thread_id: int) -> None:
        chat = self._group(chat_id)
        if thread_id not in chat.topics:
            raise DriverError(f"no topic {thread_id} in {chat_id}")
        chat.topics[thread_id] = True

    async def add_member(self, chat_id: int, user_id: int) -> None:
        self._group(chat_id).members[self._user(user_id).id] = MemberRec(user_id, "member")
        self.state.changed({"type": "member", "chat_id": chat_id, "user_id": user_id})

    async def add_bot_to_group(self, chat_id: int, by_user: int) -> None:
        """Telegram sends my_chat_member (left -> member) and a new_chat_members message."""
        chat, st = self._group(chat_id), self.state
        self._member(chat, by_user)
        self._set_bot_status(chat, by_user, "member")
        bot_user = render.dump(render.user(st.bot))
        self._user_message(by_user, chat, extra={"new_chat_members": [bot_user]})

    async def remove_bot_from_group(self, chat_id: int, by_user: int) -> None:
        """An admin removes the bot: Telegram sends my_chat_member (member -> kicked), and from
        then on answers the bot's calls about the group with 403."""
        chat = self._group(chat_id)
        self._set_bot_status(chat, by_user, "kicked")
        self.state.changed({"type": "member", "chat_id": chat_id, "user_id": self.state.bot.id})

    def _set_bot_status(self, chat: ChatRec, by_user: int, status: str) -> None:
        st = self.state
        bot_id = st.bot.id
        old = render.dump(render.member(st, chat, bot_id))
        chat.members[bot_id] = MemberRec(bot_id, status)
        st.push_update(
            "my_chat_member",
            {
                "chat": render.dump(render.chat(st, chat)),
                "from": render.dump(render.user(st.users[by_user])),
                "date": int(st.clock.now()),
                "old_chat_member": old,
                "new_chat_member": render.dump(render.member(st, chat, bot_id)),
            },
        )

    async def restrict_bot(self, chat_id: int, by_user: int, *, muted: bool = True) -> None:
        """An admin takes the bot's right to send messages (or gives it back): Telegram sends
        my_chat_member, and answers the bot's sends there with 400 "not enough rights"."""
        chat = self._group(chat_id)
        self._member(chat, by_user)
        self._set_bot_status(chat, by_user, "restricted" if muted else "member")
        self.state.changed({"type": "member", "chat_id": chat_id, "user_id": self.state.bot.id})

    async def make_admin(self, chat_id: int, user_id: int, *, anonymous: bool = False) -> None:
        chat = self._group(chat_id)
        current = self._member(chat, user_id)
        status = "creator" if current.status == "creator" else "administrator"
        self._set_member(chat, user_id, MemberRec(user_id, status, anonymous))

    async def remove_admin(self, chat_id: int, user_id: int) -> None:
        chat = self._group(chat_id)
        if self._member(chat, user_id).status == "creator":
            raise DriverError("the owner cannot be demoted")
        self._set_member(chat, user_id, MemberRec(user_id, "member"))

    def _set_member(self, chat: ChatRec, user_id: int, record: MemberRec) -> None:
        """Change someone's standing; Telegram tells the bot with a chat_member update, but only
        a bot that is an administrator of the chat (and asked for them in allowed_updates)."""
        st = self.state
        old = render.dump(render.member(st, chat, user_id))
        chat.members[user_id] = record
        bot = chat.members.get(st.bot.id)
        if user_id != st.bot.id and bot is not None and bot.status == "administrator":
            owner = next(
                (m.user_id for m in chat.members.values() if m.status == "creator"), user_id
            )
            st.push_update(
                "chat_member",
                {
                    "chat": render.dump(render.chat(st, chat)),
                    "from": render.dump(render.user(st.users[owner])),
                    "date": int(st.clock.now()),
                    "old_chat_member": old,
                    "new_chat_member": render.dump(render.member(st, chat, user_id)),
                },
            )
        st.changed({"type": "member", "chat_id": chat.id, "user_id": user_id})

    async def block_bot(self, user_id: int) -> None:
        self._user(user_id).blocked = True
        self.state.changed({"type": "block", "user_id": user_id})

    # --- helpers ----------------------------------------------------------------------
    def _user(self, user_id: int) -> UserRec:
        user = self.state.users.get(user_id)
        if user is None:
            raise DriverError(f"unknown user {user_id}")
        return user

    def _group(self, chat_id: int) -> ChatRec:
        chat = self.state.chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise DriverError(f"no group {chat_id}")
        return chat

    def _member(self, chat: ChatRec, user_id: int) -> MemberRec:
        m = chat.members.get(self._user(user_id).id)
        if m is None or m.status in ("left", "kicked"):
            raise DriverError(f"user {user_id} is not a member of {chat.id}")
        return m

    def _chat_for(self, user_id: int, chat_id: int) -> ChatRec:
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise DriverError(f"unknown chat {chat_id}")
        if chat.type == "private":
            if chat.id != user_id:
                raise DriverError(f"user {user_id} cannot write in {chat_id}'s private chat")
        else:
            self._member(chat, user_id)
        return chat

    def _user_message(
        self,
        user_id: int,
        chat: ChatRec,
        *,
        text: str | None = None,
        caption: str | None = None,
        photo: str | None = None,
        as_anonymous_admin: bool = False,
        reply_to: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> MessageRec:
        st = self.state
        if chat.type == "private":
            user = self._user(user_id)
            user.started_bot, user.blocked = True, False  # writing to a bot (re)starts it
        from_id, sender_chat = user_id, None
        if as_anonymous_admin:
            m = self._member(chat, user_id)
            if m.status not in ("creator", "administrator") or not m.is_anonymous:
                raise DriverError(f"user {user_id} is not an anonymous admin of {chat.id}")
            from_id, sender_chat = ANONYMOUS_ADMIN_ID, chat.id
        body = text if text is not None else caption
        msg = MessageRec(
            chat_id=chat.id,
            message_id=st.next_message_id(chat.id),
            from_id=from_id,
            date=int(st.clock.now()),
            text=text,
            caption=caption,
            photo=photo,
            entities=render.command_entities(body) if body else [],
            sender_chat_id=sender_chat,
            reply_to=reply_to,
            extra=extra or {},
        )
        st.add_message(msg)
        st.push_update("message", render.dump(render.message(st, msg)))
        return msg
