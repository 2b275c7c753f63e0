"""Shared fixtures: a standing clock and in-memory storage (see tests/fakes.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeClock, FakeStore, FakeUnitOfWorkFactory


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def uow_factory(store: FakeStore) -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory(store)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The order the tests ran in (pytest-randomly's seed), also under -q, which hides the
    header that names it: a failure that depends on it can be replayed."""
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.has_plugin("randomly") and isinstance(seed, int):
        terminalreporter.write_line(f"random order: replay with --randomly-seed={seed}")
