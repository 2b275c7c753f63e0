"""The pickup list is drawn off the event loop, and drawn once while nothing on it changes
(handlers.pickup_list.documents, handlers.drawn_lists)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from groupbuy.deals import close_deal
from groupbuy.model import CloseReason, Deal, DealStatus, Resident, User
from handlers import pickup_list
from handlers.actions import Later, Send, SendDocument
from handlers.context import Deps
from handlers.drawn_lists import Drawn, DrawnLists, Printout
from messages.pickup_list import render_pdf
from tests.deps import fake_deps
from tests.fakes import (
    FakeClock,
    FakeUnitOfWorkFactory,
    change_committed,
    community,
    deal_spec,
    item_spec,
)
from tests.fakes import open_deal_committed as open_deal

GROUP = community(-100555)
LEADER = 500


async def _world(buyers: int = 40) -> tuple[Deps, FakeUnitOfWorkFactory, Deal]:
    clock = FakeClock()
    uows = FakeUnitOfWorkFactory()
    deps = fake_deps(uows, clock)
    spec = deal_spec(clock.now() + timedelta(days=1), item_spec("Lychee", stock=1000, limit=None))
    deal = await open_deal(uows, clock.now(), spec, GROUP)
    async with uows() as uow:
        await uow.users.seen(User(LEADER, "Lin"))
        for n in range(buyers):
            uid = 1000 + n
            await uow.users.seen(User(uid, f"Neighbour {n}"))
            await uow.users.save_resident(
                Resident(GROUP.chat_id, uid, str(1 + n % 12), "1", f"{n}")
            )
        await uow.commit()
    for n in range(buyers):
        await change_committed(uows, clock.now(), deal.id, deal.items[0].id, 1000 + n, 1 + n % 3)
    async with uows() as uow:
        closed = await close_deal(uow, deal.id, CloseReason.LEADER, clock.now())
        await uow.commit()
    assert closed is not None and closed.status is DealStatus.CLOSED
    async with uows() as uow:
        fresh = await uow.deals.get(deal.id)
    assert fresh is not None
    return deps, uows, fresh


def _parts(actions: list[Any]) -> list[Any]:
    """The actions, a long answer's parts made (the runtime sends them after the update)."""
    return [p for a in actions for p in (a.parts() if isinstance(a, Later) else [a])]


def _documents(actions: list[Any]) -> list[SendDocument]:
    return [p for p in _parts(actions) if isinstance(p, SendDocument)]


async def test_the_list_is_drawn_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    deps, _, deal = await _world()
    threads: list[int] = []

    def spied(*args: Any, **kwargs: Any) -> bytes:
        threads.append(threading.get_ident())
        return render_pdf(*args, **kwargs)

    monkeypatch.setattr(pickup_list, "render_pdf", spied)
    actions = await pickup_list.documents(deps, deal, LEADER, "en")
    assert threads and threads[0] != threading.get_ident()  # not the event loop's thread
    pdf, csv = _documents(actions)
    assert pdf.filename.endswith(".pdf") and pdf.content.startswith(b"%PDF")
    assert csv.content.count(b"\n") == 41  # a header and one row per buyer
    assert [a.chat_id for a in actions if isinstance(a, Later)] == [LEADER]
    sent = [a for a in _parts(actions) if isinstance(a, Send)]
    assert sent and all(s.chat_id == LEADER for s in sent)


async def test_a_second_press_sends_the_same_list_without_drawing_it_again() -> None:
    deps, _, deal = await _world()
    first = await pickup_list.documents(deps, deal, LEADER, "en")
    again = await pickup_list.documents(deps, deal, LEADER + 1, "en")  # another leader
    assert (deps.lists.drawn, deps.lists.reused) == (1, 1)
    assert [d.content for d in _documents(first)] == [d.content for d in _documents(again)]
    assert all(a.chat_id == LEADER + 1 for a in _parts(again))
    await pickup_list.documents(deps, deal, LEADER, "zh_Hans")  # another language: drawn
    assert deps.lists.drawn == 2


async def test_any_change_on_the_list_draws_it_afresh() -> None:
    deps, uows, deal = await _world()
    before = _documents(await pickup_list.documents(deps, deal, LEADER, "en"))
    async with uows() as uow:
        order = await uow.orders.of_user(deal.id, 1003)
        assert order is not None
        assert await uow.orders.mark_picked_up(order.id, deps.clock.now(), LEADER)
        await uow.commit()
    after = _documents(await pickup_list.documents(deps, deal, LEADER, "en"))
    assert deps.lists.drawn == 2 and deps.lists.reused == 0
    assert before[1].content != after[1].content  # the CSV now marks it picked up


def test_the_kept_lists_are_few_and_the_oldest_go_first() -> None:
    lists = DrawnLists(size=2)
    drawn = Drawn((Printout("list", b"%PDF", ""),), b"csv", ())
    for deal_id in (1, 2, 3):
        lists.put(deal_id, "en", "source", drawn)
    assert lists.get(1, "en", "source") is None
    assert lists.get(3, "en", "source") is drawn
    assert lists.get(3, "en", "another source") is None  # drawn from other contents
