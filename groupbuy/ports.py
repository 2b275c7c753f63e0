"""What the use cases need from storage, as narrow Protocols; storage/ implements them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from groupbuy.model import (
    CloseReason,
    Community,
    Deal,
    DealSpec,
    DealStats,
    DealStatus,
    Order,
    Resident,
    User,
)
from groupbuy.notices import Notice, PendingNotice


class Communities(Protocol):
    async def get(self, chat_id: int) -> Community | None: ...
    async def save(self, community: Community) -> None: ...
    async def configured(self, limit: int) -> list[Community]:
        """Set-up communities, for finding the ones a person leads from a private chat."""
        ...


class Users(Protocol):
    async def get(self, user_id: int) -> User | None: ...
    async def seen(self, user: User) -> User:
        """Record a user's Telegram profile; keeps the chosen locale; `started` never goes back."""
        ...

    async def set_locale(self, user_id: int, locale: str | None) -> None: ...
    async def resident(self, community_id: int, user_id: int) -> Resident | None: ...
    async def save_resident(self, resident: Resident) -> None: ...
    async def residents(
        self, community_id: int, user_ids: Sequence[int]
    ) -> dict[int, Resident]: ...
    async def many(self, user_ids: Sequence[int]) -> dict[int, User]: ...


class Deals(Protocol):
    async def add(
        self,
        community_id: int,
        leader_id: int,
        currency: str,
        spec: DealSpec,
        now: datetime,
        remind_at: datetime | None,
    ) -> Deal: ...
    async def get(self, deal_id: int) -> Deal | None: ...
    async def set_post(self, deal_id: int, chat_id: int, message_id: int) -> None: ...
    async def reserve(self, deal_id: int, item_id: int, quantity: int) -> bool:
        """Take `quantity` of an item's stock in one conditional UPDATE; False if not enough."""
        ...

    async def release(self, deal_id: int, item_id: int, quantity: int) -> None: ...
    async def move(
        self,
        deal_id: int,
        src: DealStatus,
        dst: DealStatus,
        now: datetime,
        reason: CloseReason | None,
    ) -> bool:
        """Conditional status change; False if the deal was not in `src` (someone else won)."""
        ...

    async def due(self, now: datetime, limit: int) -> list[int]: ...
    async def claim_reminder(self, deal_id: int) -> bool:
        """Mark the reminder sent if it was not and the deal is open; False otherwise."""
        ...

    async def reminders_due(self, now: datetime, limit: int) -> list[int]: ...
    async def open_deals(self) -> list[Deal]: ...
    async def for_community(
        self, community_id: int, statuses: Sequence[DealStatus], limit: int
    ) -> list[Deal]: ...
    async def begin_change(self, deal_id: int) -> bool:
        """Bump the post version of an OPEN deal (so the post refresher edits it), locking its row.

        Every change to an open deal starts here; a deal closed meanwhile answers False. On
        PostgreSQL the row lock orders joins against a concurrent close.
        """
        ...

    async def touch_post(self, deal_id: int) -> None:
        """Bump the post version whatever the status (the post shows the closed form)."""
        ...

    async def stale_posts(self, limit: int) -> list[tuple[int, int]]:
        """(deal_id, version) of posts whose shown version is behind."""
        ...

    async def post_synced(self, deal_id: int, version: int) -> None: ...
    async def stats(self, deal_id: int) -> DealStats: ...


class Orders(Protocol):
    async def get(self, order_id: int) -> Order | None: ...
    async def of_user(self, deal_id: int, user_id: int) -> Order | None: ...
    async def open_order(
        self, deal_id: int, community_id: int, user_id: int, now: datetime
    ) -> Order:
        """The user's order in a deal, created empty with a fresh pickup code if absent."""
        ...

    async def change_line(self, order_id: int, item_id: int, delta: int, limit: int | None) -> bool:
        """Add `delta` to a line in one conditional UPDATE keeping 0 <= quantity <= limit."""
        ...

    async def for_deal(self, deal_id: int) -> list[Order]:
        """Orders with at least one unit, in creation order."""
        ...

    async def active_for_user(self, user_id: int, limit: int) -> list[tuple[Deal, Order]]: ...
    async def by_code(self, community_id: int, code: str) -> Order | None: ...
    async def mark_picked_up(self, order_id: int, now: datetime) -> bool: ...


class Outbox(Protocol):
    async def add(self, notices: Sequence[Notice], now: datetime) -> None: ...
    async def claim(self, now: datetime, limit: int, lease_seconds: int) -> list[PendingNotice]: ...
    async def sent(self, notice_id: int, now: datetime) -> None: ...
    async def failed(self, notice_id: int, error: str, retry_at: datetime | None) -> None: ...


class Dialogs(Protocol):
    """Multi-step conversations keep their state in the database, not in process memory."""

    async def get(self, user_id: int) -> tuple[str, dict[str, Any]] | None: ...
    async def save(self, user_id: int, state: str, data: dict[str, Any], now: datetime) -> None: ...
    async def clear(self, user_id: int) -> None: ...


class UnitOfWork(Protocol):
    communities: Communities
    users: Users
    deals: Deals
    orders: Orders
    outbox: Outbox
    dialogs: Dialogs

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Rolls back unless commit() was called."""
        ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
