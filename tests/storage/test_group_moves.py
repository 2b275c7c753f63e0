"""A group Telegram moved to a new chat id (groupbuy.group_moves), on the fakes, SQLite and
PostgreSQL alike: everything addressed to the old id is addressed to the new one, in one
transaction; rows the new chat already had give way; a second move changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from groupbuy.deals import close_deal
from groupbuy.group_moves import move_group
from groupbuy.model import CloseReason, Resident, User
from groupbuy.notices import Notice, NoticeKind
from groupbuy.orders import change_quantity
from groupbuy.ports import UnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
OLD, NEW = -5001, -1005001
LEADER, ANN, BOB = 7, 31, 32


async def _world(f: UnitOfWorkFactory) -> tuple[int, int, str]:
    """The old group: set up, two admins recorded, Ann's profile and order in an open deal
    whose post is up, a closed deal, a notice owed to the group, Bob in a dialog about it. The
    new chat: a blank community row and one admin recorded already. Returns (open deal, closed
    deal, Ann's code)."""
    async with f() as uow:
        await uow.communities.save(replace(community(OLD), name="Sunny Garden", configured=True))
        await uow.communities.save(replace(community(NEW), configured=False))  # never set up
        await uow.communities.record_admins(OLD, frozenset({LEADER, BOB}), T0)
        await uow.communities.record_admins(NEW, frozenset({LEADER}), T0)
        for uid in (LEADER, ANN, BOB):
            await uow.users.seen(User(uid, f"User {uid}", None, None, "en", started=True))
        ann = Resident(OLD, ANN, "1", "-", "101", None)
        await uow.users.save_resident(ann)
        spec = deal_spec(T0 + timedelta(days=1), item_spec("Lychee", price=3000, stock=9))
        open_deal = await uow.deals.add(OLD, LEADER, "CNY", spec, T0, None)
        closed = await uow.deals.add(OLD, LEADER, "CNY", spec, T0, None)
        await uow.deals.set_post(open_deal.id, OLD, 10)
        await uow.deals.set_post(closed.id, OLD, 11)
        change = await change_quantity(
            uow, open_deal.id, open_deal.items[0].id, ANN, 1, ann, T0, timedelta(minutes=30)
        )
        await close_deal(uow, closed.id, CloseReason.LEADER, T0)
        await uow.outbox.add([Notice(NoticeKind.DEADLINE_REMINDER, OLD, open_deal.id)], T0)
        await uow.dialogs.save(BOB, "setup", {"community": OLD, "step": "name"}, T0)
        await uow.commit()
    return open_deal.id, closed.id, change.order.code


async def test_everything_moves_once(any_factory: UnitOfWorkFactory) -> None:
    f = any_factory
    open_id, closed_id, code = await _world(f)
    async with f() as uow:
        assert await move_group(uow, OLD, NEW, T0)
        await uow.commit()

    async with f() as uow:
        assert await uow.communities.get(OLD) is None
        moved = await uow.communities.get(NEW)
        assert moved is not None and (moved.name, moved.configured) == ("Sunny Garden", True)
        assert await uow.users.resident(NEW, ANN) is not None
        assert await uow.users.resident(OLD, ANN) is None
        assert [await uow.communities.records_admin(NEW, u) for u in (LEADER, BOB)] == [True, True]
        assert not await uow.communities.records_admin(OLD, BOB)
        for deal_id in (open_id, closed_id):
            deal = await uow.deals.get(deal_id)
            assert deal is not None
            assert (deal.community_id, deal.post_chat_id, deal.post_message_id) == (NEW, NEW, None)
        order = await uow.orders.by_code(NEW, code)
        assert order is not None and order.user_id == ANN
        dialog = await uow.dialogs.get(BOB)
        assert dialog is not None and dialog[1]["community"] == NEW
        owed = await uow.outbox.claim(T0, 100, 10)
        await uow.commit()
    notices = sorted((p.notice.kind, p.notice.chat_id, p.notice.deal_id) for p in owed)
    assert notices == sorted(
        [
            (NoticeKind.DEADLINE_REMINDER, NEW, open_id),  # owed to the old id: now the new
            (NoticeKind.DEAL_FAILED, NEW, closed_id),  # (closed with no orders: it failed)
            (NoticeKind.DEAL_POST, NEW, open_id),  # the open deal's post, again; not the closed
            (NoticeKind.GROUP_MOVED, LEADER, open_id),  # its leader told
        ]
    )

    # Heard again (the other chat's service message, a 400): nothing moves, nothing is owed.
    async with f() as uow:
        assert not await move_group(uow, OLD, NEW, T0 + timedelta(seconds=1))
        await uow.commit()
    async with f() as uow:
        # (what the first move owed is leased until T0 + 10 s: anything new would show)
        assert await uow.outbox.claim(T0 + timedelta(seconds=1), 100, 10) == []


async def test_a_set_up_community_at_the_new_id_is_kept(any_factory: UnitOfWorkFactory) -> None:
    f = any_factory
    open_id, _, _ = await _world(f)
    async with f() as uow:
        await uow.communities.save(replace(community(NEW), name="Set up there", configured=True))
        await uow.commit()
    async with f() as uow:
        assert await move_group(uow, OLD, NEW, T0)
        await uow.commit()
    async with f() as uow:
        kept = await uow.communities.get(NEW)
        deal = await uow.deals.get(open_id)
    assert kept is not None and kept.name == "Set up there"
    assert deal is not None and deal.community_id == NEW
