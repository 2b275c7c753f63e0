"""Every op acts in the unit of work that read and checked its object (handlers.authority):
`as_leader` for a leader's op on a deal, `as_group_leader` for a group's leader,
`as_leader_named` for '/list 12' or the newest deal, `as_resident` for a resident's deal.
Telegram is asked only outside a unit of work, and only when the caches cannot say; a refusal
acts on nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest

from groupbuy.errors import DomainError, NotAnswered
from groupbuy.model import Community, Deal, DealStatus
from groupbuy.ports import UnitOfWork
from groupbuy.transaction_guard import refuse_inside
from handlers.authority import (
    Caller,
    Intent,
    as_group_leader,
    as_leader,
    as_leader_named,
    as_resident,
)
from handlers.context import Config, Deps, KnownPeople
from handlers.events import Chat, Person
from messages.render import Renderer
from tests.fakes import (
    FakeClock,
    FakeUnitOfWorkFactory,
    change_committed,
    community,
    deal_spec,
    item_spec,
)
from tests.fakes import open_deal_committed as open_deal

T = TypeVar("T")
GROUP = community(-100777)
OLGA, SAM = Person(10, "Olga"), Person(20, "Sam")


class Lookups:
    """An admin cache and a member cache in one: each knows `known` and answers `answer` when
    asked; asking inside a unit of work fails the test."""

    def __init__(self, known: bool | None, answer: bool | Exception) -> None:
        self._known, self._answer = known, answer
        self.asked = 0

    def known(self, chat_id: int, user_id: int) -> bool | None:
        return self._known

    async def _ask(self, method: str) -> bool:
        refuse_inside(method)
        self.asked += 1
        if isinstance(self._answer, Exception):
            raise self._answer
        return self._answer

    async def is_leader(self, chat_id: int, user_id: int) -> bool:
        return await self._ask("getChatAdministrators")

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return await self._ask("getChatMember")

    def note(self, chat_id: int, user_id: int, admin: bool) -> None:
        pass

    def forget(self, chat_id: int) -> None:
        pass

    def back_in(self, chat_id: int) -> None:
        pass

    def moved(self, old: int, new: int) -> None:
        pass


class Writer:
    """deps.write's group commit, reduced to what a test can see: how many pieces went
    through it."""

    def __init__(self, uows: FakeUnitOfWorkFactory) -> None:
        self._uows = uows
        self.pieces = 0

    async def __call__(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        self.pieces += 1
        async with self._uows() as uow:
            return await work(uow)


async def _world(
    leaders: Lookups, members: Lookups | None = None
) -> tuple[Deps, FakeUnitOfWorkFactory, Deal, Writer]:
    clock = FakeClock()
    uows = FakeUnitOfWorkFactory()
    writer = Writer(uows)
    deps = Deps(
        uow=uows,
        clock=clock,
        texts=Renderer(),
        leaders=leaders,
        config=Config(bot_username="groupbuy_bot"),
        people=KnownPeople(clock),
        members=members or Lookups(None, False),
        writer=writer,
    )
    spec = deal_spec(clock.now() + timedelta(days=1), item_spec("Lychee"))
    deal = await open_deal(uows, clock.now(), spec, GROUP)
    return deps, uows, deal, writer


def _group(person: Person, *, public: bool = False) -> Caller:
    return Caller(person, Chat(GROUP.chat_id, "supergroup", username="lychees" if public else None))


def _private(person: Person) -> Caller:
    return Caller.in_private(person)


async def _record_admin(uows: FakeUnitOfWorkFactory, person: Person) -> None:
    async with uows() as uow:
        await uow.communities.record_admins(
            GROUP.chat_id, frozenset({person.id}), FakeClock().now()
        )
        await uow.commit()


# --- a deal's leader ---------------------------------------------------------------------------


@pytest.mark.parametrize("known", [True, None])
async def test_the_act_runs_in_the_unit_of_work_that_checked(known: bool | None) -> None:
    leaders = Lookups(known, True)
    deps, _, deal, _ = await _world(leaders)
    seen: list[tuple[UnitOfWork, int]] = []

    async def act(uow: UnitOfWork, checked: Deal) -> str:
        seen.append((uow, checked.id))
        # The same unit of work still reads the deal it checked.
        assert (await uow.deals.get(checked.id)) is not None
        return "done"

    assert await as_leader(deps, _group(OLGA), deal.id, act) == "done"
    assert [d for _, d in seen] == [deal.id]
    assert leaders.asked == (0 if known else 1)  # asked only when the cache could not say


@pytest.mark.parametrize(
    ("known", "answer", "refusal"),
    [
        (False, True, "leaders_only"),  # the cache says no: not asked
        (None, False, "leaders_only"),  # asked: no
        (None, NotAnswered(), "lookup_unavailable"),  # Telegram could not say
    ],
)
async def test_a_refusal_acts_on_nothing(
    known: bool | None, answer: bool | Exception, refusal: str
) -> None:
    leaders = Lookups(known, answer)
    deps, _, deal, _ = await _world(leaders)
    acted = []

    async def act(uow: UnitOfWork, checked: Deal) -> None:
        acted.append(checked.id)

    with pytest.raises(DomainError) as refused:
        await as_leader(deps, _group(SAM), deal.id, act)
    assert refused.value.key == refusal
    assert acted == []


async def test_another_groups_deal_and_a_missing_one_read_the_same() -> None:
    deps, _, deal, _ = await _world(Lookups(True, True))

    async def act(uow: UnitOfWork, checked: Deal) -> None:
        raise AssertionError("must not act")

    elsewhere = Caller(OLGA, Chat(-100999, "supergroup"))
    with pytest.raises(DomainError) as foreign:
        await as_leader(deps, elsewhere, deal.id, act)
    with pytest.raises(DomainError) as missing:
        await as_leader(deps, elsewhere, deal.id + 1000, act)
    assert foreign.value.key == missing.value.key == "deal_not_in_group"


# --- a group's leader -------------------------------------------------------------------------


@pytest.mark.parametrize("known", [True, None])
async def test_a_group_leader_acts_in_the_unit_of_work_that_checked(known: bool | None) -> None:
    leaders = Lookups(known, True)
    deps, _, _, _ = await _world(leaders)
    seen: list[UnitOfWork] = []

    async def act(uow: UnitOfWork) -> Community | None:
        seen.append(uow)
        return await uow.communities.get(GROUP.chat_id)

    found = await as_group_leader(deps, _group(OLGA), GROUP.chat_id, act)
    assert found is not None and found.chat_id == GROUP.chat_id
    assert len(seen) == 1
    assert leaders.asked == (0 if known else 1)


async def test_in_private_a_group_leader_needs_the_bots_record_before_any_call() -> None:
    leaders = Lookups(None, True)
    deps, uows, _, _ = await _world(leaders)
    acted: list[int] = []

    async def act(uow: UnitOfWork) -> None:
        acted.append(1)

    with pytest.raises(DomainError) as refused:
        await as_group_leader(deps, _private(OLGA), GROUP.chat_id, act)
    assert refused.value.key == "leaders_only"
    assert (acted, leaders.asked) == ([], 0)  # a stranger in private costs no call

    await _record_admin(uows, OLGA)
    await as_group_leader(deps, _private(OLGA), GROUP.chat_id, act)
    assert (acted, leaders.asked) == ([1], 1)


async def test_an_anonymous_admin_acts_for_their_own_group_only() -> None:
    leaders = Lookups(False, False)
    deps, _, _, _ = await _world(leaders)
    anonymous = Caller(Person(1087968824, "Group"), Chat(GROUP.chat_id, "supergroup"), True)

    async def act(uow: UnitOfWork) -> str:
        return "done"

    assert await as_group_leader(deps, anonymous, GROUP.chat_id, act) == "done"
    with pytest.raises(DomainError) as refused:
        await as_group_leader(deps, anonymous, -100999, act)
    assert refused.value.key == "leaders_only"
    assert leaders.asked == 0


@pytest.mark.parametrize(
    ("known", "answer", "refusal"),
    [
        (False, True, "leaders_only"),
        (None, False, "leaders_only"),
        (None, NotAnswered(), "lookup_unavailable"),
    ],
)
async def test_a_group_leaders_refusal_acts_on_nothing(
    known: bool | None, answer: bool | Exception, refusal: str
) -> None:
    deps, _, _, _ = await _world(Lookups(known, answer))
    acted: list[int] = []

    async def act(uow: UnitOfWork) -> None:
        acted.append(1)

    with pytest.raises(DomainError) as refused:
        await as_group_leader(deps, _group(SAM), GROUP.chat_id, act)
    assert refused.value.key == refusal
    assert acted == []


# --- a deal named, or the newest --------------------------------------------------------------


async def test_the_newest_deal_is_found_and_acted_on_in_one_unit_of_work() -> None:
    deps, uows, deal, _ = await _world(Lookups(True, True))
    clock = FakeClock()
    newer = await open_deal(uows, clock.now(), deal_spec(clock.now() + timedelta(days=2)), GROUP)
    seen: list[tuple[UnitOfWork, int | None]] = []

    async def act(uow: UnitOfWork, found: Deal | None) -> None:
        seen.append((uow, found.id if found else None))
        assert found is None or await uow.deals.get(found.id) is not None

    await as_leader_named(deps, _group(OLGA), "", [DealStatus.OPEN], act)
    await as_leader_named(deps, _group(OLGA), str(deal.id), [DealStatus.OPEN], act)
    await as_leader_named(deps, _group(OLGA), "", [DealStatus.CLOSED], act)
    await as_leader_named(deps, _private(OLGA), "", [DealStatus.OPEN], act)  # no group meant
    assert [found for _, found in seen] == [newer.id, deal.id, None, None]


async def test_a_named_deal_of_another_group_reads_like_a_missing_one() -> None:
    deps, _, deal, _ = await _world(Lookups(True, True))

    async def act(uow: UnitOfWork, found: Deal | None) -> None:
        raise AssertionError("must not act")

    elsewhere = Caller(OLGA, Chat(-100999, "supergroup"))
    keys = []
    for named in (str(deal.id), str(deal.id + 1000)):
        with pytest.raises(DomainError) as refused:
            await as_leader_named(deps, elsewhere, named, list(DealStatus), act)
        keys.append(refused.value.key)
    assert keys == ["deal_not_in_group", "deal_not_in_group"]


# --- residents --------------------------------------------------------------------------------


async def test_a_press_in_the_deals_own_group_acts_without_asking() -> None:
    members = Lookups(None, False)
    deps, _, deal, writer = await _world(Lookups(None, False), members)
    seen: list[int] = []

    async def act(uow: UnitOfWork, checked: Deal) -> int:
        seen.append(checked.id)
        return checked.id

    assert await as_resident(deps, _group(SAM), deal.id, Intent.JOIN, act, grouped=True) == deal.id
    assert (seen, members.asked, writer.pieces) == ([deal.id], 0, 1)


@pytest.mark.parametrize(("answer", "acts"), [(True, True), (False, False)])
async def test_in_a_public_group_telegram_is_asked_once_outside_the_unit_of_work(
    answer: bool, acts: bool
) -> None:
    members = Lookups(None, answer)
    deps, _, deal, writer = await _world(Lookups(None, False), members)
    seen: list[int] = []

    async def act(uow: UnitOfWork, checked: Deal) -> None:
        seen.append(checked.id)

    if acts:
        await as_resident(deps, _group(SAM, public=True), deal.id, Intent.JOIN, act, grouped=True)
    else:
        with pytest.raises(DomainError) as refused:
            await as_resident(
                deps, _group(SAM, public=True), deal.id, Intent.JOIN, act, grouped=True
            )
        assert refused.value.key == "deal_not_in_group"
    assert seen == ([deal.id] if acts else [])
    assert members.asked == 1
    assert writer.pieces == (2 if acts else 1)  # tried again, with Telegram's answer


async def test_telegram_not_answering_refuses_and_acts_on_nothing() -> None:
    members = Lookups(None, NotAnswered())
    deps, _, deal, _ = await _world(Lookups(None, False), members)

    async def act(uow: UnitOfWork, checked: Deal) -> None:
        raise AssertionError("must not act")

    with pytest.raises(DomainError) as refused:
        await as_resident(deps, _group(SAM, public=True), deal.id, Intent.JOIN, act)
    assert refused.value.key == "lookup_unavailable"


@pytest.mark.parametrize("intent", [Intent.SEE, Intent.CHANGE, Intent.JOIN])
async def test_in_private_a_stranger_is_refused_without_a_call_but_a_buyer_is_not(
    intent: Intent,
) -> None:
    members = Lookups(None, True)
    deps, uows, deal, _ = await _world(Lookups(None, False), members)
    seen: list[Any] = []

    async def act(uow: UnitOfWork, checked: Deal) -> None:
        seen.append(checked.id)

    with pytest.raises(DomainError) as refused:
        await as_resident(deps, _private(SAM), deal.id, intent, act)
    assert refused.value.key == "deal_not_open_to_you"
    # A buyer's own order is theirs to see, reduce and pay; joining needs membership again.
    await change_committed(uows, FakeClock().now(), deal.id, deal.items[0].id, SAM.id, 1)
    if intent is Intent.JOIN:
        with pytest.raises(DomainError):
            await as_resident(deps, _private(SAM), deal.id, intent, act)
        assert seen == []
    else:
        await as_resident(deps, _private(SAM), deal.id, intent, act)
        assert seen == [deal.id]
    assert members.asked == 0


async def test_a_missing_deal_and_another_groups_read_the_same_to_a_resident() -> None:
    deps, _, deal, _ = await _world(Lookups(None, False), Lookups(True, True))

    async def act(uow: UnitOfWork, checked: Deal) -> None:
        raise AssertionError("must not act")

    keys = []
    elsewhere = Caller(SAM, Chat(-100999, "supergroup"))
    for caller, deal_id in ((elsewhere, deal.id), (elsewhere, deal.id + 1000)):
        with pytest.raises(DomainError) as refused:
            await as_resident(deps, caller, deal_id, Intent.JOIN, act)
        keys.append(refused.value.key)
    assert keys == ["deal_not_in_group", "deal_not_in_group"]
