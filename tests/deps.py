"""The handlers' dependencies for tests on the fakes: nobody is a leader or a member unless a test
says so, and the rest is real (texts, caches, config)."""

from __future__ import annotations

from typing import Any

from bot.members import CachedMembers
from handlers.context import Config, Deps, KnownPeople
from messages.render import Renderer
from tests.fakes import FakeClock, FakeUnitOfWorkFactory


async def no_one(chat_id: int, user_id: int) -> bool:
    return False


class NoLeaders:
    async def is_leader(self, chat_id: int, user_id: int) -> bool:
        return False

    def known(self, chat_id: int, user_id: int) -> bool | None:
        return False

    def note(self, chat_id: int, user_id: int, admin: bool) -> None:
        pass

    def forget(self, chat_id: int) -> None:
        pass


def fake_deps(uows: FakeUnitOfWorkFactory, clock: FakeClock, **overrides: Any) -> Deps:
    values: dict[str, Any] = {
        "uow": uows,
        "clock": clock,
        "texts": Renderer(),
        "leaders": NoLeaders(),
        "config": Config(bot_username="groupbuy_bot"),
        "people": KnownPeople(clock),
        "members": CachedMembers(no_one, clock),
    }
    return Deps(**(values | overrides))
