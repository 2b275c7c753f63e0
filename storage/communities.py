"""Communities, users and residents' profiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Executable, bindparam, delete, insert, select, update

from groupbuy.model import BotStatus, Community, DealStatus, Resident, User
from storage import convert
from storage.db import Db
from storage.tables import (
    CommunityRow,
    DealRow,
    DialogRow,
    GroupAdminRow,
    OrderRow,
    OutboxRow,
    ResidentRow,
    UserRow,
    table_of,
)
from storage.upsert import dialect_insert, insert_for

# Read on every notice and most presses: plain-table statements built once, not the ORM's
# identity-map get (about a millisecond each through it, loading an ORM object only to convert).
_communities = table_of(CommunityRow)
_COMMUNITY = select(*_communities.c).where(_communities.c.chat_id == bindparam("chat"))
_USER = select(*table_of(UserRow).c).where(table_of(UserRow).c.id == bindparam("user"))


class SqlCommunities:
    def __init__(self, session: Db) -> None:
        self._s = session

    async def get(self, chat_id: int) -> Community | None:
        row = (await self._s.execute(_COMMUNITY, {"chat": chat_id})).first()
        return convert.community(row) if row else None

    async def save(self, community: Community) -> None:
        values = {
            "chat_id": community.chat_id,
            "title": community.title,
            "name": community.name,
            "buildings": "\n".join(community.buildings),
            "currency": community.currency,
            "timezone": community.timezone,
            "locale": community.locale,
            "configured": community.configured,
            "payment_mode": community.payment_mode.value,
            "payment_window_minutes": community.payment_window_minutes,
            "topic_id": community.topic_id,
            "payee": community.payee,
            "payee_photo": community.payee_photo,
        }
        # The bot's standing is not the leader's to save: only set_bot_status changes it.
        stmt = insert_for(self._s, CommunityRow).values(
            **values, bot_status=community.bot_status.value
        )
        stmt = stmt.on_conflict_do_update(index_elements=["chat_id"], set_=values)
        await self._s.execute(stmt)

    async def set_bot_status(self, chat_id: int, status: BotStatus) -> BotStatus | None:
        """Record the bot's standing in the group; what it was before, or None when nothing
        changed (the same status heard again, or no community for the chat)."""
        was = await self._s.scalar(
            select(CommunityRow.bot_status).where(CommunityRow.chat_id == chat_id)
        )
        if was is None or was == status.value:
            return None
        await self._s.execute(
            update(CommunityRow)
            .where(CommunityRow.chat_id == chat_id)
            .values(bot_status=status.value)
        )
        return BotStatus(was)

    async def record_admins(self, chat_id: int, user_ids: frozenset[int], now: datetime) -> None:
        """The group's admins are now these: only the rows that differ change."""
        recorded = set(
            await self._s.scalars(
                select(GroupAdminRow.user_id).where(GroupAdminRow.chat_id == chat_id)
            )
        )
        gone = recorded - user_ids
        if gone:
            await self._s.execute(
                delete(GroupAdminRow).where(
                    GroupAdminRow.chat_id == chat_id, GroupAdminRow.user_id.in_(gone)
                )
            )
        added = user_ids - recorded
        if added:
            rows = [{"chat_id": chat_id, "user_id": u, "recorded_at": now} for u in added]
            await self._s.execute(insert(GroupAdminRow), rows)

    async def move(self, old: int, new: int) -> list[int] | None:
        """Telegram moved the group to a new chat id (a basic group became a supergroup):
        everything addressed to the old id is addressed to the new one, in this transaction.
        The community (onto a row the bot made for the new chat meanwhile, unless that one was
        set up), its residents, deals, orders, the admin record, every outbox row and the
        dialogs that name it. The deals' posts are gone with the old chat (post_message_id
        cleared). Returns the open deals whose post was up, to be posted again; None, and nothing
        changed, when there is no community at the old id (moved already)."""
        row = await self._s.get(CommunityRow, old, populate_existing=True)
        if row is None:
            return None
        there = await self._s.get(CommunityRow, new, populate_existing=True)
        if there is None or not there.configured:
            await self.save(replace(convert.community(row), chat_id=new))
        # Rows the new chat already has for the same people give way to the moved ones.
        residents = select(ResidentRow.user_id).where(ResidentRow.community_id == old)
        await self._s.execute(
            delete(ResidentRow).where(
                ResidentRow.community_id == new, ResidentRow.user_id.in_(residents)
            )
        )
        await self._s.execute(
            update(ResidentRow).where(ResidentRow.community_id == old).values(community_id=new)
        )
        admins = select(GroupAdminRow.user_id).where(GroupAdminRow.chat_id == old)
        await self._s.execute(
            delete(GroupAdminRow).where(
                GroupAdminRow.chat_id == new, GroupAdminRow.user_id.in_(admins)
            )
        )
        await self._s.execute(
            update(GroupAdminRow).where(GroupAdminRow.chat_id == old).values(chat_id=new)
        )
        repost = list(
            await self._s.scalars(
                select(DealRow.id).where(
                    DealRow.community_id == old,
                    DealRow.status == DealStatus.OPEN.value,
                    DealRow.post_chat_id == old,
                    DealRow.post_message_id.is_not(None),
                )
            )
        )
        await self._s.execute(
            update(DealRow).where(DealRow.community_id == old).values(community_id=new)
        )
        await self._s.execute(
            update(DealRow)
            .where(DealRow.post_chat_id == old)
            .values(post_chat_id=new, post_message_id=None)
        )
        await self._s.execute(
            update(OrderRow).where(OrderRow.community_id == old).values(community_id=new)
        )
        await self._s.execute(update(OutboxRow).where(OutboxRow.chat_id == old).values(chat_id=new))
        # Few rows (one per person in a dialog), and JSON is read differently by each database.
        for user_id, data in (
            await self._s.execute(select(DialogRow.user_id, DialogRow.data))
        ).all():
            if data.get("community") == old:
                await self._s.execute(
                    update(DialogRow)
                    .where(DialogRow.user_id == user_id)
                    .values(data={**data, "community": new})
                )
        await self._s.execute(delete(CommunityRow).where(CommunityRow.chat_id == old))
        return sorted(repost)

    async def records_admin(self, chat_id: int, user_id: int) -> bool:
        """Whether the bot's own record has this person as an admin of the group."""
        found = await self._s.scalar(
            select(GroupAdminRow.user_id).where(
                GroupAdminRow.chat_id == chat_id, GroupAdminRow.user_id == user_id
            )
        )
        return found is not None

    async def record_admin(self, chat_id: int, user_id: int, admin: bool, now: datetime) -> None:
        if not admin:
            await self._s.execute(
                delete(GroupAdminRow).where(
                    GroupAdminRow.chat_id == chat_id, GroupAdminRow.user_id == user_id
                )
            )
            return
        values = {"chat_id": chat_id, "user_id": user_id, "recorded_at": now}
        stmt = insert_for(self._s, GroupAdminRow).values(**values)
        await self._s.execute(
            stmt.on_conflict_do_update(index_elements=["chat_id", "user_id"], set_=values)
        )

    async def led_by(self, user_id: int) -> list[Community]:
        rows = await self._s.scalars(
            select(CommunityRow)
            .join(GroupAdminRow, GroupAdminRow.chat_id == CommunityRow.chat_id)
            .where(GroupAdminRow.user_id == user_id, CommunityRow.configured.is_(True))
            .order_by(CommunityRow.chat_id)
        )
        return [convert.community(r) for r in rows]

    async def configured(self, limit: int) -> list[Community]:
        rows = await self._s.scalars(
            select(CommunityRow)
            .where(CommunityRow.configured.is_(True))
            .order_by(CommunityRow.chat_id)
            .limit(limit)
        )
        return [convert.community(r) for r in rows]


# Asked on every press, so built once (see storage/deals.py): plain-table statements.
_users = table_of(UserRow)
_residents = table_of(ResidentRow)
_RESIDENT = select(_residents).where(
    _residents.c.community_id == bindparam("community"), _residents.c.user_id == bindparam("user")
)
_SEEN: dict[str, Executable] = {}


def _seen(dialect: str) -> Executable:
    """Record a user as Telegram shows them now; the dialect's upsert, built on first use."""
    built = _SEEN.get(dialect)
    if built is None:
        insert = dialect_insert(dialect)
        stmt = insert(_users).values(
            id=bindparam("id"),
            first_name=bindparam("first_name"),
            last_name=bindparam("last_name"),
            username=bindparam("username"),
            language_code=bindparam("language_code"),
            locale=None,
            started=bindparam("started"),
        )
        built = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "first_name": stmt.excluded.first_name,
                "last_name": stmt.excluded.last_name,
                "username": stmt.excluded.username,
                "language_code": stmt.excluded.language_code,
                # once a user has started the bot, that stays true
                "started": _users.c.started | stmt.excluded.started,
            },
        ).returning(*_users.c)
        _SEEN[dialect] = built
    return built


class SqlUsers:
    def __init__(self, session: Db) -> None:
        self._s = session

    async def get(self, user_id: int) -> User | None:
        row = (await self._s.execute(_USER, {"user": user_id})).first()
        return convert.user(row) if row else None

    async def seen(self, user: User) -> User:
        values = {
            "id": user.id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "username": user.username,
            "language_code": user.language_code,
            "started": user.started,
        }
        row = (await self._s.execute(_seen(self._s.get_bind().dialect.name), values)).one()
        return User(
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            username=row.username,
            language_code=row.language_code,
            locale=row.locale,
            started=bool(row.started),
        )

    async def set_locale(self, user_id: int, locale: str | None) -> None:
        await self._s.execute(update(UserRow).where(UserRow.id == user_id).values(locale=locale))

    async def resident(self, community_id: int, user_id: int) -> Resident | None:
        params = {"community": community_id, "user": user_id}
        row = (await self._s.execute(_RESIDENT, params)).first()
        return convert.resident(row) if row else None

    async def save_resident(self, resident: Resident) -> None:
        values = {
            "community_id": resident.community_id,
            "user_id": resident.user_id,
            "building": resident.building,
            "unit": resident.unit,
            "room": resident.room,
            "phone": resident.phone,
        }
        stmt = insert_for(self._s, ResidentRow).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["community_id", "user_id"], set_=values)
        await self._s.execute(stmt)

    async def remember_point(self, community_id: int, user_id: int, point_id: int) -> None:
        await self._s.execute(
            update(ResidentRow)
            .where(ResidentRow.community_id == community_id, ResidentRow.user_id == user_id)
            .values(point_id=point_id)
        )

    async def residents(self, community_id: int, user_ids: Sequence[int]) -> dict[int, Resident]:
        found: dict[int, Resident] = {}
        table = ResidentRow.__table__
        for chunk in _chunks(user_ids):
            rows = await self._s.execute(  # plain columns: lists read thousands at a time
                select(*table.c).where(
                    table.c.community_id == community_id, table.c.user_id.in_(chunk)
                )
            )
            found.update({r.user_id: convert.resident(r) for r in rows})
        return found

    async def many(self, user_ids: Sequence[int]) -> dict[int, User]:
        found: dict[int, User] = {}
        table = UserRow.__table__
        for chunk in _chunks(user_ids):
            rows = await self._s.execute(select(*table.c).where(table.c.id.in_(chunk)))
            found.update({r.id: convert.user(r) for r in rows})
        return found


def _chunks(ids: Sequence[int], size: int = 900) -> list[Sequence[int]]:
    # SQLite caps bound parameters per statement; 100k-order lists are read in slices.
    return [ids[i : i + size] for i in range(0, len(ids), size)]
