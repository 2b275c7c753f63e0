"""A leader's button acts in the unit of work that read the deal and checked the presser
(handlers.authority.as_leader): nothing changes between the check and the act, Telegram is
asked only outside it, and only when the admin cache cannot say."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.members import CachedMembers
from groupbuy.errors import DomainError, NotAnswered
from groupbuy.model import Deal
from groupbuy.ports import UnitOfWork
from groupbuy.transaction_guard import refuse_inside
from handlers.authority import Caller, as_leader
from handlers.context import Config, Deps, KnownPeople
from handlers.events import Chat, Person
from messages.render import Renderer
from tests.fakes import FakeClock, FakeUnitOfWorkFactory, community, deal_spec, item_spec
from tests.fakes import open_deal_committed as open_deal

GROUP = community(-100777)
OLGA, SAM = Person(10, "Olga"), Person(20, "Sam")


class Leaders:
    """An admin cache that knows `known` and answers `answer` when asked."""

    def __init__(self, known: bool | None, answer: bool | Exception) -> None:
        self._known, self._answer = known, answer
        self.asked = 0

    def known(self, chat_id: int, user_id: int) -> bool | None:
        return self._known

    async def is_leader(self, chat_id: int, user_id: int) -> bool:
        refuse_inside("getChatAdministrators")  # never while a unit of work is open
        self.asked += 1
        if isinstance(self._answer, Exception):
            raise self._answer
        return self._answer

    def note(self, chat_id: int, user_id: int, admin: bool) -> None:
        pass

    def forget(self, chat_id: int) -> None:
        pass


async def _world(leaders: Leaders) -> tuple[Deps, Deal]:
    clock = FakeClock()
    uows = FakeUnitOfWorkFactory()

    async def nobody(chat_id: int, user_id: int) -> bool:
        return False

    deps = Deps(
        uow=uows,
        clock=clock,
        texts=Renderer(),
        leaders=leaders,
        config=Config(bot_username="groupbuy_bot"),
        people=KnownPeople(clock),
        members=CachedMembers(nobody, clock),
    )
    spec = deal_spec(clock.now() + timedelta(days=1), item_spec("Lychee"))
    deal = await open_deal(uows, clock.now(), spec, GROUP)
    return deps, deal


def _in_group(person: Person) -> Caller:
    return Caller(person, Chat(GROUP.chat_id, "supergroup"))


@pytest.mark.parametrize("known", [True, None])
async def test_the_act_runs_in_the_unit_of_work_that_checked(known: bool | None) -> None:
    leaders = Leaders(known, True)
    deps, deal = await _world(leaders)
    seen: list[tuple[UnitOfWork, int]] = []

    async def act(uow: UnitOfWork, checked: Deal) -> str:
        seen.append((uow, checked.id))
        # The same unit of work still reads the deal it checked.
        assert (await uow.deals.get(checked.id)) is not None
        return "done"

    assert await as_leader(deps, _in_group(OLGA), deal.id, act) == "done"
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
    leaders = Leaders(known, answer)
    deps, deal = await _world(leaders)
    acted = []

    async def act(uow: UnitOfWork, checked: Deal) -> None:
        acted.append(checked.id)

    with pytest.raises(DomainError) as refused:
        await as_leader(deps, _in_group(SAM), deal.id, act)
    assert refused.value.key == refusal
    assert acted == []


async def test_another_groups_deal_and_a_missing_one_read_the_same() -> None:
    deps, deal = await _world(Leaders(True, True))

    async def act(uow: UnitOfWork, checked: Deal) -> None:
        raise AssertionError("must not act")

    elsewhere = Caller(OLGA, Chat(-100999, "supergroup"))
    with pytest.raises(DomainError) as foreign:
        await as_leader(deps, elsewhere, deal.id, act)
    with pytest.raises(DomainError) as missing:
        await as_leader(deps, elsewhere, deal.id + 1000, act)
    assert foreign.value.key == missing.value.key == "deal_not_in_group"
