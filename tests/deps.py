"""The handlers' dependencies for tests on the fakes: nobody is a leader or a member unless a test
says so, and the rest is real (texts, caches, config)."""

from __future__ import annotations

from typing import Any

from bench.harness import NoLeaders, no_one
from bot.members import CachedMembers
from handlers.context import Config, Deps, KnownPeople
from messages.render import Renderer
from tests.fakes import FakeClock, FakeUnitOfWorkFactory


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
