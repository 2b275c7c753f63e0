"""The in-memory storage itself: transactions and the schema's rules.

(tests/storage/test_repositories.py runs the same repository checks on the fakes and on SQL.)
"""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta

import pytest

from groupbuy import ports
from groupbuy.model import Resident, User
from groupbuy.notices import Notice, NoticeKind
from tests.fakes import (
    FakeClock,
    FakeCommunities,
    FakeConflict,
    FakeDeals,
    FakeDialogs,
    FakeIntegrityError,
    FakeOrders,
    FakeOutbox,
    FakePayments,
    FakeStore,
    FakeUnitOfWork,
    FakeUnitOfWorkFactory,
    FakeUsers,
    community,
    deal_spec,
    open_deal_committed,
)


async def test_changes_are_invisible_until_commit(uow_factory: FakeUnitOfWorkFactory) -> None:
    chat = community()
    async with uow_factory() as writer, uow_factory() as reader:
        await writer.communities.save(chat)
        assert await reader.communities.get(chat.chat_id) is None
        await writer.commit()
        assert writer.committed
        assert await reader.communities.get(chat.chat_id) is None  # its own snapshot
    async with uow_factory() as uow:
        assert await uow.communities.get(chat.chat_id) == chat


async def test_concurrent_writes_to_one_record_conflict(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    deal = await open_deal_committed(
        uow_factory, clock.now(), deal_spec(clock.now() + timedelta(days=1))
    )
    async with uow_factory() as first, uow_factory() as second:
        assert await first.deals.reserve(deal.id, deal.items[0].id, 1) is not None
        assert await second.deals.reserve(deal.id, deal.items[0].id, 1) is not None
        await first.commit()
        with pytest.raises(FakeConflict):
            await second.commit()
    # different records merge fine
    async with uow_factory() as first, uow_factory() as second:
        await first.dialogs.save(1, "a", {}, clock.now())
        await second.dialogs.save(2, "b", {}, clock.now())
        await first.commit()
        await second.commit()
    async with uow_factory() as uow:
        assert await uow.dialogs.get(1) == ("a", {})
        assert await uow.dialogs.get(2) == ("b", {})
        got = await uow.deals.get(deal.id)
        assert got is not None and got.items[0].sold == 1


async def test_outbox_unique_across_concurrent_commits(
    uow_factory: FakeUnitOfWorkFactory, store: FakeStore, clock: FakeClock
) -> None:
    notice = Notice(NoticeKind.DEAL_CLOSED, -1, 5)
    async with uow_factory() as first, uow_factory() as second:
        await first.outbox.add([notice], clock.now())
        await second.outbox.add([notice], clock.now())
        await first.commit()
        await second.commit()
    assert store.notices() == [notice]


async def test_schema_rules(uow_factory: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    async with uow_factory() as uow:
        with pytest.raises(FakeIntegrityError):
            await uow.deals.add(-1, 7, "CNY", deal_spec(clock.now()), clock.now(), None)
        with pytest.raises(FakeIntegrityError):
            await uow.users.save_resident(Resident(-1, 1, "1", "1", "1"))
        await uow.communities.save(community(-1))
        with pytest.raises(FakeIntegrityError):
            await uow.users.save_resident(Resident(-1, 1, "1", "1", "1"))
        await uow.users.seen(User(1, "Li"))
        await uow.users.save_resident(Resident(-1, 1, "1", "1", "1"))
        with pytest.raises(ValueError, match="naive"):
            await uow.outbox.add([Notice(NoticeKind.DEAL_CLOSED, -1, 1)], datetime(2026, 1, 1))
        with pytest.raises(TypeError):
            await uow.dialogs.save(1, "s", {"when": clock.now()}, clock.now())


async def test_usage_outside_a_transaction_is_an_error(
    uow_factory: FakeUnitOfWorkFactory,
) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError):
        await uow.communities.get(1)


@pytest.mark.parametrize(
    ("port", "fake"),
    [
        (ports.Communities, FakeCommunities),
        (ports.Users, FakeUsers),
        (ports.Deals, FakeDeals),
        (ports.Orders, FakeOrders),
        (ports.Outbox, FakeOutbox),
        (ports.Dialogs, FakeDialogs),
        (ports.Payments, FakePayments),
        (ports.UnitOfWork, FakeUnitOfWork),
    ],
)
def test_the_fakes_implement_every_port_method(port: type, fake: type) -> None:
    """When a port grows a method, this says the fakes need it too."""
    for name, member in vars(port).items():
        if name.startswith("_") and name not in {"__aenter__", "__aexit__"}:
            continue
        if not inspect.isfunction(member):
            continue
        assert hasattr(fake, name), f"{fake.__name__} lacks {name}"
        wanted = list(inspect.signature(member).parameters)
        assert list(inspect.signature(getattr(fake, name)).parameters) == wanted, name


def test_the_fake_unit_of_work_has_every_repository() -> None:
    """When the unit of work grows a repository, this says the fakes need it too."""
    wanted = set(ports.UnitOfWork.__annotations__)
    uow = FakeUnitOfWork(FakeStore())
    for name in wanted:
        assert hasattr(uow, name), f"FakeUnitOfWork lacks {name}"
    assert wanted <= set(FakeUnitOfWork.__annotations__)
