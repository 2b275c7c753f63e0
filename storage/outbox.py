"""The outbox of notices and the dialogs' saved state."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from groupbuy.model import BotStatus
from groupbuy.notices import Notice, NoticeKind, PendingNotice
from storage.db import Db
from storage.tables import CommunityRow, DialogRow, OutboxRow
from storage.upsert import insert_for

_SILENT_GROUPS = select(CommunityRow.chat_id).where(
    CommunityRow.bot_status.in_([s.value for s in BotStatus if not s.can_post])
)


class SqlOutbox:
    def __init__(self, session: Db) -> None:
        self._s = session

    async def add(self, notices: Sequence[Notice], now: datetime) -> None:
        if not notices:
            return
        rows = [
            {
                "kind": n.kind.value,
                "chat_id": n.chat_id,
                "deal_id": n.deal_id,
                "user_id": n.user_id,
                "ref": n.ref,
                "created_at": now,
                "attempts": 0,
                "due_at": now,
                "done": False,
            }
            for n in notices
        ]
        # (kind, deal, chat, ref) is unique: the same notice written twice is sent once. One
        # statement with many parameter sets: compiled once, however many buyers a deal has.
        await self._s.execute(insert_for(self._s, OutboxRow).on_conflict_do_nothing(), rows)

    async def claim(
        self, now: datetime, limit: int, lease_seconds: int, skip_chats: Collection[int] = ()
    ) -> list[PendingNotice]:
        """Take due notices and push their due time forward: a lease, so a sender that dies
        mid-send lets another retry after the lease, and two senders never take the same one.
        `skip_chats`: chats this sender is still busy with (their notices go in order)."""
        query = (
            select(OutboxRow)
            .where(
                OutboxRow.done.is_(False),
                OutboxRow.due_at <= now,
                # What is owed to a group the bot may not write in waits until it may.
                OutboxRow.chat_id.not_in(_SILENT_GROUPS),
            )
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        if skip_chats:
            query = query.where(OutboxRow.chat_id.not_in(list(skip_chats)))
        if self._s.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(await self._s.scalars(query.execution_options(populate_existing=True)))
        if not rows:
            return []
        # Read the rows before the UPDATE: an ORM UPDATE also applies `attempts + 1` to the loaded
        # objects (synchronize_session), which would count this attempt twice.
        claimed = [
            PendingNotice(
                id=r.id,
                notice=Notice(NoticeKind(r.kind), r.chat_id, r.deal_id, r.user_id, r.ref),
                attempts=r.attempts + 1,
                created_at=r.created_at,
            )
            for r in rows
        ]
        await self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_([r.id for r in rows]))
            .values(due_at=now + timedelta(seconds=lease_seconds), attempts=OutboxRow.attempts + 1)
        )
        return claimed

    async def extend(self, notice_ids: Collection[int], until: datetime) -> None:
        """Renew the lease of notices still being sent: only a dead sender's lapse."""
        if notice_ids:
            await self._s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(notice_ids)), OutboxRow.done.is_(False))
                .values(due_at=until)
            )

    async def release_chat(self, chat_id: int, now: datetime) -> None:
        await self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.chat_id == chat_id, OutboxRow.done.is_(False), OutboxRow.due_at > now)
            .values(due_at=now)
        )

    async def sent(self, notice_id: int, now: datetime) -> None:
        await self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == notice_id)
            .values(done=True, sent_at=now, error=None)
        )

    async def failed(
        self, notice_id: int, error: str, retry_at: datetime | None, *, counted: bool = True
    ) -> None:
        """`counted=False`: this attempt does not count towards giving up (a 429: Telegram
        asked to wait, the notice did not fail)."""
        values: dict[str, Any] = {"error": error[:1000]}
        if not counted:
            values["attempts"] = OutboxRow.attempts - 1
        if retry_at is None:
            values["done"] = True  # permanent: e.g. the user never started the bot
        else:
            values["due_at"] = retry_at
        await self._s.execute(update(OutboxRow).where(OutboxRow.id == notice_id).values(**values))


class SqlDialogs:
    def __init__(self, session: Db) -> None:
        self._s = session

    async def get(self, user_id: int) -> tuple[str, dict[str, Any]] | None:
        row = (
            await self._s.execute(
                select(DialogRow)
                .where(DialogRow.user_id == user_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return (row.state, dict(row.data)) if row else None

    async def save(self, user_id: int, state: str, data: dict[str, Any], now: datetime) -> None:
        values = {"user_id": user_id, "state": state, "data": data, "updated_at": now}
        stmt = insert_for(self._s, DialogRow).values(**values)
        await self._s.execute(stmt.on_conflict_do_update(index_elements=["user_id"], set_=values))

    async def clear(self, user_id: int) -> None:
        await self._s.execute(delete(DialogRow).where(DialogRow.user_id == user_id))
