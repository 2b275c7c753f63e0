"""Deals.get_for: the deal and where the presser lives in its community, read together (a
resident's press needs both; one statement fewer a join), on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from groupbuy.model import Resident, User
from groupbuy.ports import UnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec, open_deal_committed

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
HOME = community(-100777)
ELSEWHERE = community(-100778)


async def test_the_deal_comes_with_the_profile_in_its_own_community_only(
    any_factory: UnitOfWorkFactory,
) -> None:
    spec = deal_spec(
        T0 + timedelta(days=1), item_spec("Lychee", stock=5), item_spec("Milk", stock=9)
    )
    deal = await open_deal_committed(any_factory, T0, spec, HOME)
    await open_deal_committed(any_factory, T0, spec, ELSEWHERE)
    here = Resident(HOME.chat_id, 1, "2", "1", "301", None)
    async with any_factory() as uow:
        for uid in (1, 2, 3):
            await uow.users.seen(User(uid, f"User {uid}", None, None, "en", started=True))
        await uow.users.save_resident(here)
        await uow.users.save_resident(Resident(ELSEWHERE.chat_id, 2, "9", "9", "909", "555"))
        await uow.commit()

    async with any_factory() as uow:
        plain = await uow.deals.get(deal.id)
        mine = await uow.deals.get_for(deal.id, 1)
        stranger = await uow.deals.get_for(deal.id, 2)  # a profile, in another community
        nobody = await uow.deals.get_for(deal.id, 3)
        missing = await uow.deals.get_for(deal.id + 1000, 1)
    assert plain is not None and len(plain.items) == 2
    assert mine == (plain, here)
    assert stranger == (plain, None)
    assert nobody == (plain, None)
    assert missing is None
