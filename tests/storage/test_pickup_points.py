"""Pickup points on the fakes, SQLite and PostgreSQL: a community's points, the ones a deal
offers, the one each order is collected at, and each resident's default."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from groupbuy import limits
from groupbuy.deals import close_deal
from groupbuy.errors import DomainError
from groupbuy.model import CloseReason, PickupPoint, PointSpec, Resident, User
from groupbuy.orders import mark_picked_up
from groupbuy.pickup_points import add_point, choose_point, remove_point
from groupbuy.ports import UnitOfWorkFactory
from tests.fakes import change_committed, community, deal_spec, item_spec, open_deal_committed

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT, OTHER = community(-100501), community(-100502)
ANN, BOB = 2001, 2002


async def _points(factory: UnitOfWorkFactory) -> dict[str, PickupPoint]:
    """Office and Shop in CHAT; a Shop of OTHER's own."""
    found = {}
    async with factory() as uow:
        for chat in (CHAT, OTHER):
            await uow.communities.save(chat)
        for name in ("Office", "Shop"):
            found[name] = await add_point(uow, CHAT.chat_id, PointSpec(name, f"{name} St"), T0)
        found["their shop"] = await add_point(uow, OTHER.chat_id, PointSpec("Shop"), T0)
        for user in (ANN, BOB):
            await uow.users.seen(User(user, f"U{user}"))
            await uow.users.save_resident(Resident(CHAT.chat_id, user, "1", "", "10"))
        await uow.commit()
    return found


async def _home(factory: UnitOfWorkFactory, user: int) -> Resident:
    async with factory() as uow:
        found = await uow.users.resident(CHAT.chat_id, user)
    assert found is not None
    return found


async def test_a_communitys_points(any_factory: UnitOfWorkFactory) -> None:
    points = await _points(any_factory)
    async with any_factory() as uow:
        mine = await uow.points.of_community(CHAT.chat_id)
        assert [p.name for p in mine] == ["Office", "Shop"]
        assert mine[0].address == "Office St" and not mine[0].located
        with pytest.raises(DomainError) as same:
            await add_point(uow, CHAT.chat_id, PointSpec("office"), T0)
        assert same.value.key == "point_exists"
        # Another community's point is not this one's to remove.
        with pytest.raises(DomainError) as theirs:
            await remove_point(uow, CHAT.chat_id, points["their shop"].id, T0)
        assert theirs.value.key == "point_unknown"
        removed = await remove_point(uow, CHAT.chat_id, points["Shop"].id, T0)
        await uow.commit()
    assert removed.name == "Shop"
    async with any_factory() as uow:
        assert [p.name for p in await uow.points.of_community(CHAT.chat_id)] == ["Office"]
        kept = await uow.points.many([points["Shop"].id])
        assert kept[points["Shop"].id].removed  # still readable for the deals that offered it
        with pytest.raises(DomainError):
            await remove_point(uow, CHAT.chat_id, points["Shop"].id, T0)
        for n in range(limits.POINTS_MAX - 1):
            await add_point(uow, CHAT.chat_id, PointSpec(f"Lobby {n}"), T0)
        with pytest.raises(DomainError) as full:
            await add_point(uow, CHAT.chat_id, PointSpec("One more"), T0)
        assert full.value.key == "points_too_many"


async def test_a_deal_offers_the_points_its_pickup_names(any_factory: UnitOfWorkFactory) -> None:
    points = await _points(any_factory)
    spec = deal_spec(T0 + timedelta(days=1), item_spec(limit=None))
    deal = await open_deal_committed(
        any_factory, T0, replace(spec, pickup_place="shop / OFFICE"), CHAT
    )
    assert deal.points == (points["Shop"].id, points["Office"].id)
    assert deal.pickup_place == "Shop / Office"
    # A place that is not only names of points is a place of its own.
    plain = await open_deal_committed(
        any_factory, T0, replace(spec, pickup_place="Shop, gate 2"), CHAT
    )
    assert plain.points == () and plain.pickup_place == "Shop, gate 2"
    # The other community's deal naming "Shop" offers its own Shop.
    theirs = await open_deal_committed(any_factory, T0, replace(spec, pickup_place="Shop"), OTHER)
    assert theirs.points == (points["their shop"].id,)


async def test_each_order_has_a_point_and_the_choice_is_remembered(
    any_factory: UnitOfWorkFactory,
) -> None:
    points = await _points(any_factory)
    office, shop = points["Office"].id, points["Shop"].id
    spec = replace(
        deal_spec(T0 + timedelta(days=1), item_spec(limit=None)), pickup_place="Office / Shop"
    )
    first = await open_deal_committed(any_factory, T0, spec, CHAT)
    item = first.items[0].id
    change = await change_committed(
        any_factory, T0, first.id, item, ANN, 1, await _home(any_factory, ANN)
    )
    assert change.order.point == office  # the deal's first, until she chooses
    async with any_factory() as uow:
        order = await uow.orders.get(change.order.id)
        assert order is not None and order.point == office
        with pytest.raises(DomainError) as elsewhere:
            await choose_point(uow, first, order, points["their shop"].id, CHAT.chat_id)
        assert elsewhere.value.key == "point_not_offered"
        assert await choose_point(uow, first, order, shop, CHAT.chat_id)
        await uow.commit()
    async with any_factory() as uow:
        order = await uow.orders.get(change.order.id)
        assert order is not None and order.point == shop
        assert not await choose_point(uow, first, order, shop, CHAT.chat_id)  # already
    # Her default survives her editing her address, and her next order in a deal that offers
    # it gets it; Bob, who never chose, gets the deal's first.
    async with any_factory() as uow:
        await uow.users.save_resident(Resident(CHAT.chat_id, ANN, "2", "", "20"))
        await uow.commit()
    assert (await _home(any_factory, ANN)).point == shop
    second = await open_deal_committed(any_factory, T0, spec, CHAT)
    hers = await change_committed(
        any_factory, T0, second.id, second.items[0].id, ANN, 2, await _home(any_factory, ANN)
    )
    his = await change_committed(
        any_factory, T0, second.id, second.items[0].id, BOB, 1, await _home(any_factory, BOB)
    )
    assert (hers.order.point, his.order.point) == (shop, office)
    # A second unit keeps the order's point.
    more = await change_committed(
        any_factory, T0, second.id, second.items[0].id, BOB, 1, await _home(any_factory, BOB)
    )
    assert more.order.point == office
    # Handed out: where it was collected stays.
    async with any_factory() as uow:
        assert await close_deal(uow, second.id, CloseReason.LEADER, T0) is not None
        await mark_picked_up(uow, CHAT.chat_id, his.order.code, T0, by=7)
        await uow.commit()
    async with any_factory() as uow:
        order = await uow.orders.get(his.order.id)
        assert order is not None
        closed = await uow.deals.get(second.id)
        assert closed is not None
        with pytest.raises(DomainError) as handed:
            await choose_point(uow, closed, order, shop, CHAT.chat_id)
        assert handed.value.key == "point_after_pickup"
